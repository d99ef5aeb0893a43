"""Scraper throughput: N profiles and N×M videos from the simulated TikTok site over real loopback HTTP.

The simulated site runs in a child process under uvicorn (so its CPU is not ours), pacing is off, and each
concurrency level runs three measurements in this process:

1. **Scrape cycle**: `run_scrape_cycle` over N fresh creators into a fresh SQLite store — one profile page and
   one item-list page per creator (M videos each fit one list page), every video discovered and snapshotted.
   This is the real job end to end: HTTP, parsing and the store's writes.
2. **Video pages**: the N×M video pages fetched and parsed with `TikTokClient.fetch_video` (no store).
3. Reported per row: pages per second (wall), CPU milliseconds per page (`resource.getrusage` of this
   process: user + system), and peak resident memory of this process so far.

Finally the parser's cost per page against a bare `json.loads` of the same embedded JSON blob (profile page,
video page, item-list page): the ratio says what extracting and reading the blob adds (target ≤ 2×).

    .venv/bin/python bench/scrape.py                            # 1,000 creators × 10 videos, concurrency 1, 4, 8
    .venv/bin/python bench/scrape.py --creators 200 --levels 4  # quick
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import shutil
import socket
import sys
import time
import timeit
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators, orgs, projects
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller
from trackagoat_mcp.jobs.scraper import ScrapeSettings, run_scrape_cycle
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.parsing import (
    UNIVERSAL_SCRIPT_ID,
    parse_item_list,
    parse_profile_page,
    parse_video_page,
)
from trackagoat_mcp.tiktok.sim import SimAccount, SimulatedTikTok, SimVideo
from trackagoat_mcp.tiktok.sim_pages import (
    render_item_list,
    render_profile_page,
    render_universal_page,
    render_video_page,
)

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / ".data"
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
TARGET_PARSER_RATIO = 2.0
PADDING_KB = 60
"""Other modules added to a page for the "realistic size" parser rows (the simulated site serves only ours)."""


def accounts(creators_n: int, videos_n: int) -> list[SimAccount]:
    """Deterministic accounts, each with `videos_n` posts from the last few days."""
    return [
        SimAccount(
            f"bench_{i:05d}",
            followers=1_000 + i,
            videos=[
                SimVideo.posted(
                    NOW - timedelta(hours=6 + 7 * j), i * 64 + j, description=f"post {j}", base_plays=100 * j
                )
                for j in range(videos_n)
            ],
        )
        for i in range(creators_n)
    ]


# --- the site, in a child process --------------------------------------------------------------------------


def _serve_site(creators_n: int, videos_n: int, ports: Any) -> None:
    import uvicorn

    site = SimulatedTikTok(clock=FrozenClock(NOW))
    for account in accounts(creators_n, videos_n):
        site.add_account(account)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # see demo.serve_site
    sock.bind(("127.0.0.1", 0))
    ports.put(sock.getsockname()[1])
    config = uvicorn.Config(site.app, log_level="error", lifespan="on", access_log=False, backlog=4096)
    uvicorn.Server(config).run(sockets=[sock])


def start_site(creators_n: int, videos_n: int) -> tuple[Any, str]:
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    child = context.Process(target=_serve_site, args=(creators_n, videos_n, ports), daemon=True)
    child.start()
    port = ports.get(timeout=60)
    base_url = f"http://127.0.0.1:{port}"
    for _ in range(200):  # wait until it answers
        try:
            httpx2.get(f"{base_url}/@bench_00000", timeout=1.0)
            break
        except httpx2.TransportError:
            time.sleep(0.05)
    return child, base_url


# --- measurements ------------------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    concurrency: int
    pages: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    failures: int = 0

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall_s

    @property
    def cpu_ms_per_page(self) -> float:
        return self.cpu_s * 1000 / self.pages


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _fresh_copy_dir(template: Path) -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    template.unlink(missing_ok=True)


def _fresh_copy(template: Path, path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, path)


async def seeded_store(template: Path, path: Path, creators_n: int) -> Database:
    """A copy of the migrated template with one organization, one project and `creators_n` creators."""
    _fresh_copy(template, path)
    db = Database.connect(f"sqlite+aiosqlite:///{path}")
    async with db.write() as session:
        org = await orgs.create_org(session, name="Bench", now=NOW)
        caller = Caller(org.id, frozenset(ALL_SCOPES))
        project = await projects.create_project(session, caller, name="Bench program", now=NOW)
    handles = [f"bench_{i:05d}" for i in range(creators_n)]
    for start in range(0, creators_n, 50):
        async with db.write() as session:
            await creators.add_creators(
                session,
                caller,
                project_id=project.id,
                handles=handles[start : start + 50],
                now=NOW,
                tracking_start_date=date(2026, 1, 1),
            )
    return db


def client_for(http: httpx2.AsyncClient, base_url: str, concurrency: int) -> TikTokClient:
    return TikTokClient(http, base_url=base_url, rate=None, max_concurrency=concurrency, clock=FrozenClock(NOW))


async def measure_cycle(base_url: str, db: Database, concurrency: int, videos_n: int) -> Row:
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(limits=limits, timeout=60.0) as http:
        client = client_for(http, base_url, concurrency)
        settings = ScrapeSettings(concurrency=concurrency)
        cpu, wall = _cpu(), time.perf_counter()
        report = await run_scrape_cycle(db, client, FrozenClock(NOW), settings, worker_id="bench")
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    if report.videos_discovered != report.creators_scraped * videos_n:
        raise SystemExit(f"the cycle did not discover every video: {report.as_json()}")
    return Row("scrape cycle", concurrency, report.fetches, wall, cpu, _peak_rss_mb(), sum(report.failures.values()))


async def measure_video_pages(base_url: str, creators_n: int, videos_n: int, concurrency: int) -> Row:
    targets = [
        (account.handle, video.video_id) for account in accounts(creators_n, videos_n) for video in account.videos
    ]
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(limits=limits, timeout=60.0) as http:
        client = client_for(http, base_url, concurrency)
        queue = iter(targets)
        failures = 0

        async def worker() -> None:
            nonlocal failures
            for handle, video_id in queue:
                result = await client.fetch_video(handle, video_id)
                failures += not result.ok

        cpu, wall = _cpu(), time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(concurrency):
                group.start_soon(worker)
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    if failures:
        raise SystemExit(f"{failures} video pages did not parse as ok")
    return Row("video pages", concurrency, len(targets), wall, cpu, _peak_rss_mb())


def _blob(html: str) -> str:
    start = html.index(f'id="{UNIVERSAL_SCRIPT_ID}"')
    return html[html.index(">", start) + 1 : html.index("</script>", start)]


def _padded(html: str, kilobytes: int) -> str:
    """The same page with `kilobytes` of other modules in its blob, as TikTok's real pages carry (i18n, SEO, …)."""
    scope = json.loads(_blob(html))["__DEFAULT_SCOPE__"]
    filler = {f"key_{i}": "translated interface text of a real page" for i in range(kilobytes * 1024 // 56)}
    return render_universal_page({**scope, "webapp.i18n-translation": filler})


def parser_costs(videos_n: int, number: int) -> list[tuple[str, float, float]]:
    """(page kind, parser µs per page, json.loads µs per page) for one page of each kind."""
    account = accounts(1, max(videos_n, 10))[0]
    video_id = account.videos[0].video_id
    profile = render_profile_page(account, NOW)
    video = render_video_page(account, account.videos[0], NOW)
    item_list = render_item_list(account, NOW, cursor=0, count=30)
    big_profile, big_video = _padded(profile, PADDING_KB), _padded(video, PADDING_KB)
    cases = [
        ("profile page", lambda: parse_profile_page(profile, account.handle), _blob(profile)),
        ("video page", lambda: parse_video_page(video, video_id), _blob(video)),
        ("item list (JSON)", lambda: parse_item_list(item_list), item_list),
        (f"profile +{PADDING_KB} KB", lambda: parse_profile_page(big_profile, account.handle), _blob(big_profile)),
        (f"video +{PADDING_KB} KB", lambda: parse_video_page(big_video, video_id), _blob(big_video)),
    ]
    rows = []
    for kind, parse, blob in cases:
        assert parse().ok, kind
        ours, bare = [], []
        for _ in range(7):  # alternate, so that drift of a shared machine hits both series alike; keep the best
            ours.append(timeit.timeit(parse, number=number) / number)
            bare.append(timeit.timeit(lambda b=blob: json.loads(b), number=number) / number)  # type: ignore[misc]
        rows.append((kind, min(ours) * 1e6, min(bare) * 1e6))
    return rows


async def run(args: argparse.Namespace) -> None:
    template = DATA_DIR / "scrape_template.db"
    _fresh_copy_dir(template)
    await upgrade(f"sqlite+aiosqlite:///{template}")
    child, base_url = start_site(args.creators, args.videos)
    rows: list[Row] = []
    try:
        for level in args.levels:
            db = await seeded_store(template, DATA_DIR / f"scrape_c{level}.db", args.creators)
            try:
                rows.append(await measure_cycle(base_url, db, level, args.videos))
            finally:
                await db.dispose()
            rows.append(await measure_video_pages(base_url, args.creators, args.videos, level))
    finally:
        child.terminate()
        child.join(10)

    print(f"Scraper benchmark: {args.creators} creators x {args.videos} videos, simulated site on loopback, no pacing")
    print(f"{'measurement':<14} {'conc.':>5} {'pages':>7} {'wall s':>8} {'pages/s':>8} {'CPU ms/page':>12}", end="")
    print(f" {'peak RSS MB':>12} {'failed':>7}")
    for r in rows:
        print(
            f"{r.label:<14} {r.concurrency:>5} {r.pages:>7} {r.wall_s:>8.2f} {r.pages_per_s:>8.0f} "
            f"{r.cpu_ms_per_page:>12.3f} {r.peak_rss_mb:>12.1f} {r.failures:>7}"
        )
    print("\nParser cost per page vs a bare json.loads of the same embedded JSON:")
    print(f"{'page':<18} {'parser us':>10} {'json.loads us':>14} {'ratio':>7}")
    for kind, ours, bare in parser_costs(args.videos, args.parser_number):
        ratio = ours / bare
        verdict = "OK" if ratio <= TARGET_PARSER_RATIO else "MISSED"
        print(f"{kind:<18} {ours:>10.1f} {bare:>14.1f} {ratio:>6.2f}x  (target <= {TARGET_PARSER_RATIO}x: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=1000, help="Creators (profiles) to scrape (default 1000).")
    parser.add_argument("--videos", type=int, default=10, help="Videos per creator (default 10, at most 30).")
    parser.add_argument(
        "--levels", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 8], help="Concurrency levels."
    )
    parser.add_argument("--parser-number", type=int, default=2000, help="Parses per timing of the parser ratio.")
    args = parser.parse_args()
    if not 1 <= args.videos <= 30:
        raise SystemExit("--videos must be between 1 and 30 (one item-list page per creator).")
    anyio.run(run, args)


if __name__ == "__main__":
    main()
