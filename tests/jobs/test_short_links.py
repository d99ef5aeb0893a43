"""Short links in add_creators and add_videos: opened on the simulated TikTok, then added like full URLs.

The simulated site answers `vm.tiktok.com/<code>` and `tiktok.com/t/<code>` with the redirect TikTok sends
(tracking query included); an unknown code redirects to the home page, TikTok's way of saying "no such post".
A call that would be refused anyway (scope, project, another entry) is refused before any link is opened: the
site counts no request at all.
"""

from __future__ import annotations

import anyio
from mcp import Client
from sqlalchemy import text

from tests.conftest import make_org
from tests.server.conftest import dump_store, error_text, ok
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.server.app import build_server
from trackagoat_mcp.server.short_links import MAX_SHORT_LINKS
from trackagoat_mcp.tiktok.sim import Fault, SimulatedTikTok

from .conftest import Program
from .test_jobs_tools import CALL_SECONDS, access, server


async def test_a_short_video_link_is_opened_and_the_post_added_as_a_direct_add(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    post = sim.account("alice").videos[1]
    sim.add_short_link("ZMpost1", "alice", post.video_id)

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            added = ok(
                await client.call_tool(
                    "add_videos", {"project_id": str(program.project_id), "urls": ["https://vm.tiktok.com/ZMpost1/"]}
                )
            )

    [result] = added["results"]
    assert (result["tiktok_video_id"], result["outcome"]) == (post.video_id, "added")
    assert sim.count("/ZMpost1/") == 1


async def test_a_short_link_to_a_profile_or_to_a_video_adds_its_creator(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    sim.add_short_link("ZTnew", "newbie")
    sim.add_short_link("ZMvid", "other", "7300000000000000000")

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            added = ok(
                await client.call_tool(
                    "add_creators",
                    {
                        "project_id": str(program.project_id),
                        "handles": ["https://www.tiktok.com/t/ZTnew/", "vm.tiktok.com/ZMvid", "@alice"],
                    },
                )
            )

    assert [(r["tiktok_handle"], r["outcome"]) for r in added["results"]] == [
        ("newbie", "created"),
        ("other", "created"),
        ("alice", "already_tracked"),
    ]


async def test_a_link_to_nowhere_rejects_the_whole_call_naming_it_and_writes_nothing(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    sim.add_short_link("ZMok", "alice", sim.account("alice").videos[1].video_id)
    before = await dump_store(db)

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            refused = await client.call_tool(
                "add_videos",
                {"project_id": str(program.project_id), "urls": ["vm.tiktok.com/ZMok/", "vm.tiktok.com/ZMgone/"]},
            )
            still_serving = ok(await client.call_tool("list_projects", {}))

    text = error_text(refused)
    assert (
        text.startswith("Error executing tool add_videos: [invalid_url] ")
        and "'vm.tiktok.com/ZMgone/'" in text
        and "does not exist" in text
    )
    assert "ZMok" not in text
    assert await dump_store(db) == before
    assert still_serving["items"]


async def test_tiktok_unreachable_for_a_short_link_is_a_retryable_error_and_writes_nothing(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    sim.set_fault(Fault("server_error", retry_after=None))  # every request of the site, short links included
    before = await dump_store(db)

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            refused = await client.call_tool(
                "add_creators", {"project_id": str(program.project_id), "handles": ["https://vm.tiktok.com/ZMx/"]}
            )

    text = error_text(refused)
    assert text.startswith("Error executing tool add_creators: [unavailable] ") and "Try again in a minute" in text
    assert await dump_store(db) == before


async def test_more_short_links_than_a_call_may_open_are_refused_before_any_is_opened(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    links = [f"https://vm.tiktok.com/ZM{n}/" for n in range(MAX_SHORT_LINKS + 1)]

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            refused = await client.call_tool("add_videos", {"project_id": str(program.project_id), "urls": links})

    assert f"[invalid_url] This call has {MAX_SHORT_LINKS + 1} short links" in error_text(refused)
    assert sum(sim.count(f"/ZM{n}/") for n in range(MAX_SHORT_LINKS + 1)) == 0


async def test_opening_short_links_sends_progress(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    handles = ("one", "two", "three")
    for handle in handles:
        sim.add_short_link(f"ZT{handle}", handle)
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, _message: str | None) -> None:
        progress.append((done, total))

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            added = ok(
                await client.call_tool(
                    "add_creators",
                    {
                        "project_id": str(program.project_id),
                        "handles": [f"vm.tiktok.com/ZT{h}" for h in ("one", "two", "three")],
                    },
                    progress_callback=on_progress,
                )
            )

    assert [r["tiktok_handle"] for r in added["results"]] == ["one", "two", "three"]
    assert progress == [(1, 3), (2, 3), (3, 3)]


# --- nothing goes out before the call is allowed ---------------------------------------------------------------

NO_PROJECT = "00000000-0000-0000-0000-000000000000"


async def test_a_read_key_is_refused_for_insufficient_scope_before_any_short_link_is_opened(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    sim.set_fault(Fault("server_error", retry_after=None))  # TikTok down: opening a link would spend retries
    reader = Caller(program.caller.org_id, frozenset({"read"}))

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, reader, sim)) as client:
            creators = await client.call_tool(
                "add_creators", {"project_id": NO_PROJECT, "handles": ["https://vm.tiktok.com/ZMabc123/"]}
            )
            videos = await client.call_tool(
                "add_videos", {"project_id": str(program.project_id), "urls": ["https://vm.tiktok.com/ZMabc123/"]}
            )

    assert error_text(creators).startswith("Error executing tool add_creators: [insufficient_scope] ")
    assert error_text(videos).startswith("Error executing tool add_videos: [insufficient_scope] ")
    assert sum(sim.requests.values()) == 0


async def test_an_unknown_or_foreign_project_is_not_found_before_any_short_link_is_opened(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    _globex, globex_project = await make_org(db, clock, "Globex")
    sim.add_short_link("ZMok", "alice", sim.account("alice").videos[1].video_id)
    before = await dump_store(db)

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            unknown = await client.call_tool(
                "add_creators", {"project_id": NO_PROJECT, "handles": ["vm.tiktok.com/ZMok"]}
            )
            foreign = await client.call_tool(
                "add_videos", {"project_id": str(globex_project), "urls": ["vm.tiktok.com/ZMok"]}
            )

    unknown_text, foreign_text = error_text(unknown), error_text(foreign)
    assert unknown_text.startswith("Error executing tool add_creators: [not_found] ") and NO_PROJECT in unknown_text
    assert foreign_text.startswith("Error executing tool add_videos: [not_found] ")
    assert str(globex_project) in foreign_text
    assert sum(sim.requests.values()) == 0
    assert await dump_store(db) == before


async def test_a_malformed_entry_beside_short_links_is_refused_before_any_link_is_opened(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    sim.add_short_link("ZMok", "alice", sim.account("alice").videos[1].video_id)

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            handles = await client.call_tool(
                "add_creators", {"project_id": str(program.project_id), "handles": ["vm.tiktok.com/ZMok", "no spaces!"]}
            )
            urls = await client.call_tool(
                "add_videos",
                {"project_id": str(program.project_id), "urls": ["vm.tiktok.com/ZMok", "https://example.com/v/1"]},
            )

    handles_text, urls_text = error_text(handles), error_text(urls)
    assert "[invalid_handle] 1 of 2 entries are invalid" in handles_text and "'no spaces!'" in handles_text
    assert "[invalid_url] 1 of 2 URLs are invalid" in urls_text and "'https://example.com/v/1'" in urls_text
    assert sum(sim.requests.values()) == 0


async def test_a_short_link_redirecting_off_tiktok_is_refused_naming_it_and_writes_nothing(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    sim.redirect_short_link("ZMmeta", "http://169.254.169.254/t/latest/")
    before = await dump_store(db)

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client:
            refused = await client.call_tool(
                "add_videos", {"project_id": str(program.project_id), "urls": ["https://vm.tiktok.com/ZMmeta/"]}
            )

    text = error_text(refused)
    assert text.startswith("Error executing tool add_videos: [invalid_url] ")
    assert "'https://vm.tiktok.com/ZMmeta/'" in text and "not followed" in text
    assert sim.count("/t/latest/") == 0
    assert await dump_store(db) == before


async def test_with_the_site_configured_elsewhere_add_videos_opens_short_links_only_there(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    post = sim.account("alice").videos[1]
    sim.add_short_link("ZMpost1", "alice", post.video_id)
    config = Settings(database_url="sqlite://", tiktok_base_url="http://sim.test")
    elsewhere = build_server(config, db=db, clock=clock, caller=program.caller, tiktok=access(sim, clock, config))

    with anyio.fail_after(CALL_SECONDS):
        async with Client(elsewhere) as client:
            added = ok(
                await client.call_tool(
                    "add_videos", {"project_id": str(program.project_id), "urls": ["https://vm.tiktok.com/ZMpost1/"]}
                )
            )

    [result] = added["results"]
    assert (result["tiktok_video_id"], result["outcome"]) == (post.video_id, "added")
    assert sim.origins == {"http://sim.test": 1}


async def _until_a_writer_waits_for_another(db: Database) -> None:
    """Return once a session of `db` waits for a lock another holds (PostgreSQL); on SQLite, after a moment (a
    writer there waits for the write lock in its driver thread, which nothing reports)."""
    if db.is_sqlite:
        await anyio.sleep(0.3)
        return
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while True:
        async with db.read() as session:
            if await session.scalar(waiting):
                return
        await anyio.sleep(0.02)


async def test_a_call_that_loses_a_unique_key_race_retries_its_write_and_opens_its_short_links_once(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    """Another writer adds `racer` while the call is between its check and its insert (PostgreSQL runs them side by
    side; on SQLite the call waits for the write lock and finds the row). The call retries its write inside the
    store, never the whole tool: it reports `racer` as already tracked and opened its short link once."""
    sim.add_short_link("ZMrace", "racer")
    arguments = {"project_id": str(program.project_id), "handles": ["vm.tiktok.com/ZMrace", "@other"]}
    rival_added, release = anyio.Event(), anyio.Event()
    results = []

    async def rival() -> None:
        async with db.write() as session:
            await creators.add_creators(
                session, program.caller, project_id=program.project_id, handles=["racer"], now=clock.now()
            )
            rival_added.set()
            await release.wait()  # committed only now, while the call waits on its uncommitted row

    with anyio.fail_after(CALL_SECONDS):
        async with Client(server(db, clock, program.caller, sim)) as client, anyio.create_task_group() as group:

            async def call() -> None:
                results.append(await client.call_tool("add_creators", arguments))

            group.start_soon(rival)
            await rival_added.wait()
            group.start_soon(call)
            await _until_a_writer_waits_for_another(db)
            release.set()

    added = ok(results[0])
    assert [(r["tiktok_handle"], r["outcome"]) for r in added["results"]] == [
        ("racer", "already_tracked"),
        ("other", "created"),
    ]
    assert dict(sim.requests) == {"/ZMrace": 1}
