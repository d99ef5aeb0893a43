"""The benchmark scripts run as `python bench/<script>.py`, which puts `bench/` first on `sys.path`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_no_bench_script_is_named_like_a_standard_library_module() -> None:
    shadowing = sorted(path.name for path in BENCH.glob("*.py") if path.stem in sys.stdlib_module_names)
    assert shadowing == [], f"these bench/ files hide standard-library modules from every bench script: {shadowing}"


@pytest.mark.slow
def test_accrual_history_quick_form_runs_and_its_checks_pass() -> None:
    """`bench/accrual_history.py`'s quick form: the generated history is what the job expects (its one real run
    evaluates only yesterday and sets every mark), and the idle runs evaluate nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKAGOAT_")}
    done = subprocess.run(
        [sys.executable, str(BENCH / "accrual_history.py"), "--creators", "20", "--days", "30", "--runs", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "MISMATCH" not in done.stdout
    assert "days planned: before 620, after 20" in done.stdout
