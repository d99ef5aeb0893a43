"""Creators: bulk add (all-or-nothing), soft removal and reactivation, renames, listing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import make_org
from tests.domain._support import count_rows, insert_video
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Creator
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators, notes, projects, videos
from trackagoat_mcp.domain.schemas import AddCreatorsResult, CreatorOut
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Conflict, InvalidInput

Org = tuple[Caller, uuid.UUID]


async def _add(db: Database, clock: FrozenClock, org: Org, handles: list[str], **kwargs: Any) -> AddCreatorsResult:
    caller, project_id = org
    async with db.write() as session:
        return await creators.add_creators(
            session,
            caller,
            project_id=project_id,
            handles=handles,
            now=clock.now(),
            **kwargs,
        )


async def test_fifty_handles_are_added_in_one_call(db: Database, clock: FrozenClock, acme: Org) -> None:
    handles = [f"@creator_{i:02d}" for i in range(50)]
    result = await _add(db, clock, acme, handles)
    assert result.created == 50
    assert [r.tiktok_handle for r in result.results] == [f"creator_{i:02d}" for i in range(50)]
    assert await count_rows(db, Creator) == 50


async def test_fifty_one_handles_are_refused_and_nothing_is_written(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    with pytest.raises(InvalidInput) as exc:
        await _add(db, clock, acme, [f"creator_{i}" for i in range(51)])
    assert "51" in exc.value.message and "50" in exc.value.message
    assert await count_rows(db, Creator) == 0


async def test_one_invalid_handle_rejects_the_whole_batch(db: Database, clock: FrozenClock, acme: Org) -> None:
    await _add(db, clock, acme, ["existing"])
    before = await count_rows(db, Creator)
    with pytest.raises(InvalidInput) as exc:
        await _add(db, clock, acme, ["@good_one", "bad handle!", "https://vm.tiktok.com/ZMabc/", "fine"])
    assert exc.value.code == "invalid_handle"
    assert "'bad handle!'" in exc.value.message
    assert "'https://vm.tiktok.com/ZMabc/'" in exc.value.message
    assert exc.value.message.startswith("2 of 4 entries are invalid")
    assert await count_rows(db, Creator) == before == 1


async def test_an_empty_batch_is_refused(db: Database, clock: FrozenClock, acme: Org) -> None:
    with pytest.raises(InvalidInput):
        await _add(db, clock, acme, [])


async def test_duplicates_within_one_call_become_one_creator(db: Database, clock: FrozenClock, acme: Org) -> None:
    result = await _add(db, clock, acme, ["@Alice", "alice", "https://www.tiktok.com/@ALICE?lang=en", "bob"])
    assert result.created == 2
    assert [(r.input, r.tiktok_handle) for r in result.results] == [("@Alice", "alice"), ("bob", "bob")]
    assert await count_rows(db, Creator) == 2


async def test_adding_an_active_handle_again_reports_already_tracked(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    first = await _add(db, clock, acme, ["alice"])
    second = await _add(db, clock, acme, ["@ALICE", "bob"])
    outcomes = {r.tiktok_handle: (r.outcome, r.creator_id) for r in second.results}
    assert outcomes["alice"] == ("already_tracked", first.results[0].creator_id)
    assert outcomes["bob"][0] == "created"
    assert (second.created, second.already_tracked, second.reactivated) == (1, 1, 0)
    assert await count_rows(db, Creator) == 2


async def test_the_same_handle_can_be_tracked_in_two_projects(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    async with db.write() as session:
        other = await projects.create_project(session, caller, name="Second program", now=clock.now())
    first = await _add(db, clock, acme, ["alice"])
    second = await _add(db, clock, (caller, other.id), ["alice"])
    assert second.results[0].outcome == "created"
    assert second.results[0].creator_id != first.results[0].creator_id


async def test_removing_a_creator_deactivates_it_and_keeps_its_history(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    creator_id = (await _add(db, clock, acme, ["alice"], tracking_mode="selective")).results[0].creator_id
    async with db.write() as session:
        await notes.write_readme(session, caller, "creator", creator_id, "Top performer in Q4.", now=clock.now())
        video = await insert_video(session, caller, project_id, creator_id=creator_id, views=1200)
        removed = await creators.remove_creator(session, caller, creator_id, now=clock.now())
    assert removed.is_active is False
    assert removed.disabled_reason
    async with db.read() as session:
        assert [c.id for c in (await creators.list_creators(session, caller)).items] == []
        assert [c.id for c in (await creators.list_creators(session, caller, status="inactive")).items] == [creator_id]
        # History stays: its video and notes survive the removal.
        assert (await videos.get_video(session, caller, video.id)).creator_id == creator_id

    readded = await _add(db, clock, acme, ["@Alice"])
    assert readded.results[0].outcome == "reactivated"
    assert readded.results[0].creator_id == creator_id
    assert readded.reactivated == 1 and readded.created == 0
    async with db.read() as session:
        creator = await creators.get_creator(session, caller, creator_id)
        listed = await videos.list_videos(session, caller, creator_id=creator_id)
    assert creator.is_active is True
    assert creator.disabled_reason is None
    assert creator.readme == "Top performer in Q4."
    assert creator.tracking_mode == "selective"  # unchanged because the re-add did not say
    assert [v.id for v in listed.items] == [video.id]
    assert await count_rows(db, Creator) == 1


async def test_reactivation_applies_tracking_settings_only_when_given(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    creator_id = (await _add(db, clock, acme, ["alice"])).results[0].creator_id
    async with db.write() as session:
        await creators.remove_creator(session, caller, creator_id, now=clock.now())
    await _add(db, clock, acme, ["alice"], tracking_mode="selective", tracking_start_date=date(2026, 1, 1))
    async with db.read() as session:
        creator = await creators.get_creator(session, caller, creator_id)
    assert creator.tracking_mode == "selective"
    assert creator.tracking_start_date == date(2026, 1, 1)


async def test_removing_twice_is_harmless(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    creator_id = (await _add(db, clock, acme, ["alice"])).results[0].creator_id
    async with db.write() as session:
        first = await creators.remove_creator(session, caller, creator_id, now=clock.now())
    clock.advance(timedelta(hours=2))
    async with db.write() as session:
        second = await creators.remove_creator(session, caller, creator_id, now=clock.now())
    assert second.is_active is False
    assert second.updated_at == first.updated_at


# --- renames -------------------------------------------------------------------------------------------------


async def _rename(db: Database, clock: FrozenClock, caller: Caller, creator_id: uuid.UUID, handle: str) -> CreatorOut:
    async with db.write() as session:
        return await creators.update_creator(session, caller, creator_id, tiktok_handle=handle, now=clock.now())


async def test_renaming_to_an_active_creators_handle_is_handle_taken(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    result = await _add(db, clock, acme, ["alice", "bob"])
    alice, bob = (r.creator_id for r in result.results)
    with pytest.raises(Conflict) as exc:
        await _rename(db, clock, caller, alice, "@Bob")
    assert exc.value.code == "handle_taken"
    assert "'bob'" in exc.value.message and str(bob) in exc.value.message
    async with db.read() as session:
        assert (await creators.get_creator(session, caller, alice)).tiktok_handle == "alice"


async def test_renaming_to_a_removed_creators_handle_is_handle_taken(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    alice, bob = (r.creator_id for r in (await _add(db, clock, acme, ["alice", "bob"])).results)
    async with db.write() as session:
        await creators.remove_creator(session, caller, bob, now=clock.now())
    with pytest.raises(Conflict) as exc:
        await _rename(db, clock, caller, alice, "bob")
    assert exc.value.code == "handle_taken"
    assert "removed" in exc.value.message


async def test_renaming_to_the_same_handle_is_no_change(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    alice = (await _add(db, clock, acme, ["alice"])).results[0].creator_id
    for same in ("alice", "@ALICE", "https://www.tiktok.com/@Alice"):
        with pytest.raises(Conflict) as exc:
            await _rename(db, clock, caller, alice, same)
        assert exc.value.code == "no_change"


async def test_renaming_to_an_invalid_handle_is_invalid_handle(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    alice = (await _add(db, clock, acme, ["alice"])).results[0].creator_id
    with pytest.raises(InvalidInput) as exc:
        await _rename(db, clock, caller, alice, "not a handle")
    assert exc.value.code == "invalid_handle"
    assert "'not a handle'" in exc.value.message
    async with db.read() as session:
        assert (await creators.get_creator(session, caller, alice)).tiktok_handle == "alice"


async def test_a_successful_rename_marks_the_creator_for_a_fresh_scrape(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    alice = (await _add(db, clock, acme, ["alice"])).results[0].creator_id
    async with db.write() as session:
        row = await creators.get_creator(session, caller, alice)
        row.scrape_state = "ok"
        session.add(row)
    renamed = await _rename(db, clock, caller, alice, "@Alice.Official")
    assert renamed.tiktok_handle == "alice.official"
    assert renamed.scrape_state == "stale"
    # The old handle is free again: adding it makes a new creator.
    assert (await _add(db, clock, acme, ["alice"])).results[0].outcome == "created"


# --- tracking start date ---------------------------------------------------------------------------------------


async def test_default_start_date_is_today_in_the_organizations_timezone(db: Database, clock: FrozenClock) -> None:
    # 2026-03-10 12:00 UTC is already 2026-03-11 01:00 in Auckland (UTC+13 in March).
    auckland = await make_org(db, clock, "Kiwi", timezone="Pacific/Auckland")
    utc_org = await make_org(db, clock, "Greenwich")
    kiwi = (await _add(db, clock, auckland, ["alice"])).results[0].creator_id
    brit = (await _add(db, clock, utc_org, ["alice"])).results[0].creator_id
    async with db.read() as session:
        assert (await creators.get_creator(session, auckland[0], kiwi)).tracking_start_date == date(2026, 3, 11)
        assert (await creators.get_creator(session, utc_org[0], brit)).tracking_start_date == date(2026, 3, 10)


async def test_default_start_date_west_of_utc_can_be_the_day_before(db: Database, clock: FrozenClock) -> None:
    # 2026-03-10 03:00 UTC is 2026-03-09 20:00 in Los Angeles (PDT, UTC-7).
    clock.set(datetime(2026, 3, 10, 3, 0, tzinfo=UTC))
    org = await make_org(db, clock, "West", timezone="America/Los_Angeles")
    creator_id = (await _add(db, clock, org, ["alice"])).results[0].creator_id
    async with db.read() as session:
        assert (await creators.get_creator(session, org[0], creator_id)).tracking_start_date == date(2026, 3, 9)


async def test_an_explicit_start_date_and_mode_are_kept(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    creator_id = (
        (await _add(db, clock, acme, ["alice"], tracking_mode="selective", tracking_start_date=date(2026, 2, 1)))
        .results[0]
        .creator_id
    )
    async with db.read() as session:
        creator = await creators.get_creator(session, caller, creator_id)
    assert (creator.tracking_mode, creator.tracking_start_date) == ("selective", date(2026, 2, 1))


async def test_an_unknown_tracking_mode_is_refused_and_nothing_is_written(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    with pytest.raises(InvalidInput) as exc:
        await _add(db, clock, acme, ["alice"], tracking_mode="everything")
    assert "'everything'" in exc.value.message
    assert await count_rows(db, Creator) == 0


# --- listing ---------------------------------------------------------------------------------------------------


async def test_list_creators_searches_handles_literally(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    await _add(db, clock, acme, ["alice", "alicia", "bob", "a_b", "axb"])
    async with db.read() as session:

        async def handles(search: str) -> list[str]:
            return [c.tiktok_handle for c in (await creators.list_creators(session, caller, search=search)).items]

        assert await handles("ali") == ["alice", "alicia"]
        assert await handles("@ALI") == ["alice", "alicia"]
        assert await handles("a_b") == ["a_b"]  # '_' is not a wildcard
        assert await handles("%") == []  # nor is '%' (it would match everyone)
        assert await handles("nobody") == []


async def test_list_creators_filters_by_status(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    ids = {r.tiktok_handle: r.creator_id for r in (await _add(db, clock, acme, ["alice", "bob", "carol"])).results}
    async with db.write() as session:
        await creators.remove_creator(session, caller, ids["bob"], now=clock.now())
    async with db.read() as session:

        async def handles(status: str) -> list[str]:
            page = await creators.list_creators(session, caller, status=status)  # type: ignore[arg-type]
            return [c.tiktok_handle for c in page.items]

        assert await handles("active") == ["alice", "carol"]
        assert await handles("inactive") == ["bob"]
        assert await handles("all") == ["alice", "bob", "carol"]
        with pytest.raises(InvalidInput):
            await handles("removed")


async def test_list_creators_pages_through_every_creator_once_in_handle_order(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    handles = ["zed", "amy", "max", "bea", "kim", "lou", "dan"]
    await _add(db, clock, acme, handles)
    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    async with db.read() as session:
        while True:
            page = await creators.list_creators(session, caller, limit=3, cursor=cursor)
            seen += [c.tiktok_handle for c in page.items]
            sizes.append(len(page.items))
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == sorted(handles)
    assert sizes == [3, 3, 1]


async def test_list_creators_can_be_limited_to_one_project(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, first_project = acme
    async with db.write() as session:
        second = await projects.create_project(session, caller, name="Second", now=clock.now())
    await _add(db, clock, acme, ["alice"])
    await _add(db, clock, (caller, second.id), ["bob"])
    async with db.read() as session:
        first_page = await creators.list_creators(session, caller, project_id=first_project)
        second_page = await creators.list_creators(session, caller, project_id=second.id)
        both = await creators.list_creators(session, caller)
    assert [c.tiktok_handle for c in first_page.items] == ["alice"]
    assert [c.tiktok_handle for c in second_page.items] == ["bob"]
    assert [c.tiktok_handle for c in both.items] == ["alice", "bob"]
