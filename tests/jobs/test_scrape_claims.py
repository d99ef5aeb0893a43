"""Two processes running a cycle at the same moment on one store scrape each due creator exactly once.

Each "process" is its own `Database` (its own engine and connections) on the same store and its own HTTP
client; both cycles start together in one task group. The simulated site counts the requests per path.
"""

from __future__ import annotations

import anyio
import httpx2

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.jobs.scraper import ScrapeReport, ScrapeSettings, run_scrape_cycle
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.sim import SimAccount, SimulatedTikTok

from ..conftest import make_org
from .conftest import BASE_URL, Program, add_creator, make_client
from .support import creator_row, creator_snapshots, scrape_runs

HANDLES = [f"creator{i}" for i in range(8)]


async def test_two_cycles_at_once_scrape_each_due_creator_exactly_once(
    db_url: str, db: Database, clock: FrozenClock, sim: SimulatedTikTok
) -> None:
    caller, project_id = await make_org(db, clock)
    ids = []
    for handle in HANDLES:
        sim.add_account(SimAccount(handle, followers=100))
        ids.append(await add_creator(db, clock, caller, project_id, handle, "auto"))
    settings = ScrapeSettings(concurrency=3)
    reports: dict[str, ScrapeReport] = {}
    second = Database.connect(db_url)

    async def worker(name: str, store: Database) -> None:
        transport = httpx2.ASGITransport(app=sim.app)
        async with httpx2.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            client = make_client(http, clock)
            reports[name] = await run_scrape_cycle(store, client, clock, settings, worker_id=name)

    try:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                group.start_soon(worker, "one", db)
                group.start_soon(worker, "two", second)
    finally:
        await second.dispose()

    assert all(sim.count(f"/@{handle}") == 1 for handle in HANDLES)
    assert sim.count("/api/creator/item_list/") == len(HANDLES)
    assert reports["one"].creators_scraped + reports["two"].creators_scraped == len(HANDLES)
    assert [len(await creator_snapshots(db, creator_id)) for creator_id in ids] == [1] * len(HANDLES)
    assert {run.claimed_by for run in await scrape_runs(db)} == {"one", "two"}


async def test_a_cancelled_cycle_hands_its_claims_back_at_once_and_records_the_run_as_failed(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    sim.set_fault("slow")  # every page hangs until the request is cancelled

    async def cycle() -> None:
        await run_scrape_cycle(db, client, clock, ScrapeSettings(), worker_id="stopping")

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(cycle)
            while sim.in_flight < 2:  # noqa: ASYNC110 - the site counts requests, it sets no event
                await anyio.sleep(0.01)
            group.cancel_scope.cancel()

    rows = [await creator_row(db, creator_id) for creator_id in program.ids.values()]
    assert [(row.scrape_claimed_by, row.scrape_claimed_until) for row in rows] == [(None, None)] * 2
    [run] = await scrape_runs(db)
    assert run.status == "failed" and run.finished_at == clock.now()
