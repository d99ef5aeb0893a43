"""Payout structures and assignments: strict validation, versions only for rule changes, archive, assignments.

Rule validation is pure (`criteria.check_rule`), so its many bad inputs are checked without a store; everything
that needs rows (goal ids, projects, assignments, evaluated periods) runs on both backends.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.conftest import make_org
from tests.payouts.accrual_support import accruals, evaluations, make_program
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Creator
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import notes, projects
from trackagoat_mcp.domain.pagination import encode_cursor
from trackagoat_mcp.domain.payouts import assignments, methods, structures
from trackagoat_mcp.domain.payouts.criteria import check_rule
from trackagoat_mcp.errors import Conflict, InvalidInput, NotFound

GOOD: dict[str, Any] = {
    "period": "weekly",
    "amount_cents": 500,
    "currency": "USD",
    "criteria_type": "recurring",
    "criteria_params": {},
    "proration_mode": "none",
}


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"amount_cents": 0}, "amount_cents 0"),
        ({"amount_cents": -500}, "amount_cents -500"),
        ({"amount_cents": 10**10 + 1}, "amount_cents 10000000001"),
        ({"amount_cents": True}, "amount_cents True"),
        ({"amount_cents": 5.5}, "amount_cents 5.5"),
        ({"currency": "EUR"}, "currency 'EUR'"),
        ({"period": "yearly"}, "period 'yearly'"),
        ({"criteria_type": "bonus"}, "criteria_type 'bonus'"),
        ({"proration_mode": "hourly"}, "proration_mode 'hourly'"),
        ({"criteria_params": {"rate": 5}}, "['rate']"),
        ({"criteria_params": ["goal_ids"]}, "criteria_params must be a JSON object"),
        ({"criteria_type": "cpm", "criteria_params": {"threshold_views": 5}}, "['threshold_views']"),
        ({"criteria_type": "cpm", "criteria_params": {"max_cents": 0}}, "max_cents 0"),
        ({"criteria_type": "cpm", "criteria_params": {"min_views": "100"}}, "min_views '100'"),
        ({"criteria_type": "cpm", "proration_mode": "daily"}, "proration_mode 'daily' does not apply"),
        ({"criteria_type": "view_threshold"}, "threshold_views is required"),
        ({"criteria_type": "view_threshold", "criteria_params": {"threshold_views": 0}}, "threshold_views 0"),
        (
            {"criteria_type": "view_threshold", "criteria_params": {"threshold_views": 10, "max_videos": 0}},
            "max_videos 0",
        ),
        ({"criteria_type": "view_threshold", "proration_mode": "skip_partial"}, "'skip_partial' does not apply"),
        ({"criteria_type": "goals", "criteria_params": {"goal_ids": []}}, "goal_ids [] must be a non-empty list"),
        ({"criteria_type": "goals", "criteria_params": {"goal_ids": ["nope"]}}, "contains 'nope'"),
        ({"criteria_type": "goals", "criteria_params": {"goal_ids": "abc"}}, "goal_ids 'abc'"),
    ],
)
def test_a_bad_rule_is_refused_with_a_sentence_naming_the_value(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_rule(**(GOOD | changes))
    assert named in caught.value.message


def test_valid_params_are_normalised() -> None:
    ids = [str(uuid.uuid4()) for _ in range(2)]
    rule = check_rule(**(GOOD | {"criteria_type": "goals", "criteria_params": {"goal_ids": [ids[1], ids[0], ids[1]]}}))
    assert rule.criteria_params == {"goal_ids": sorted(ids)}
    cpm = check_rule(**(GOOD | {"criteria_type": "cpm", "criteria_params": {"min_views": 10}}))
    assert cpm.criteria_params == {"min_views": 10} and cpm.is_flat is False


async def test_goal_ids_must_be_goals_of_the_same_project_and_period(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    monthly = await program.goal(alice, "posts", 3, period="monthly")
    _, other_project = await make_org(db, clock, "Globex")

    async def create(goal_id: Any) -> None:
        async with db.write() as session:
            await structures.create_structure(
                session,
                program.caller,
                project_id=program.project,
                name="Goals",
                period="weekly",
                amount_cents=100,
                criteria_type="goals",
                criteria_params={"goal_ids": [str(goal_id)]},
                now=clock.now(),
            )

    with pytest.raises(InvalidInput, match="is 'monthly' but the structure is 'weekly'"):
        await create(monthly)
    async with db.write() as session:
        second = await projects.create_project(session, program.caller, name="Second program", now=clock.now())
    bob = await program.creator("bob", project=second.id)
    elsewhere = await program.goal(bob, "posts", 1, project=second.id)
    with pytest.raises(InvalidInput, match="belongs to another project than the structure"):
        await create(elsewhere)
    missing = uuid.uuid4()
    with pytest.raises(NotFound, match=str(missing)):
        await create(missing)
    other = await make_program(db, clock, name="Initech")
    theirs = await other.goal(await other.creator("zed"), "posts", 1)
    with pytest.raises(NotFound):  # another organization's goal does not exist here
        await create(theirs)
    async with db.write() as session:
        with pytest.raises(NotFound):
            await structures.create_structure(
                session,
                program.caller,
                project_id=other_project,
                name="Elsewhere",
                period="weekly",
                amount_cents=100,
                criteria_type="recurring",
                now=clock.now(),
            )


async def test_only_a_rule_change_writes_a_new_version(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    sid = await program.structure(amount_cents=1000, criteria_type="recurring", proration="daily")

    async def update(**changes: Any) -> structures.StructureUpdate:
        async with db.write() as session:
            return await structures.update_structure(session, program.caller, sid, now=clock.now(), **changes)

    assert (await update(name="Renamed")).new_version_created is False
    assert (await update(amount_cents=1000, proration_mode="daily")).new_version_created is False  # same rule
    changed = await update(amount_cents=1500)
    assert changed.new_version_created and changed.structure.current_version.version == 2
    switched = await update(criteria_type="cpm", criteria_params={"max_cents": 900})
    assert switched.structure.current_version.model_dump(include={"criteria_type", "proration_mode"}) == {
        "criteria_type": "cpm",
        "proration_mode": "none",  # a switch to cpm drops daily proration, which cannot apply to it
    }
    with pytest.raises(InvalidInput, match="threshold_views is required"):
        await update(criteria_type="view_threshold")
    with pytest.raises(InvalidInput, match="period cannot change from 'weekly' to 'monthly'"):
        await update(period="monthly")

    async with db.read() as session:
        full = await structures.get_structure(session, program.caller, sid, now=clock.now())
    assert [(v.version, v.amount_cents, v.criteria_type) for v in full.versions] == [
        (3, 1500, "cpm"),
        (2, 1500, "recurring"),
        (1, 1000, "recurring"),
    ]
    assert (full.name, full.current_version.version) == ("Renamed", 3)


async def test_a_structure_shows_its_newest_versions_and_first_assignments_and_pages_the_rest(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    sid = await program.structure(amount_cents=100)
    for cents in range(101, 113):  # versions 2..13
        async with db.write() as session:
            await structures.update_structure(session, program.caller, sid, now=clock.now(), amount_cents=cents)
    creators = [await program.creator(f"c{i:02d}") for i in range(structures.ASSIGNMENTS_SHOWN + 3)]
    await program.assign(sid, creators, date(2026, 3, 2))

    async def get(**cursors: str | None) -> structures.StructureOut:
        async with db.read() as session:
            return await structures.get_structure(session, program.caller, sid, now=clock.now(), **cursors)

    versions: list[int] = []
    handles: list[str] = []
    cursor: str | None = None
    while True:
        page = await get(versions_cursor=cursor)
        assert page.current_version.version == 13
        versions += [v.version for v in page.versions]
        if (cursor := page.versions_next_cursor) is None:
            break
    while True:
        page = await get(assignments_cursor=cursor)
        handles += [a.tiktok_handle for a in page.assignments]
        if (cursor := page.assignments_next_cursor) is None:
            break
    assert versions == list(range(13, 0, -1))
    assert handles == [f"c{i:02d}" for i in range(structures.ASSIGNMENTS_SHOWN + 3)]
    assert page.assignment_count == structures.ASSIGNMENTS_SHOWN + 3
    async with db.read() as session:
        with pytest.raises(InvalidInput, match="pass assignments_next_cursor unchanged"):
            await structures.get_structure(
                session,
                program.caller,
                sid,
                now=clock.now(),
                assignments_cursor=encode_cursor("structure_assignments", "starts_on", ["soon", "x", str(sid)]),
            )


async def test_an_archived_structure_freezes_its_rule_and_takes_no_new_assignments(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    sid = await program.structure()
    async with db.write() as session:
        first = await structures.archive_structure(session, program.caller, sid, now=clock.now())
    clock.set(datetime(2026, 3, 11, tzinfo=UTC))
    async with db.write() as session:
        again = await structures.archive_structure(session, program.caller, sid, now=clock.now())
        renamed = await structures.update_structure(session, program.caller, sid, now=clock.now(), name="Old")
    assert again.archived_at == first.archived_at and renamed.structure.name == "Old"

    async with db.write() as session:
        with pytest.raises(Conflict) as rule:
            await structures.update_structure(session, program.caller, sid, now=clock.now(), amount_cents=9)
        with pytest.raises(Conflict) as assign:
            await assignments.assign_creators(session, program.caller, sid, [alice], now=clock.now())
    assert rule.value.code == assign.value.code == "structure_archived"
    async with db.read() as session:
        listed = await structures.list_structures(session, program.caller, now=clock.now())
        everything = await structures.list_structures(session, program.caller, now=clock.now(), include_archived=True)
    assert (listed.items, [s.id for s in everything.items]) == ([], [sid])


async def test_assignments_are_checked_for_project_state_dates_and_overlap(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    removed = await program.creator("gone")
    async with db.write() as session:
        row = await session.get_one(Creator, removed)
        row.is_active = False
    async with db.write() as session:
        second = await projects.create_project(session, program.caller, name="Second program", now=clock.now())
    outsider = await program.creator("outsider", project=second.id)
    sid = await program.structure()

    async def assign(creators: list[Any], starts_on: date, ends_on: date | None = None) -> Any:
        async with db.write() as session:
            return await assignments.assign_creators(
                session, program.caller, sid, creators, now=clock.now(), starts_on=starts_on, ends_on=ends_on
            )

    with pytest.raises(InvalidInput, match="belongs to another project"):
        await assign([outsider], date(2026, 3, 1))
    with pytest.raises(InvalidInput, match="is removed or disabled"):
        await assign([removed], date(2026, 3, 1))
    with pytest.raises(NotFound):
        await assign([uuid.uuid4()], date(2026, 3, 1))
    with pytest.raises(InvalidInput, match="is before starts_on"):
        await assign([alice], date(2026, 3, 5), date(2026, 3, 4))
    with pytest.raises(InvalidInput, match="more than 366 days back"):
        await assign([alice], date(1999, 12, 31))
    with pytest.raises(InvalidInput, match="1 to 50"):
        await assign([], date(2026, 3, 1))

    first = await assign([alice], date(2026, 3, 1), date(2026, 3, 31))
    same = await assign([alice], date(2026, 3, 1), date(2026, 3, 31))
    assert [r.outcome for r in first.results + same.results] == ["assigned", "already_assigned"]
    with pytest.raises(Conflict) as overlap:
        await assign([alice], date(2026, 3, 20))
    assert overlap.value.code == "assignment_overlap" and "2026-03-01 to 2026-03-31" in overlap.value.message
    later = await assign([alice], date(2026, 4, 1))
    assert later.assignment_count == 2


async def test_assignments_never_contradict_periods_already_evaluated(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    sid = await program.structure(amount_cents=700, proration="daily")
    await program.assign(sid, [alice], date(2026, 2, 2), date(2026, 2, 10))
    await program.run()  # evaluates the weeks of Feb 2 (whole) and Feb 9 (Mon, Tue)
    assert len(await evaluations(db)) == 2

    async with db.write() as session:
        with pytest.raises(Conflict) as adding:
            await assignments.assign_creators(
                session, program.caller, sid, [alice], now=clock.now(), starts_on=date(2026, 2, 13)
            )
        with pytest.raises(Conflict) as shortening:
            await assignments.unassign_creator(
                session, program.caller, sid, alice, now=clock.now(), ends_on=date(2026, 2, 5)
            )
    assert adding.value.code == shortening.value.code == "period_already_evaluated"
    assert "2026-02-15 or later" in shortening.value.message

    async with db.write() as session:  # the next free week is fine
        added = await assignments.assign_creators(
            session, program.caller, sid, [alice], now=clock.now(), starts_on=date(2026, 2, 16)
        )
    assert added.results[0].outcome == "assigned"


async def test_unassign_ends_the_covering_assignment_and_removes_later_ones_that_never_ran(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)  # today is Tue 2026-03-10
    alice, bob = await program.creator("alice"), await program.creator("bob")
    sid = await program.structure()
    await program.assign(sid, [alice], date(2026, 3, 2), date(2026, 3, 31))
    await program.assign(sid, [alice, bob], date(2026, 4, 1))

    async def unassign(creator: Any, ends_on: date | None = None) -> assignments.UnassignResult:
        async with db.write() as session:
            return await assignments.unassign_creator(
                session, program.caller, sid, creator, now=clock.now(), ends_on=ends_on
            )

    ended = await unassign(alice)
    assert (ended.outcome, ended.assignment.starts_on, ended.assignment.ends_on) == (
        "ended",
        date(2026, 3, 2),
        date(2026, 3, 10),
    )
    assert [a.starts_on for a in ended.deleted] == [date(2026, 4, 1)]
    assert (await unassign(alice, date(2026, 3, 20))).outcome == "unchanged"
    gone = await unassign(bob)
    assert (gone.outcome, gone.assignment.starts_on) == ("deleted", date(2026, 4, 1))
    async with db.write() as session:
        with pytest.raises(Conflict) as nothing:
            await assignments.unassign_creator(session, program.caller, sid, bob, now=clock.now())
    assert nothing.value.code == "not_assigned"
    async with db.read() as session:
        full = await structures.get_structure(session, program.caller, sid, now=clock.now())
    assert [(a.tiktok_handle, a.ends_on) for a in full.assignments] == [("alice", date(2026, 3, 10))]
    assert full.assignment_count == 1


async def test_payout_entities_take_the_agents_readme_and_metadata_but_no_description(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    sid = await program.structure(at=datetime(2026, 2, 1, tzinfo=UTC))
    await program.assign(sid, [alice], date(2026, 3, 2), date(2026, 3, 8))
    await program.run()
    (accrual,) = await accruals(db)
    async with db.read() as session:
        method = (await methods.list_methods(session, program.caller)).items[0]

    async with db.write() as session:
        for entity_type, entity_id in (
            ("payout_structure", sid),
            ("payout_method", method.id),
            ("payout_accrual", accrual.id),
        ):
            noted = await notes.write_readme(session, program.caller, entity_type, entity_id, "# Why", now=clock.now())
            tagged = await notes.write_metadata(
                session, program.caller, entity_type, entity_id, {"checked": True}, mode="merge", now=clock.now()
            )
            assert (noted.readme, tagged.meta) == ("# Why", {"checked": True})
        with pytest.raises(InvalidInput, match="has no description"):
            await notes.set_description(session, program.caller, "payout_structure", sid, "Pay fast", now=clock.now())
    other = await make_program(db, clock, name="Globex")
    async with db.write() as session:
        with pytest.raises(NotFound):
            await notes.write_readme(session, other.caller, "payout_structure", sid, "# Mine", now=clock.now())
