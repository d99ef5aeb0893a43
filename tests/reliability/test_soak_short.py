"""The soak's short form (`bench/soak.py --seconds 10`): HTTP and stdio clients reading and writing for 10 s
against real `serve` subprocesses while the scrape job runs against the simulated TikTok site. Nothing fails,
the job keeps running, and no server's memory runs away. `TRACKAGOAT_SOAK_SECONDS` sets the seconds of load
(a longer run in the suite: `TRACKAGOAT_SOAK_SECONDS=120 .venv/bin/pytest tests/reliability/test_soak_short.py`);
the long form and its numbers: bench/README.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"
SECONDS = float(os.environ.get("TRACKAGOAT_SOAK_SECONDS", "10"))
"""Seconds of load after the warm-up. Ten hold hundreds of calls, and the servers' lives more than the two scrape
cycles asserted below; minutes of load, where a slow leak would show, are the long form's (bench/README.md)."""


@pytest.mark.slow
def test_a_short_mixed_load_over_http_and_stdio_while_the_scraper_runs_loses_nothing():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKAGOAT_")}
    done = subprocess.run(
        [sys.executable, str(SOAK), "--seconds", f"{SECONDS:g}", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=220 + SECONDS,
        check=False,
    )
    assert done.stdout.strip(), f"no report (exit {done.returncode}):\n{done.stderr[-3000:]}"
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert report["errors"] == 0 and report["warmup_errors"] == 0, report["error_samples"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert report["calls"] >= 100 and report["writes"] >= 20, report
    assert report["clients"] == {"http": 3, "stdio": 2}
    assert report["job_runs"].get("scrape:ok", 0) >= 2, report["job_runs"]
    assert report["tiktok_requests"] > 0
    for kind in ("http", "stdio"):
        for start, end in zip(report["rss_kib_start"][kind], report["rss_kib_end"][kind], strict=True):
            assert end < start * 1.5, f"{kind} server memory grew from {start} to {end} KiB in {SECONDS:g} s"
