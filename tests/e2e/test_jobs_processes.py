"""The background jobs as real processes: two `trackagoat-mcp worker`s sharing one PostgreSQL store, and
`serve` scraping a creator the moment `add_creators` adds it.

The simulated TikTok site runs in the test process under uvicorn on a loopback port and counts every request
per path, so "scraped exactly once" is counted where it happens: at the site.
"""

from __future__ import annotations

import signal
from datetime import date
from typing import Any

import anyio
import pytest
from anyio.abc import Process
from sqlalchemy import func, select
from sqlmodel import col

from tests.e2e.support import CLI, Store
from tests.e2e.test_stdio import call, stdio_session
from trackagoat_mcp.clock import SystemClock
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.models import CreatorSnapshot, JobRun
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.demo import serve_site
from trackagoat_mcp.domain import creators, orgs, projects
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.tiktok.sim import Fault, SimAccount, SimulatedTikTok

pytestmark = pytest.mark.slow

HANDLES = [f"creator{i:02d}" for i in range(16)]
WAIT_SECONDS = 60
GATE_SECONDS = 18


class Gate:
    """The site's sleep for its `slow` fault: every request waits here until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = anyio.Event()

    async def __call__(self, _seconds: float) -> None:
        await self.opened.wait()


async def new_store(url: str, handles: list[str]) -> None:
    """What `init` makes (a migrated store, one organization and project), in-process to save a start-up,
    plus creators with these handles."""
    await upgrade(url)
    db = Database.connect(url)
    try:
        async with db.write() as session:
            org = await orgs.create_org(session, name="Agency", now=SystemClock().now())
            caller = Caller(org_id=org.id, scopes=frozenset({"admin"}))
            project = await projects.create_project(session, caller, name="Program", now=SystemClock().now())
            if handles:
                await creators.add_creators(
                    session,
                    caller,
                    project_id=project.id,
                    handles=handles,
                    now=SystemClock().now(),
                    tracking_start_date=date(2020, 1, 1),
                )
    finally:
        await db.dispose()


async def scalar(url: str, query: Any) -> int:
    db = Database.connect(url)
    try:
        async with db.read() as session:
            return int((await session.execute(query)).scalar_one())
    finally:
        await db.dispose()


async def until(condition: Any) -> None:
    """Poll an async condition under the caller's timeout (the site and the store set no events for us)."""
    while not await condition():  # noqa: ASYNC110
        await anyio.sleep(0.05)


@pytest.mark.postgres
async def test_two_workers_on_one_postgres_store_scrape_each_due_creator_exactly_once(postgres_store: Store) -> None:
    await new_store(postgres_store.url, HANDLES)
    gate = Gate()
    site = SimulatedTikTok(clock=SystemClock(), sleep=gate)
    for handle in HANDLES:
        site.add_account(SimAccount(handle, followers=500))
    site.set_fault(Fault("slow"))  # every request waits at the gate until both workers are busy

    async with serve_site(site) as base_url:
        env = postgres_store.env(TRACKAGOAT_TIKTOK_BASE_URL=base_url, TRACKAGOAT_SCRAPE_RATE="1000")
        workers: list[Process] = []
        try:
            with anyio.fail_after(WAIT_SECONDS):
                for _ in range(2):
                    workers.append(await anyio.open_process([str(CLI), "worker"], env=env))
                # Four creators in flight per worker (its concurrency) means both hold claims at the same time.
                # The gate opens after GATE_SECONDS anyway, before the scraper's 20 s timeout would retry.
                with anyio.move_on_after(GATE_SECONDS):
                    await until(lambda: _true(site.in_flight >= 8))
                gate.opened.set()
                finished = (
                    select(func.count())
                    .select_from(JobRun)
                    .where(col(JobRun.job) == "scrape", col(JobRun.status) == "ok")
                )
                await until(lambda: _at_least(scalar(postgres_store.url, finished), 2))
                for worker in workers:
                    worker.send_signal(signal.SIGTERM)
                codes = [await worker.wait() for worker in workers]
                errors = [await _read_all(worker) for worker in workers]
        finally:
            for worker in workers:
                if worker.returncode is None:
                    worker.kill()
                    await worker.wait()

    assert site.peak_in_flight >= 8, (
        f"the workers never scraped at the same time (peak {site.peak_in_flight}): {errors}"
    )
    assert codes == [0, 0], errors
    assert all("worker: stopped." in text for text in errors), errors
    assert {handle: site.count(f"/@{handle}") for handle in HANDLES} == dict.fromkeys(HANDLES, 1)
    assert site.count("/api/creator/item_list/") == len(HANDLES)
    snapshots = select(func.count()).select_from(CreatorSnapshot)
    assert await scalar(postgres_store.url, snapshots) == len(HANDLES)


async def test_serve_scrapes_a_creator_as_soon_as_add_creators_adds_it(sqlite_store: Store) -> None:
    await new_store(sqlite_store.url, [])
    site = SimulatedTikTok(clock=SystemClock())
    site.add_account(SimAccount("fresh_face", nickname="Fresh", followers=321))

    async with serve_site(site) as base_url:
        extra = {"TRACKAGOAT_TIKTOK_BASE_URL": base_url, "TRACKAGOAT_SCRAPE_RATE": "1000"}
        # A day between ticks: only the first-scrape request can explain a visit within the test.
        async with stdio_session(sqlite_store, TRACKAGOAT_SCRAPE_INTERVAL_MINUTES="1440", **extra) as (client, _):
            project = (await call(client, "list_projects", {}))["items"][0]
            await call(client, "add_creators", {"project_id": project["id"], "handles": ["@fresh_face"]})
            with anyio.fail_after(WAIT_SECONDS):
                while not (await call(client, "list_creators", {}))["items"][0]["follower_count"]:  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            status = await call(client, "get_job_status", {})

    assert site.count("/@fresh_face") == 1
    assert len(status["jobs"][0]["runs"]) == 2, "the start-up cycle and the first scrape of the new creator"


async def _true(value: bool) -> bool:
    return value


async def _at_least(count: Any, wanted: int) -> bool:
    return int(await count) >= wanted


async def _read_all(process: Process) -> str:
    assert process.stderr is not None
    chunks = [chunk async for chunk in process.stderr]
    return b"".join(chunks).decode()
