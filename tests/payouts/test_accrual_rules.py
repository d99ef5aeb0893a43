"""Worked examples, one per accrual rule of SPEC §5: criteria, proration, version pinning, archive, DST, month
lengths, rounding, zero results and the stale-stats wait.

Weeks start on Monday: 2026-02-02, 02-09, 02-16, 02-23, 03-02, 03-09. The clock fixture stands at Tuesday
2026-03-10 12:00 UTC unless a test moves it. Every amount below is worked out by hand in the comments.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.payouts.accrual_support import accruals, amounts, evaluations, make_program
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import CreatorSnapshot
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts import structures


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- proration -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("none", [7000, 7000, 7000]),
        # 5 of 7 days (Wed 4 - Sun 8), the whole week, 2 of 7 days (Mon 16 - Tue 17).
        ("daily", [5000, 7000, 2000]),
        ("skip_partial", [0, 7000, 0]),
    ],
)
async def test_flat_amounts_prorate_a_partial_first_and_last_week_by_the_mode(
    db: Database, clock: FrozenClock, mode: str, expected: list[int]
) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    weekly = await program.structure(amount_cents=7000, proration=mode)
    await program.assign(weekly, [alice], date(2026, 2, 4), date(2026, 2, 17))

    await program.run()

    assert await amounts(db, alice) == list(
        zip([date(2026, 2, 2), date(2026, 2, 9), date(2026, 2, 16)], expected, strict=True)
    )
    assert [a.amount_cents for a in await accruals(db)] == [x for x in expected if x]
    first, _, last = await evaluations(db)
    assert (first.inputs_snapshot["days_covered"], last.inputs_snapshot["days_covered"]) == (5, 2)
    assert first.inputs_snapshot["days_in_period"] == 7
    factor = {"none": "1", "daily": "5/7", "skip_partial": "0"}[mode]
    assert first.inputs_snapshot["proration_factor"] == factor


async def test_a_partial_goals_period_is_prorated_like_a_recurring_one(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    await program.goal(alice, "posts", 1)
    await program.video(alice, utc(2026, 2, 27, 9), views=10)
    structure = await program.structure(criteria_type="goals", amount_cents=7000, proration="daily")
    await program.assign(structure, [alice], date(2026, 2, 25), date(2026, 3, 1))

    await program.run()

    # Week of Feb 23, assigned Wed 25 - Sun 1 (5 of 7 days), goal met: 7000 × 5/7.
    assert await amounts(db, alice) == [(date(2026, 2, 23), 5000)]


# --- criteria ------------------------------------------------------------------------------------------------


async def test_goals_pay_when_every_goal_of_the_period_was_met_and_record_why_not_otherwise(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    alice, bob = await program.creator("alice"), await program.creator("bob")
    await program.goal(alice, "posts", 2)
    await program.goal(alice, "views", 1000)
    await program.goal(alice, "posts", 50, period="monthly")  # another period type: not this structure's business
    for day, views in ((16, 700), (18, 600), (24, 5000)):
        await program.video(alice, utc(2026, 2, day, 10), views)
    structure = await program.structure(criteria_type="goals", amount_cents=5000)
    await program.assign(structure, [alice, bob], date(2026, 2, 16))

    await program.run()

    # Week of Feb 16: 2 posts, 1300 views: both met. Week of Feb 23: 1 post (< 2): not met. Week of Mar 2 ended
    # Mar 9, so it is evaluated 48 h later, Mar 11, after now.
    assert await amounts(db, alice) == [(date(2026, 2, 16), 5000), (date(2026, 2, 23), 0)]
    met, missed = await evaluations(db, creator_id=alice)
    assert met.inputs_snapshot["figures"] == {
        "posts": 2,
        "views": 1300,
        "interactions": 0,
        "engagement_percent": "0.00",
        "followers": None,
    }
    assert [(g["metric"], g["target"], g["value"], g["met"]) for g in met.inputs_snapshot["goals"]] == [
        ("posts", "2.0", "2", True),
        ("views", "1000.0", "1300", True),
    ]
    assert missed.inputs_snapshot["reason"] == "goals_not_met"
    assert [e.inputs_snapshot["reason"] for e in await evaluations(db, creator_id=bob)] == ["no_applicable_goals"] * 2
    assert [a.creator_id for a in await accruals(db)] == [alice]


async def test_a_followers_goal_reads_the_latest_snapshot_at_the_periods_end_however_old(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    alice, bob = await program.creator("alice"), await program.creator("bob")
    for creator in (alice, bob):
        await program.goal(creator, "followers", 800)
    async with db.write() as session:  # bob's only figure is weeks older than any period evaluated
        for creator, at, followers in (
            (alice, utc(2026, 1, 2, 8), 500),
            (alice, utc(2026, 2, 20, 8), 6000),
            (alice, utc(2026, 3, 4, 8), 100),  # after both periods' ends: not theirs
            (bob, utc(2026, 1, 5, 8), 900),
        ):
            session.add(CreatorSnapshot(creator_id=creator, captured_at=at, follower_count=followers))
    structure = await program.structure(criteria_type="goals", amount_cents=5000)
    await program.assign(structure, [alice, bob], date(2026, 2, 16))

    await program.run()

    # Weeks of Feb 16 and Feb 23 (ending Feb 23 and Mar 2): alice's latest figure at both ends is 6000 (Feb 20),
    # bob's 900 (Jan 5); both meet 800.
    for creator, followers in ((alice, 6000), (bob, 900)):
        assert [e.inputs_snapshot["figures"]["followers"] for e in await evaluations(db, creator_id=creator)] == [
            followers,
            followers,
        ]
        assert await amounts(db, creator) == [(date(2026, 2, 16), 5000), (date(2026, 2, 23), 5000)]


async def test_goal_ids_limit_a_goals_structure_to_the_goals_it_names(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    await program.goal(alice, "posts", 5)  # missed, but not named
    views_goal = await program.goal(alice, "views", 1000)
    await program.video(alice, utc(2026, 2, 24, 10), 4000)
    structure = await program.structure(
        criteria_type="goals", amount_cents=3000, params={"goal_ids": [str(views_goal)]}
    )
    await program.assign(structure, [alice], date(2026, 2, 23), date(2026, 3, 1))

    await program.run()

    (evaluation,) = await evaluations(db)
    assert evaluation.amount_cents == 3000
    assert [g["goal_id"] for g in evaluation.inputs_snapshot["goals"]] == [str(views_goal)]


async def test_cpm_pays_per_thousand_views_of_videos_posted_while_assigned_with_min_views_and_a_cap(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    before_start = await program.video(alice, utc(2026, 2, 17, 10), 40_000)  # Tue: not yet assigned
    counted = [
        await program.video(alice, utc(2026, 2, 18, 9), 1500),
        await program.video(alice, utc(2026, 2, 19, 9), 800),  # below min_views: counts zero
        await program.video(alice, utc(2026, 2, 21, 9), 3000),
    ]
    await program.video(alice, utc(2026, 2, 20, 9), 90_000, status="excluded")
    await program.video(alice, utc(2026, 2, 20, 9), 90_000, status="pending_review")
    await program.video(alice, utc(2026, 2, 24, 9), 30_000)
    await program.video(alice, utc(2026, 2, 26, 9), 1000)
    structure = await program.structure(
        criteria_type="cpm", amount_cents=250, params={"max_cents": 5000, "min_views": 1000}
    )
    await program.assign(structure, [alice], date(2026, 2, 18))

    await program.run()

    # Week of Feb 16: (1500 + 0 + 3000) × 250 / 1000 = 1125. Week of Feb 23: 31,000 × 0.25 = 7750, capped at 5000.
    assert await amounts(db, alice) == [(date(2026, 2, 16), 1125), (date(2026, 2, 23), 5000)]
    first, second = await evaluations(db)
    assert [v["video_id"] for v in first.inputs_snapshot["videos"]] == [str(v) for v in counted]
    assert str(before_start) not in str(first.inputs_snapshot)
    assert [v["counted_views"] for v in first.inputs_snapshot["videos"]] == [1500, 0, 3000]
    assert (second.inputs_snapshot["uncapped_cents"], second.inputs_snapshot["capped"]) == ("7750", True)


async def test_view_threshold_pays_per_video_that_reached_the_threshold_up_to_max_videos(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    videos = {
        views: await program.video(alice, utc(2026, 2, 17, 10), views) for views in (12_000, 10_000, 50_000, 9_999)
    }
    await program.video(alice, utc(2026, 2, 25, 10), 10_000)
    structure = await program.structure(
        criteria_type="view_threshold", amount_cents=2500, params={"threshold_views": 10_000, "max_videos": 2}
    )
    await program.assign(structure, [alice], date(2026, 2, 16))

    await program.run()

    # Week of Feb 16: three videos reached 10,000 views, at most two are paid: 2 × 2500. Week of Feb 23: one.
    assert await amounts(db, alice) == [(date(2026, 2, 16), 5000), (date(2026, 2, 23), 2500)]
    first = (await evaluations(db))[0].inputs_snapshot
    assert sorted(first["qualifying_video_ids"]) == sorted(str(videos[v]) for v in (12_000, 10_000, 50_000))
    assert (first["qualifying_count"], first["paid_videos"]) == (3, 2)


# --- versions and archive ------------------------------------------------------------------------------------


async def test_each_period_uses_the_version_in_force_at_its_end(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    structure = await program.structure(amount_cents=1000, at=utc(2026, 2, 1))
    # Dated back to Jan 19: that week ended before version 1 existed, so version 1 pays it.
    await program.assign(structure, [alice], date(2026, 1, 19), date(2026, 3, 1))
    for when, cents in ((utc(2026, 2, 11, 12), 2000), (utc(2026, 3, 2), 3000)):
        async with db.write() as session:
            update = await structures.update_structure(session, program.caller, structure, now=when, amount_cents=cents)
        assert update.new_version_created

    await program.run()

    # v2 arrived mid-week (Wed Feb 11) and pays that whole week; v3 was created at the very instant the week of
    # Feb 23 ended (Mar 2 00:00), so it is in force at that week's end.
    assert await amounts(db, alice) == [
        (date(2026, 1, 19), 1000),
        (date(2026, 1, 26), 1000),
        (date(2026, 2, 2), 1000),
        (date(2026, 2, 9), 2000),
        (date(2026, 2, 16), 2000),
        (date(2026, 2, 23), 3000),
    ]
    assert [e.inputs_snapshot["structure_version"] for e in await evaluations(db)] == [1, 1, 1, 2, 2, 3]
    assert [a.structure_version_id for a in await accruals(db)] == [
        e.structure_version_id for e in await evaluations(db)
    ]


async def test_a_rule_change_during_the_settling_window_does_not_reach_back(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    await program.video(alice, utc(2026, 3, 3, 10), 4000)
    structure = await program.structure(criteria_type="cpm", amount_cents=1000, at=utc(2026, 3, 1))
    await program.assign(structure, [alice], date(2026, 3, 2), date(2026, 3, 8))
    async with db.write() as session:  # after the week ended (Mar 9), before its evaluation (Mar 11)
        await structures.update_structure(session, program.caller, structure, now=utc(2026, 3, 10), amount_cents=5)

    await program.run(utc(2026, 3, 11, 0, 15))

    assert await amounts(db, alice) == [(date(2026, 3, 2), 4000)]


async def test_archiving_stops_accruals_for_periods_ending_after_it_but_pays_those_already_ended(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    await program.video(alice, utc(2026, 2, 18, 10), 2000)
    await program.video(alice, utc(2026, 2, 24, 10), 2000)
    weekly = await program.structure(amount_cents=1000, at=utc(2026, 2, 1))
    cpm = await program.structure(criteria_type="cpm", amount_cents=1000, name="CPM", at=utc(2026, 2, 1))
    await program.assign(weekly, [alice], date(2026, 2, 2))
    await program.assign(cpm, [alice], date(2026, 2, 16))
    async with db.write() as session:  # Tuesday Feb 24, noon: week of Feb 16 has ended, its CPM is not due yet
        await structures.archive_structure(session, program.caller, weekly, now=utc(2026, 2, 24, 12))
        archived = await structures.archive_structure(session, program.caller, cpm, now=utc(2026, 2, 24, 12))
    assert (archived.is_active, archived.archived_at) == (False, utc(2026, 2, 24, 12))

    await program.run()

    recurring = [(e.period_start_at.date(), e.amount_cents) for e in await evaluations(db, structure_id=weekly)]
    assert recurring == [(date(2026, 2, 2), 1000), (date(2026, 2, 9), 1000), (date(2026, 2, 16), 1000)]
    # The CPM week of Feb 16 was due on Feb 25, after the archive, and is still paid; the week in progress is not.
    assert [(e.period_start_at.date(), e.amount_cents) for e in await evaluations(db, structure_id=cpm)] == [
        (date(2026, 2, 16), 2000)
    ]


# --- calendars -----------------------------------------------------------------------------------------------


async def test_a_dst_week_in_new_york_runs_from_local_midnight_to_local_midnight(
    db: Database, clock: FrozenClock
) -> None:
    clock.set(utc(2026, 3, 12, 12))
    program = await make_program(db, clock, timezone="America/New_York")
    alice = await program.creator("alice")
    # Clocks go forward on Sunday Mar 8, so the week of Monday Mar 2 lasts 167 hours: 05:00Z to 04:00Z.
    await program.video(alice, utc(2026, 3, 2, 4, 30), 100)  # Sun Mar 1, 23:30 EST: the week before
    await program.video(alice, utc(2026, 3, 2, 5, 30), 200)  # Mon Mar 2, 00:30 EST
    await program.video(alice, utc(2026, 3, 9, 3, 30), 400)  # Sun Mar 8, 23:30 EDT
    await program.video(alice, utc(2026, 3, 9, 4, 30), 800)  # Mon Mar 9, 00:30 EDT: the week after
    cpm = await program.structure(criteria_type="cpm", amount_cents=1000)  # one cent per view
    daily = await program.structure(amount_cents=7000, proration="daily", name="Daily")
    await program.assign(cpm, [alice], date(2026, 2, 23))
    await program.assign(daily, [alice], date(2026, 3, 5), date(2026, 3, 8))

    await program.run()

    by_cpm = await evaluations(db, structure_id=cpm)
    assert [(e.period_start_at, e.period_end_at, e.amount_cents) for e in by_cpm] == [
        (utc(2026, 2, 23, 5), utc(2026, 3, 2, 5), 100),
        (utc(2026, 3, 2, 5), utc(2026, 3, 9, 4), 600),
    ]
    # Thursday to Sunday are 4 calendar days of 7, however many hours that week has: 7000 × 4/7.
    (prorated,) = await evaluations(db, structure_id=daily)
    assert (prorated.amount_cents, prorated.inputs_snapshot["days_covered"]) == (4000, 4)


async def test_daily_proration_divides_by_the_days_of_each_month(db: Database, clock: FrozenClock) -> None:
    clock.set(utc(2028, 3, 10))
    program = await make_program(db, clock)
    monthly = await program.structure(period="monthly", amount_cents=10_000, proration="daily", at=utc(2025, 12, 1))
    months = {
        31: (date(2026, 1, 16), date(2026, 1, 31)),  # 16 of 31 days: 5161.29 → 5161
        28: (date(2026, 2, 16), date(2026, 2, 28)),  # 13 of 28: 4642.86 → 4643
        30: (date(2026, 4, 16), date(2026, 4, 30)),  # 15 of 30: 5000
        29: (date(2028, 2, 16), date(2028, 2, 29)),  # 14 of 29: 4827.59 → 4828
    }
    creators = {}
    for days, (first, last) in months.items():
        creators[days] = await program.creator(f"month{days}")
        # An operator who raised TRACKAGOAT_ASSIGNMENT_BACKDATE_DAYS can date assignments back over two years.
        await program.assign(monthly, [creators[days]], first, last, backdate_days=1000)

    await program.run()

    got = {days: (await evaluations(db, creator_id=creator))[0] for days, creator in creators.items()}
    assert {days: e.amount_cents for days, e in got.items()} == {31: 5161, 28: 4643, 30: 5000, 29: 4828}
    assert {days: e.inputs_snapshot["days_in_period"] for days, e in got.items()} == {31: 31, 28: 28, 30: 30, 29: 29}
    assert got[31].inputs_snapshot["exact_cents"].startswith("5161.29")


# --- rounding and zero results -------------------------------------------------------------------------------


async def test_amounts_round_half_to_even_once(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    cpm = await program.structure(criteria_type="cpm", amount_cents=1)  # one cent per 1,000 views
    expected = {500: 0, 1500: 2, 2500: 2, 3500: 4}  # 0.5 → 0, 1.5 → 2, 2.5 → 2, 3.5 → 4
    creators = {}
    for views in expected:
        creators[views] = await program.creator(f"v{views}")
        await program.video(creators[views], utc(2026, 2, 24, 10), views)
        await program.assign(cpm, [creators[views]], date(2026, 2, 23), date(2026, 3, 1))
    small, large = await program.creator("small"), await program.creator("large")
    for cents, creator in ((15, small), (45, large)):  # 1 day of 30 in April: 0.5 → 0 and 1.5 → 2
        monthly = await program.structure(period="monthly", amount_cents=cents, proration="daily", name=f"{cents}")
        await program.assign(monthly, [creator], date(2026, 4, 30))
    clock.set(utc(2026, 5, 2))

    await program.run()

    for views, cents in expected.items():
        (evaluation,) = await evaluations(db, creator_id=creators[views])
        assert (evaluation.inputs_snapshot["exact_cents"], evaluation.amount_cents) == (str(views / 1000), cents)
    assert [e.amount_cents for e in await evaluations(db, creator_id=small)] == [0]
    assert [e.amount_cents for e in await evaluations(db, creator_id=large)] == [2]


async def test_a_zero_result_is_recorded_with_its_inputs_but_creates_no_accrual(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    cpm = await program.structure(criteria_type="cpm", amount_cents=500)
    await program.assign(cpm, [alice], date(2026, 2, 23), date(2026, 3, 1))

    report = await program.run()

    (evaluation,) = await evaluations(db)
    assert (evaluation.amount_cents, evaluation.accrual_id) == (0, None)
    assert evaluation.inputs_snapshot["videos"] == [] and evaluation.inputs_snapshot["reason"] == "nothing_earned"
    assert await accruals(db) == []
    assert (report.totals.evaluated, report.totals.zero, report.totals.accrued) == (1, 1, 0)


# --- when ----------------------------------------------------------------------------------------------------


async def test_recurring_is_evaluated_at_period_end_and_the_others_48_hours_later(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice", scraped_at=utc(2026, 3, 9, 6))
    daily = await program.structure(period="daily", amount_cents=100, at=utc(2026, 3, 1))
    cpm = await program.structure(criteria_type="cpm", amount_cents=100, name="CPM", at=utc(2026, 3, 1))
    await program.assign(daily, [alice], date(2026, 3, 9), date(2026, 3, 9))
    await program.assign(cpm, [alice], date(2026, 3, 2), date(2026, 3, 8))

    await program.run(utc(2026, 3, 9, 23, 59))
    assert await evaluations(db) == []
    await program.run(utc(2026, 3, 10, 0, 0))
    assert [e.structure_id for e in await evaluations(db)] == [daily]
    await program.run(utc(2026, 3, 10, 23, 59))
    assert len(await evaluations(db)) == 1
    await program.run(utc(2026, 3, 11, 0, 0))
    assert {e.structure_id for e in await evaluations(db)} == {daily, cpm}


async def test_stale_stats_wait_up_to_24_hours_then_the_evaluation_proceeds_marked_stale(
    db: Database, clock: FrozenClock
) -> None:
    clock.set(utc(2026, 2, 20))
    program = await make_program(db, clock)
    late = await program.creator("late", scraped_at=utc(2026, 3, 1))  # last scraped before the week ended
    blocked = await program.creator("blocked", scraped_at=utc(2026, 3, 3), state="blocked")
    cpm = await program.structure(criteria_type="cpm", amount_cents=1000)
    await program.assign(cpm, [late, blocked], date(2026, 2, 23), date(2026, 3, 1))
    # The week of Feb 23 ends Mar 2 00:00 and is due Mar 4 00:00.

    first = await program.run(utc(2026, 3, 4, 0, 15))
    assert (first.waiting_for_stale, await evaluations(db)) == (2, [])

    await program.scraped(late, utc(2026, 3, 4, 6))
    second = await program.run(utc(2026, 3, 4, 7, 15))
    assert second.waiting_for_stale == 1
    assert [(e.creator_id, e.inputs_snapshot["stale"]) for e in await evaluations(db)] == [(late, False)]

    await program.run(utc(2026, 3, 4, 23, 59))
    assert len(await evaluations(db)) == 1
    await program.run(utc(2026, 3, 5, 0, 0))
    assert [e.inputs_snapshot["stale"] for e in await evaluations(db, creator_id=blocked)] == [True]
