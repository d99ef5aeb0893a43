"""Cost per page of the browser fetcher against the plain HTTP client, on the simulated TikTok site.

The site runs in this process under uvicorn on loopback (so its CPU shows in both sides alike). Three ways of
getting one profile page, each fetched and parsed, in alternating rounds (plain, browser, challenged browser,
then again), so a machine busy with other work affects all three alike:

1. **plain**: `TikTokClient.fetch_profile` over httpx (the baseline);
2. **browser**: the same page loaded in headless Chromium by `BrowserFetcher` (a new tab per page, the browser
   kept running, as the scraper uses it), then parsed;
3. **browser, challenged**: the page behind the site's script challenge, met afresh on every page (a new seed
   each time, so the last page's pass cookie does not fit): the challenge page, its script (a SHA-256 through
   `crypto.subtle`), the reload with the pass cookie, the real page.

Memory: the resident set of this process (the plain client's side) and the summed resident sets of the
Chromium processes and Playwright's driver, read from `/proc` (Linux only), once the browser has loaded pages.

    .venv/bin/python bench/browser_fetch.py                 # 5 rounds × 20 pages each way (~1 min)
    .venv/bin/python bench/browser_fetch.py --rounds 2 --pages 5   # quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx2

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.demo import serve_site
from trackagoat_mcp.tiktok.browser import BrowserFetcher, browser_available
from trackagoat_mcp.tiktok.client import BROWSER_HEADERS, TikTokClient
from trackagoat_mcp.tiktok.parsing import parse_profile_page
from trackagoat_mcp.tiktok.sim import Fault, SimAccount, SimulatedTikTok, SimVideo

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def rss_kb(pid: int, field: str = "VmRSS:", source: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages split among the processes sharing them (so sums do not double-count)."""
    return rss_kb(pid, "Pss:", "smaps_rollup")


def descendants(root: int) -> list[int]:
    """Every process below `root` (Playwright's driver, Chromium and its helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def browser_memory_mb() -> tuple[float, float, float, int]:
    """(Chromium's RSS sum, Chromium's PSS sum, the driver's PSS, Chromium processes) below this process, in MB."""
    chromium_rss = chromium_pss = driver = 0
    count = 0
    for pid in descendants(os.getpid()):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if name.startswith("chrom"):
            chromium_rss += rss_kb(pid)
            chromium_pss += pss_kb(pid)
            count += 1
        else:
            driver += pss_kb(pid)
    return chromium_rss / 1024, chromium_pss / 1024, driver / 1024, count


def site(pages: int) -> SimulatedTikTok:
    sim = SimulatedTikTok(clock=FrozenClock(NOW))
    for i in range(pages):
        videos = [SimVideo.posted(NOW - timedelta(hours=3 + j), i * 16 + j, description=f"p{j}") for j in range(8)]
        sim.add_account(SimAccount(f"bench_{i:03d}", followers=1_000 + i, videos=videos))
    return sim


async def run(rounds: int, pages: int, executable: str) -> int:
    reason = browser_available(executable)
    if reason is not None:
        print(f"cannot run: {reason}")
        return 2
    sim = site(pages)
    handles = [f"bench_{i:03d}" for i in range(pages)]
    timings: dict[str, list[float]] = {"plain": [], "browser": [], "browser, challenged": []}
    async with serve_site(sim) as base_url, httpx2.AsyncClient() as http:
        client = TikTokClient(http, base_url=base_url, rate=None, clock=FrozenClock(NOW))
        fetcher = BrowserFetcher(
            executable=executable,
            user_agent=BROWSER_HEADERS["User-Agent"],
            timeout=30.0,
            no_sandbox=hasattr(os, "geteuid") and os.geteuid() == 0,
        )
        started = time.perf_counter()
        await fetcher.fetch(f"{base_url}/@{handles[0]}")  # launch, outside the timed rounds
        launch_s = time.perf_counter() - started
        memory = (0.0, 0.0, 0.0, 0)
        try:
            for round_no in range(rounds):
                began = time.perf_counter()
                for handle in handles:
                    result = await client.fetch_profile(handle)
                    assert result.ok
                timings["plain"].append((time.perf_counter() - began) / pages)

                began = time.perf_counter()
                for handle in handles:
                    page = await fetcher.fetch(f"{base_url}/@{handle}")
                    assert parse_profile_page(page.text, handle).ok
                timings["browser"].append((time.perf_counter() - began) / pages)
                memory = max(memory, browser_memory_mb())

                served = sum(sim.count(f"/@{h}") for h in handles)
                began = time.perf_counter()
                for n, handle in enumerate(handles):
                    # A new seed per page: the pass cookie of the last page does not fit, so each page is challenged.
                    sim.set_fault(Fault("script_challenge", seed=f"round-{round_no}-{n}"))
                    page = await fetcher.fetch(f"{base_url}/@{handle}")
                    assert parse_profile_page(page.text, handle).ok
                timings["browser, challenged"].append((time.perf_counter() - began) / pages)
                loads = sum(sim.count(f"/@{h}") for h in handles) - served
                assert loads >= 2 * pages, f"{loads} loads for {pages} challenged pages: the challenge was not met"
                sim.clear_faults()
        finally:
            await fetcher.aclose()
    own_mb = pss_kb(os.getpid()) / 1024
    chromium_rss, chromium_pss, driver_mb, processes = memory
    plain = statistics.median(timings["plain"])
    print(f"{rounds} rounds x {pages} profile pages each way; machine shared with other work, medians of rounds")
    print(f"Chromium launch (first page included): {launch_s * 1000:.0f} ms")
    print(f"{'way':<22}{'ms/page':>10}{'x plain':>10}")
    for way, values in timings.items():
        ms = statistics.median(values) * 1000
        print(f"{way:<22}{ms:>10.1f}{statistics.median(values) / plain:>9.1f}x")
    print(
        f"memory (PSS, shared pages split): this process {own_mb:.0f} MB; Chromium {chromium_pss:.0f} MB over "
        f"{processes} processes (their RSS summed: {chromium_rss:.0f} MB), Playwright's driver {driver_mb:.0f} MB; "
        f"browser side {(chromium_pss + driver_mb) / own_mb:.1f}x this process"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--executable", default=os.environ.get("TRACKAGOAT_BROWSER_EXECUTABLE", "/usr/bin/chromium"))
    args = parser.parse_args()
    return anyio.run(run, args.rounds, args.pages, args.executable)


if __name__ == "__main__":
    sys.exit(main())
