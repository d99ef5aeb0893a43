"""The `jobs` tools through a real `mcp.Client`: scrape_now against the simulated site, its cap, get_job_status,
and add_creators handing new creators to the in-process scheduler.

The server's TikTok client reaches the simulated site in-process (`httpx2.ASGITransport`) with fake sleeps,
on the frozen clock (2026-03-10 12:00 UTC); `alice` is an auto creator, `sel` a selective one.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta
from typing import Any

import anyio
import httpx2
from mcp import Client
from sqlalchemy import select
from sqlmodel import col

from tests.conftest import make_org
from tests.server.conftest import dump_store, error_text, ok, text_of
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.models import Creator, JobRun, Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.jobs.runs import process_name
from trackagoat_mcp.jobs.scheduler import Scheduler, default_jobs
from trackagoat_mcp.jobs.scraper import run_scrape_cycle
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess
from trackagoat_mcp.server.app import build_server
from trackagoat_mcp.tiktok.sim import Fault, SimAccount, SimulatedTikTok, SimVideo

from .conftest import BASE_URL, SETTINGS, FakeSleep, Program, add_creator
from .support import creator_row

CALL_SECONDS = 30


def settings(**changes: Any) -> Settings:
    return Settings(database_url="sqlite://", tiktok_base_url=BASE_URL, **changes)


def access(sim: SimulatedTikTok, clock: FrozenClock, config: Settings) -> TikTokAccess:
    """The server's TikTok client, wired to the simulated site in-process with fake sleeps and no pacing."""
    fake = FakeSleep()
    return TikTokAccess(
        config,
        transport=httpx2.ASGITransport(app=sim.app),
        rate=None,
        max_attempts=3,
        timeout=5.0,
        clock=clock,
        monotonic=fake.monotonic,
        sleep=fake.sleep,
        rng=random.Random(7),
    )


def server(
    db: Database,
    clock: FrozenClock,
    caller: Caller,
    sim: SimulatedTikTok,
    *,
    scheduler: Scheduler | None = None,
    **kw: Any,
) -> Any:
    config = settings(**kw)
    return build_server(
        config, db=db, clock=clock, caller=caller, tiktok=access(sim, clock, config), scheduler=scheduler
    )


async def first_cycle(db: Database, clock: FrozenClock, sim: SimulatedTikTok) -> None:
    """One ordinary scrape cycle (as a worker would run it), so every creator has numbers to compare with."""
    tiktok = access(sim, clock, settings())
    try:
        await run_scrape_cycle(db, tiktok.client(), clock, SETTINGS, worker_id="worker")
    finally:
        await tiktok.aclose()


async def test_scrape_now_returns_old_and_new_counters_the_videos_it_found_and_sends_progress(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    await first_cycle(db, clock, sim)
    clock.advance(timedelta(hours=2))  # well inside every floor: only scrape_now scrapes now
    sim.account("alice").videos.append(SimVideo.posted(clock.now() - timedelta(minutes=30), 9, description="new"))
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, _message: str | None) -> None:
        progress.append((done, total))

    ids = [str(program.ids["alice"]), str(program.ids["sel"])]
    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            result = await client.call_tool("scrape_now", {"creator_ids": ids}, progress_callback=on_progress)

    data = ok(result)
    assert json.loads(text_of(result)) == data, "the text is the compact JSON of the structured content"
    alice, sel = data["creators"]
    assert alice["tiktok_handle"] == "alice" and alice["scraped"] and alice["scrape_state"] == "ok"
    assert alice["followers"] == {"old": 12_000, "new": 12_020} and alice["profile_videos"] == {"old": 2, "new": 3}
    assert alice["new_videos"] == 1 and sel["new_videos"] == 0 and alice["failure"] is None
    [fresh] = [v for v in data["videos"] if v["creator_id"] == ids[0]]
    assert fresh["views"] == {"old": 100, "new": 200} and fresh["likes"] == {"old": 10, "new": 20}
    [found] = data["new_videos"]
    assert (found["creator_id"], found["tracking_status"], found["views"]) == (ids[0], "auto_tracked", 50)
    assert (data["used_today"], data["daily_cap"], data["failures"]) == (1, 20, {})
    assert progress == [(1, 2), (2, 2)]
    async with db.read() as session:
        [run] = (await session.scalars(select(JobRun).where(col(JobRun.job) == "scrape_now"))).all()
    assert run.status == "ok" and run.slot == f"{program.caller.org_id.hex}/2026-03-10/1"
    assert run.report["creators_scraped"] == 2


async def test_scrape_now_names_each_failure_by_kind_and_keeps_the_last_good_numbers(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    await first_cycle(db, clock, sim)
    clock.advance(timedelta(hours=1))
    sim.set_fault("banned", handle="alice")
    video = next(v for v in (await _videos(db, program.ids["sel"])))
    sim.set_fault(Fault("server_error", retry_after=None), handle="sel")

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            data = ok(
                await client.call_tool(
                    "scrape_now", {"creator_ids": [str(program.ids["alice"])], "video_ids": [str(video)]}
                )
            )

    [alice] = data["creators"]
    assert (alice["failure"], alice["scrape_state"]) == ("banned", "banned")
    assert alice["followers"] == {"old": 12_000, "new": 12_000}, "a failed fetch keeps the last good numbers"
    [sel_video] = data["videos"]
    assert (sel_video["failure"], sel_video["scrape_state"]) == ("unavailable", "stale")
    assert sel_video["views"]["old"] == sel_video["views"]["new"] is not None
    assert data["failures"] == {"banned": 1, "unavailable": 1}
    assert (await creator_row(db, program.ids["alice"])).follower_count == 12_000


async def test_scrape_now_is_capped_per_organization_per_utc_day(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    globex, globex_project = await make_org(db, clock, "Globex")
    sim.add_account(SimAccount("gina"))
    gina = await add_creator(db, clock, globex, globex_project, "gina", "auto")
    alice = {"creator_ids": [str(program.ids["alice"])]}

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim, scrape_now_daily_cap=2)) as client:
            assert [ok(await client.call_tool("scrape_now", alice))["used_today"] for _ in range(2)] == [1, 2]
            before = await dump_store(db)
            refused = error_text(await client.call_tool("scrape_now", alice))
            assert await dump_store(db) == before, "a refused call records nothing"
            status = ok(await client.call_tool("get_job_status", {}))["scrape_now"]
            async with Client(server(db, clock, globex, sim, scrape_now_daily_cap=2)) as other:
                assert ok(await other.call_tool("scrape_now", {"creator_ids": [str(gina)]}))["used_today"] == 1
            clock.set(clock.now().replace(hour=23, minute=59) + timedelta(minutes=1))
            assert ok(await client.call_tool("scrape_now", alice))["used_today"] == 1

    assert "[scrape_now_cap_reached]" in refused and "all 2 scrape_now calls of 2026-03-10 (UTC)" in refused
    assert (status["used_today"], status["remaining_today"], len(status["runs"])) == (2, 0, 2)
    assert sim.count("/@alice") == 3 and sim.count("/@gina") == 1


async def test_scrape_now_refuses_removed_creators_empty_calls_and_read_keys_without_using_the_cap(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    async with db.write() as session:
        await creators.remove_creator(session, program.caller, program.ids["sel"], now=clock.now())
    reader = Caller(program.caller.org_id, frozenset({"read"}))
    before = await dump_store(db)

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            removed = error_text(await client.call_tool("scrape_now", {"creator_ids": [str(program.ids["sel"])]}))
            empty = error_text(await client.call_tool("scrape_now", {}))
        async with Client(server(db, clock, reader, sim)) as client:
            forbidden = error_text(await client.call_tool("scrape_now", {"creator_ids": [str(program.ids["alice"])]}))

    assert "[creator_inactive]" in removed and "@sel" in removed and "update_creator" in removed
    assert "[invalid_input]" in empty and "creator_ids" in empty
    assert "[insufficient_scope]" in forbidden
    assert await dump_store(db) == before
    assert sum(sim.requests.values()) == 0


async def test_get_job_status_shows_runs_next_ticks_own_failures_and_stale_creators(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    globex, globex_project = await make_org(db, clock, "Globex")
    sim.add_account(SimAccount("gina"))
    await add_creator(db, clock, globex, globex_project, "gina", "auto")
    sim.set_fault("private", handle="sel")
    sim.set_fault("not_found", handle="gina")
    await first_cycle(db, clock, sim)
    clock.advance(timedelta(minutes=2))

    async with Client(server(db, clock, program.caller, sim, accrual_minute=15)) as client:
        status = ok(await client.call_tool("get_job_status", {"runs": 5}))
        unknown = error_text(await client.call_tool("get_job_status", {"project_id": str(uuid.uuid4())}))

    scrape, accruals, retention, alerts = status["jobs"]
    assert (scrape["job"], scrape["schedule"], scrape["next_run_at"]) == ("scrape", "every 5 minutes", _at("12:05"))
    [run] = scrape["runs"]
    assert (run["status"], run["worker"], run["finished_at"]) == ("ok", "worker", _at("12:00"))
    assert [(f["kind"], f["creator_id"]) for f in run["failures"]] == [("private", str(program.ids["sel"]))]
    assert (accruals["job"], accruals["next_run_at"], accruals["runs"]) == ("accruals", _at("12:15"), [])
    assert (retention["job"], retention["schedule"], retention["runs"]) == ("retention", "daily at 00:00 UTC", [])
    assert (alerts["job"], alerts["schedule"], alerts["next_run_at"]) == ("alerts", "every 15 minutes", _at("12:15"))
    stale = status["stale_creators"]
    assert [(s["tiktok_handle"], s["scrape_state"], s["never_scraped"]) for s in stale] == [("sel", "private", True)]
    assert stale[0]["since"] == _at("12:00") and status["stale_creator_count"] == 1
    assert "[not_found]" in unknown


async def test_get_job_status_names_the_worker_process_only_to_admin_keys(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    await first_cycle(db, clock, sim)
    async with Client(server(db, clock, program.caller, sim)) as client:
        ok(await client.call_tool("scrape_now", {"creator_ids": [str(program.ids["alice"])]}))
    answers: dict[str, tuple[dict[str, Any], str]] = {}

    with anyio.fail_after(CALL_SECONDS):
        for scope in ("read", "write", "admin"):
            caller = Caller(program.caller.org_id, frozenset({scope}))
            async with Client(server(db, clock, caller, sim)) as client:
                result = await client.call_tool("get_job_status", {})
            answers[scope] = (ok(result), text_of(result))

    def workers(status: dict[str, Any]) -> list[str | None]:
        return [run["worker"] for run in [*status["jobs"][0]["runs"], *status["scrape_now"]["runs"]]]

    assert workers(answers["admin"][0]) == ["worker", f"mcp:{process_name()}"]
    for scope in ("read", "write"):
        status, text = answers[scope]
        assert workers(status) == [None, None]
        assert process_name() not in text


async def test_add_creators_hands_new_creators_to_the_in_process_scheduler_at_once(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    sim.add_account(SimAccount("newbie", followers=42))
    sim.add_account(SimAccount("later", followers=7))
    config = settings()
    tiktok = access(sim, clock, config)
    # Time never passes for this scheduler, so after its start-up cycle only a request can make it scrape.
    scheduler = Scheduler(default_jobs(db, config, clock, "here", tiktok=tiktok), clock, sleep=_stopped)
    add = {"project_id": str(program.project_id), "handles": ["newbie"]}

    with anyio.fail_after(CALL_SECONDS):
        async with anyio.create_task_group() as group:
            await group.start(scheduler.run)
            await _until(lambda: sim.count("/@alice") == 1 and not scheduler.is_running("scrape"))
            built = build_server(config, db=db, clock=clock, caller=program.caller, tiktok=tiktok, scheduler=scheduler)
            async with Client(built) as client:
                ok(await client.call_tool("add_creators", add))
                while (await _creator_by_handle(db, "newbie")).last_scraped_at is None:  # noqa: ASYNC110 - a row
                    await anyio.sleep(0.01)
            group.cancel_scope.cancel()
        async with Client(server(db, clock, program.caller, sim)) as client:
            ok(await client.call_tool("add_creators", {**add, "handles": ["later"]}))
    await tiktok.aclose()

    newbie = await _creator_by_handle(db, "newbie")
    assert newbie.follower_count == 42 and newbie.scrape_state == "ok"
    assert sim.count("/@later") == 0, "without a scheduler in the process nothing is scraped at once..."
    assert (await _creator_by_handle(db, "later")).profile_checked_at is None, "...and the creator stays due"


# --- helpers -------------------------------------------------------------------------------------------------


def _at(hhmm: str) -> str:
    return f"2026-03-10T{hhmm}:00Z"


async def _stopped(_seconds: float) -> None:
    await anyio.sleep_forever()


async def _until(condition: Any) -> None:
    """Poll `condition` (counters of the site and the scheduler, which set no event) under the caller's timeout."""
    while not condition():  # noqa: ASYNC110
        await anyio.sleep(0.01)


async def _videos(db: Database, creator_id: uuid.UUID) -> list[uuid.UUID]:
    async with db.read() as session:
        return list((await session.scalars(select(col(Video.id)).where(col(Video.creator_id) == creator_id))).all())


async def _creator_by_handle(db: Database, handle: str) -> Creator:
    async with db.read() as session:
        return (await session.scalars(select(Creator).where(col(Creator.tiktok_handle) == handle))).one()
