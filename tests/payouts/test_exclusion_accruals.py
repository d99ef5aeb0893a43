"""Excluding a video, or stopping its tracking, reaches accruals evaluated afterwards and only names earlier ones.

Weeks start on Monday (UTC organization): Feb 9 and Feb 16. Non-recurring criteria are evaluated 48 hours after
the week ends, so a run on Wed Feb 18 12:00 evaluates the week of Feb 9 and one on Wed Feb 25 the week of Feb 16.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from tests.payouts.accrual_support import Program, accruals, make_program
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import video_tracking
from trackagoat_mcp.domain.video_tracking import VideoTrackingResult


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def _program(db: Database, clock: FrozenClock) -> tuple[Program, uuid.UUID, dict[str, uuid.UUID]]:
    """alice on a cpm, a view-threshold, a goals (1 post a week) and a recurring structure since Feb 2."""
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    await program.goal(alice, "posts", 1)
    kinds = {
        "cpm": {"criteria_type": "cpm", "amount_cents": 100},
        "view_threshold": {"criteria_type": "view_threshold", "amount_cents": 500, "params": {"threshold_views": 1000}},
        "goals": {"criteria_type": "goals", "amount_cents": 3000},
        "recurring": {"amount_cents": 7000},
    }
    ids: dict[str, uuid.UUID] = {}
    for name, kind in kinds.items():
        ids[name] = await program.structure(name=name, at=utc(2026, 1, 1), **kind)  # type: ignore[arg-type]
        await program.assign(ids[name], [alice], date(2026, 2, 2))
    return program, alice, ids


async def _act(program: Program, action: str, video_ids: list[uuid.UUID]) -> VideoTrackingResult:
    async with program.db.write() as session:
        if action == "exclude":
            return await video_tracking.exclude_videos(
                session, program.caller, video_ids=video_ids, reason="not about Product X", now=program.clock.now()
            )
        return await video_tracking.set_tracking(
            session, program.caller, video_ids=video_ids, enabled=False, now=program.clock.now()
        )


def _named(
    result: VideoTrackingResult, structures: dict[str, uuid.UUID]
) -> set[tuple[str, str, tuple[uuid.UUID, ...]]]:
    names = {value: key for key, value in structures.items()}
    return {(names[a.structure_id], a.basis, tuple(a.video_ids)) for a in result.accruals_to_review}


async def test_an_accrual_evaluated_after_an_exclusion_leaves_the_video_out_and_earlier_ones_are_named(
    db: Database, clock: FrozenClock
) -> None:
    program, alice, structures = await _program(db, clock)
    kept = await program.video(alice, utc(2026, 2, 10, 12), 2000)
    off_topic = await program.video(alice, utc(2026, 2, 11, 12), 3000)
    kept_later = await program.video(alice, utc(2026, 2, 17, 12), 2000)
    off_topic_later = await program.video(alice, utc(2026, 2, 18, 9), 5000)

    await program.run(utc(2026, 2, 18, 12))  # evaluates the week of Feb 9 (cpm 5000 views -> $5, 2 videos -> $10)
    before = {(a.structure_id, a.period_start_at): a.amount_cents for a in await accruals(db)}
    assert sorted(before.values()) == [500, 1000, 3000, 7000, 7000]  # recurring: the weeks of Feb 2 and Feb 9

    result = await _act(program, "exclude", [off_topic, off_topic_later])

    # The week of Feb 9 counted off_topic: cpm paid its views, it reached the threshold, and it was a post of the
    # period of a met posts goal. The recurring accrual never counts videos; the week of Feb 16 is not evaluated yet.
    assert _named(result, structures) == {
        ("cpm", "cpm_views", (off_topic,)),
        ("view_threshold", "threshold_reached", (off_topic,)),
        ("goals", "goal_figures", (off_topic,)),
    }
    assert all(
        a.period_start_at == utc(2026, 2, 9) and a.outstanding_cents == a.amount_cents
        for a in result.accruals_to_review
    )
    assert "not rewritten" in (result.note or "")

    await program.run(utc(2026, 2, 25, 12))  # the week of Feb 16, after the exclusion
    after = {(a.structure_id, a.period_start_at): a for a in await accruals(db)}
    assert {key: after[key].amount_cents for key in before} == before  # untouched
    week = {name: after[(sid, utc(2026, 2, 16))] for name, sid in structures.items()}
    assert week["cpm"].amount_cents == 200  # 2000 views of kept_later only
    assert [v["video_id"] for v in week["cpm"].inputs_snapshot["videos"]] == [str(kept_later)]
    assert week["view_threshold"].inputs_snapshot["qualifying_video_ids"] == [str(kept_later)]
    assert week["goals"].inputs_snapshot["figures"]["posts"] == 1
    assert str(kept) not in str(week["cpm"].inputs_snapshot)


async def test_stopping_a_videos_tracking_names_the_accruals_that_counted_it(db: Database, clock: FrozenClock) -> None:
    program, alice, structures = await _program(db, clock)
    small = await program.video(alice, utc(2026, 2, 10, 12), 400)  # under the threshold: cpm only
    await program.run(utc(2026, 2, 18, 12))

    result = await _act(program, "stop", [small])

    assert _named(result, structures) == {("cpm", "cpm_views", (small,)), ("goals", "goal_figures", (small,))}
