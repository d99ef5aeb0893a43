"""Accruals after the job: listing them, rejecting / voiding / restoring with reasons, and previewing what the
next runs would record (with the job's own code, writing nothing)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from tests.payouts.accrual_support import Program, accruals, evaluations, make_program, payout_rows
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import PayoutMethod, PayoutPayment, PayoutPaymentLine
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts import accrual_records, preview
from trackagoat_mcp.errors import Conflict, InvalidInput, NotFound


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def two_creators_two_structures(program: Program) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]:
    alice, bob = await program.creator("alice"), await program.creator("bob")
    weekly = await program.structure(amount_cents=1000, name="Weekly", at=utc(2026, 1, 1))
    monthly = await program.structure(period="monthly", amount_cents=5000, name="Monthly", at=utc(2026, 1, 1))
    await program.assign(weekly, [alice, bob], date(2026, 2, 16))
    await program.assign(monthly, [alice], date(2026, 1, 1))
    return alice, bob, weekly, monthly


async def test_accruals_list_by_creator_status_structure_and_period_a_page_at_a_time(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    alice, bob, weekly, monthly = await two_creators_two_structures(program)
    await program.run()  # weeks of Feb 16, 23, Mar 2 for both; January and February for alice

    async def page(**filters: object) -> accrual_records.Page[accrual_records.AccrualOut]:
        async with db.read() as session:
            return await accrual_records.list_accruals(session, program.caller, **filters)  # type: ignore[arg-type]

    mine = await page(creator_id=alice, status="earned")
    assert [(a.structure_name, a.period_start_at.date(), a.amount_cents) for a in mine.items] == [
        ("Monthly", date(2026, 1, 1), 5000),
        ("Monthly", date(2026, 2, 1), 5000),
        ("Weekly", date(2026, 2, 16), 1000),
        ("Weekly", date(2026, 2, 23), 1000),
        ("Weekly", date(2026, 3, 2), 1000),
    ]
    assert all(a.tiktok_handle == "alice" and a.structure_version == 1 for a in mine.items)
    assert all(a.inputs_snapshot is None for a in mine.items)
    assert [a.creator_id for a in (await page(structure_id=monthly)).items] == [alice, alice]
    ranged = await page(period_from=date(2026, 2, 20), period_to=date(2026, 3, 2), structure_id=weekly)
    assert [a.period_start_at.date() for a in ranged.items] == [date(2026, 2, 23)] * 2 + [date(2026, 3, 2)] * 2

    first = await page(limit=3, newest_first=True, include_inputs=True)
    second = await page(limit=3, newest_first=True, cursor=first.next_cursor)
    third = await page(limit=3, newest_first=True, cursor=second.next_cursor)
    seen = [a.id for a in first.items + second.items + third.items]
    assert len(seen) == len(set(seen)) == 8 and third.next_cursor is None
    assert first.items[0].period_start_at.date() == date(2026, 3, 2)
    assert first.items[0].inputs_snapshot is not None and first.items[0].inputs_snapshot["days_covered"] == 7

    with pytest.raises(InvalidInput, match="before period_from"):
        await page(period_from=date(2026, 3, 2), period_to=date(2026, 3, 1))
    with pytest.raises(NotFound):
        await page(creator_id=uuid.uuid4())
    other = await make_program(db, clock, name="Globex")
    async with db.read() as session:
        assert (await accrual_records.list_accruals(session, other.caller)).items == []
    assert len((await page(project_id=program.project, status="earned")).items) == 8 and bob


async def test_reject_void_and_restore_need_a_reason_and_respect_payments(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    alice = await program.creator("alice")
    weekly = await program.structure(amount_cents=1000, at=utc(2026, 1, 1))
    await program.assign(weekly, [alice], date(2026, 2, 23), date(2026, 3, 8))
    await program.run()
    first, second = (a.id for a in await accruals(db))

    async def act(
        accrual: uuid.UUID, action: str, reason: str = "Checked with the brand"
    ) -> accrual_records.AccrualOut:
        async with db.write() as session:
            return await accrual_records.update_accrual(
                session, program.caller, accrual, action=action, reason=reason, now=clock.now()
            )

    rejected = await act(first, "reject", "Video was deleted by TikTok for a policy breach")
    assert (rejected.status, rejected.outstanding_cents) == ("rejected", 0)
    assert rejected.status_reason == "Video was deleted by TikTok for a policy breach"
    assert rejected.inputs_snapshot is not None
    with pytest.raises(Conflict) as twice:
        await act(first, "void")
    assert twice.value.code == "no_change"
    restored = await act(first, "restore", "Policy team reinstated the video")
    assert (restored.status, restored.outstanding_cents) == ("earned", 1000)
    with pytest.raises(InvalidInput, match="reason must not be empty"):
        await act(first, "void", "   ")
    with pytest.raises(InvalidInput, match="action 'delete'"):
        await act(first, "delete")
    with pytest.raises(NotFound):
        await act(uuid.uuid4(), "void")

    # A live payment applied 400 of the second accrual: it cannot be voided until that payment is.
    async with db.write() as session:
        method = PayoutMethod(org_id=program.caller.org_id, name="Wise")
        session.add(method)
        await session.flush()
        payment = PayoutPayment(
            org_id=program.caller.org_id,
            project_id=program.project,
            creator_id=alice,
            method_id=method.id,
            method_name_snapshot="Wise",
            total_amount_cents=400,
            paid_at=clock.now(),
            idempotency_key="partial",
        )
        session.add(payment)
        await session.flush()
        session.add(PayoutPaymentLine(payment_id=payment.id, accrual_id=second, applied_amount_cents=400))
    with pytest.raises(Conflict) as paid:
        await act(second, "void")
    assert paid.value.code == "accrual_paid" and "void_payout_payment" in paid.value.message
    async with db.write() as session:
        row = await session.get_one(PayoutPayment, payment.id)
        row.status = "voided"
    voided = await act(second, "void", "Duplicate of a manual bonus")
    assert voided.status == "voided"
    assert (await act(second, "restore", "Not a duplicate after all")).outstanding_cents == 1000


async def test_preview_shows_due_scheduled_and_open_periods_with_the_amounts_the_job_then_records(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)  # Tue Mar 10, 12:00
    alice = await program.creator("alice")
    stale = await program.creator("stale", scraped_at=utc(2026, 3, 1))
    await program.video(alice, utc(2026, 3, 3, 10), 3000)
    await program.video(alice, utc(2026, 3, 10, 9), 1000)
    weekly = await program.structure(amount_cents=7000, proration="daily", name="Weekly", at=utc(2026, 1, 1))
    cpm = await program.structure(criteria_type="cpm", amount_cents=1000, name="CPM", at=utc(2026, 1, 1))
    await program.assign(weekly, [alice], date(2026, 3, 4))
    await program.assign(cpm, [alice, stale], date(2026, 2, 23))
    before = await payout_rows(db)

    async with db.read() as session:
        shown = await preview.preview_accruals(
            session, program.caller, now=clock.now(), project_id=program.project, until=utc(2026, 3, 16)
        )

    rows = [(i.structure_name, i.tiktok_handle, i.period_start_at.date(), i.state, i.amount_cents) for i in shown.items]
    assert rows == [
        ("CPM", "alice", date(2026, 2, 23), "due", 0),
        ("CPM", "stale", date(2026, 2, 23), "due", 0),  # stale, but the 24 h wait ran out on Mar 5
        ("CPM", "alice", date(2026, 3, 2), "scheduled", 3000),  # ended Mar 9, due Mar 11 00:00
        ("CPM", "stale", date(2026, 3, 2), "scheduled", 0),
        ("Weekly", "alice", date(2026, 3, 2), "due", 5000),  # Wed 4 - Sun 8: 5 of 7 days
        ("CPM", "alice", date(2026, 3, 9), "open", 1000),
        ("CPM", "stale", date(2026, 3, 9), "open", 0),
        ("Weekly", "alice", date(2026, 3, 9), "open", 7000),
    ]
    assert [i.stale for i in shown.items[:2]] == [False, True]
    assert shown.total_cents == {"due": 5000, "scheduled": 3000, "open": 8000}
    assert shown.total_periods == 8 and shown.next_cursor is None
    assert await payout_rows(db) == before  # a preview writes nothing

    await program.run()
    recorded = {(e.structure_id, e.creator_id, e.period_start_at.date()): e.amount_cents for e in await evaluations(db)}
    due = [i for i in shown.items if i.state == "due"]
    assert recorded == {(i.structure_id, i.creator_id, i.period_start_at.date()): i.amount_cents for i in due}
    async with db.read() as session:
        narrowed = await preview.preview_accruals(session, program.caller, now=clock.now(), creator_id=stale)
    assert [(i.period_start_at.date(), i.state) for i in narrowed.items] == [
        (date(2026, 3, 2), "scheduled"),
        (date(2026, 3, 9), "open"),
    ]


async def test_preview_pages_continue_after_the_last_period_shown_and_total_only_their_own_items(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)  # Tue Mar 10, 12:00
    creators = [await program.creator(name) for name in ("alice", "bob", "cleo")]
    weekly = await program.structure(amount_cents=1000, name="Weekly", at=utc(2026, 1, 1))
    await program.assign(weekly, creators, date(2026, 2, 16))
    seen: list[tuple[str, date]] = []
    pages: list[dict[str, int]] = []
    cursor = None
    async with db.read() as session:
        whole = await preview.preview_accruals(session, program.caller, now=clock.now(), project_id=program.project)
        while True:
            page = await preview.preview_accruals(
                session, program.caller, now=clock.now(), project_id=program.project, limit=4, cursor=cursor
            )
            seen += [(i.tiktok_handle, i.period_start_at.date()) for i in page.items]
            pages.append(page.total_cents)
            if (cursor := page.next_cursor) is None:
                break
        with pytest.raises(InvalidInput, match="limit 26 is out of range; use 1 to 25"):
            await preview.preview_accruals(
                session, program.caller, now=clock.now(), project_id=program.project, limit=26
            )
    assert seen == [(i.tiktok_handle, i.period_start_at.date()) for i in whole.items] and len(seen) == 12
    assert whole.total_periods == 12 and [sum(p.values()) for p in pages] == [4000, 4000, 4000]


async def test_preview_needs_a_subject_and_a_horizon_ahead(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    async with db.read() as session:
        with pytest.raises(InvalidInput, match="project_id, structure_id or creator_id"):
            await preview.preview_accruals(session, program.caller, now=clock.now())
        with pytest.raises(InvalidInput, match="must be between now and 92 days ahead"):
            await preview.preview_accruals(
                session, program.caller, now=clock.now(), project_id=program.project, until=utc(2026, 3, 1)
            )
        with pytest.raises(NotFound):
            await preview.preview_accruals(session, program.caller, now=clock.now(), structure_id=uuid.uuid4())
