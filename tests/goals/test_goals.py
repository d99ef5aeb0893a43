"""Goal CRUD: validation with sentences that name the bad value, soft delete, duplicates, lists."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import make_org
from tests.goals._support import add_creator, add_goal, goal_rows, utc
from trackagoat_mcp.domain import goals
from trackagoat_mcp.errors import Conflict, InvalidInput, NotFound


async def test_a_goal_starts_today_in_the_org_timezone_and_belongs_to_the_creators_project(db, clock):
    caller, project = await make_org(db, clock, "Acme", timezone="Europe/Berlin")
    creator = await add_creator(db, caller, project, "ana")
    clock.set(utc("2026-03-10T23:30"))  # already 11 March in Berlin

    async with db.write() as session:
        goal = await goals.create_goal(
            session, caller, creator_id=str(creator), metric="posts", period="weekly", target_value=15, now=clock.now()
        )

    assert goal.start_date == date(2026, 3, 11) and goal.end_date is None
    assert (goal.project_id, goal.creator_id, goal.metric, goal.period) == (project, creator, "posts", "weekly")
    assert goal.target_value == 15.0 and goal.is_active


BAD_GOALS = [
    ({"metric": "likes"}, InvalidInput, "metric 'likes' is not one of"),
    ({"period": "yearly"}, InvalidInput, "period 'yearly' is not one of"),
    ({"target_value": -5}, InvalidInput, "target_value -5 must be a positive number"),
    ({"target_value": 0}, InvalidInput, "target_value 0 must be a positive number"),
    ({"metric": "engagement", "target_value": 150}, InvalidInput, "too large for metric 'engagement' (a percentage)"),
    ({"target_value": 2.5}, InvalidInput, "target_value 2.5 for metric 'posts' must be a whole number"),
    (
        {"start_date": date(2026, 3, 10), "end_date": date(2026, 3, 9)},
        InvalidInput,
        "end_date '2026-03-09' is before start_date '2026-03-10'",
    ),
]


async def test_bad_goals_change_nothing_and_foreign_or_inactive_creators_are_refused(db, clock, acme, globex):
    caller, project = acme
    other, other_project = globex
    creator = await add_creator(db, caller, project, "ana")
    foreign = await add_creator(db, other, other_project, "zed")
    removed = await add_creator(db, caller, project, "gone", active=False, disabled_reason="removed from the project")

    async def attempt(**change):
        args = {"creator_id": creator, "metric": "posts", "period": "weekly", "target_value": 15} | change
        async with db.write() as session:
            await goals.create_goal(session, caller, now=clock.now(), **args)

    for change, error, message in BAD_GOALS:
        with pytest.raises(error) as raised:
            await attempt(**change)
        assert message in str(raised.value)
    with pytest.raises(NotFound, match=f"No creator with id '{foreign}'"):
        await attempt(creator_id=foreign)
    with pytest.raises(Conflict, match="@gone .* is inactive") as inactive:
        await attempt(creator_id=removed)
    assert inactive.value.code == "creator_inactive"
    assert await goal_rows(db) == []


async def test_a_second_overlapping_goal_of_the_same_kind_is_a_duplicate_but_adjacent_dates_are_fine(db, clock, acme):
    caller, project = acme
    creator = await add_creator(db, caller, project, "ana")
    first = await add_goal(db, caller, creator, "posts", "weekly", 15, clock.now(), end_date=date(2026, 3, 31))

    with pytest.raises(Conflict, match=str(first)) as raised:
        await add_goal(db, caller, creator, "posts", "weekly", 20, clock.now(), start_date=date(2026, 3, 31))
    assert raised.value.code == "duplicate_goal"

    await add_goal(db, caller, creator, "posts", "weekly", 20, clock.now(), start_date=date(2026, 4, 1))
    await add_goal(db, caller, creator, "posts", "monthly", 60, clock.now())
    await add_goal(db, caller, creator, "views", "weekly", 10_000, clock.now())
    assert len(await goal_rows(db)) == 4


async def test_update_changes_only_what_is_given_and_delete_is_a_reversible_deactivation(db, clock, acme, globex):
    caller, project = acme
    creator = await add_creator(db, caller, project, "ana")
    goal_id = await add_goal(db, caller, creator, "views", "monthly", 10_000, clock.now(), end_date=date(2026, 6, 30))
    clock.advance(timedelta(hours=1))

    async with db.write() as session:
        updated = await goals.update_goal(session, caller, goal_id, now=clock.now(), target_value=12_000)
    assert (updated.target_value, updated.end_date, updated.updated_at) == (12_000, date(2026, 6, 30), clock.now())
    async with db.write() as session:
        updated = await goals.update_goal(session, caller, goal_id, now=clock.now(), end_date=None)
    assert updated.end_date is None and updated.target_value == 12_000
    with pytest.raises(InvalidInput, match="end_date '2026-02-01' is before start_date"):
        async with db.write() as session:
            await goals.update_goal(session, caller, goal_id, now=clock.now(), end_date=date(2026, 2, 1))
    with pytest.raises(NotFound):
        async with db.write() as session:
            await goals.update_goal(session, globex[0], goal_id, now=clock.now(), target_value=1)

    async with db.write() as session:
        deleted = await goals.delete_goal(session, caller, goal_id, now=clock.now())
    clock.advance(timedelta(hours=1))
    async with db.write() as session:
        again = await goals.delete_goal(session, caller, goal_id, now=clock.now())
    assert deleted.is_active is False and again == deleted  # the second delete changes nothing
    rows = await goal_rows(db)
    assert len(rows) == 1 and rows[0].is_active is False  # kept for goal-payout history

    async with db.write() as session:
        restored = await goals.update_goal(session, caller, goal_id, now=clock.now(), is_active=True)
    assert restored.is_active is True


async def test_list_goals_filters_by_project_creator_and_activity_and_pages(db, clock, acme, globex):
    caller, project = acme
    ana = await add_creator(db, caller, project, "ana")
    ben = await add_creator(db, caller, project, "ben")
    foreign = await add_creator(db, globex[0], globex[1], "zed")
    await add_goal(db, globex[0], foreign, "posts", "weekly", 3, clock.now())
    ids = []
    for creator, metric in ((ana, "posts"), (ana, "views"), (ben, "posts")):
        ids.append(await add_goal(db, caller, creator, metric, "weekly", 100, clock.now()))
        clock.advance(timedelta(seconds=1))
    async with db.write() as session:
        await goals.delete_goal(session, caller, ids[1], now=clock.now())

    async with db.read() as session:
        active = await goals.list_goals(session, caller, project_id=project)
        of_ana = await goals.list_goals(session, caller, creator_id=ana, is_active=None)
        deleted = await goals.list_goals(session, caller, is_active=False)
        first = await goals.list_goals(session, caller, is_active=None, limit=2)
        rest = await goals.list_goals(session, caller, is_active=None, limit=2, cursor=first.next_cursor)

    assert [g.id for g in active.items] == [ids[0], ids[2]]
    assert [g.id for g in of_ana.items] == ids[:2]
    assert [g.id for g in deleted.items] == [ids[1]]
    assert [g.id for g in first.items + rest.items] == ids and rest.next_cursor is None
