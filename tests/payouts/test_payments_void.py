"""Voiding a payment: it stops counting, its accruals are owed again, and credit someone already spent blocks it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from tests.payouts.payments_support import Program, accrual, add_accrual, audit, pay, seed_program, void
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts.balance import get_payout_balance
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Conflict, InvalidInput, NotFound


@pytest.fixture
async def program(db: Database, clock: FrozenClock, acme) -> Program:
    return await seed_program(db, clock, acme)


async def test_a_voided_payment_returns_its_accruals_to_earned_with_their_outstanding_restored(db, clock, program):
    full = await add_accrual(db, program, program.alice, 3_000)
    part = await add_accrual(db, program, program.alice, 2_000)
    earlier = await pay(db, clock, program, program.alice, lines=[(part, 500)])
    payment = await pay(db, clock, program, program.alice, auto_apply_outstanding=True)
    assert [(await accrual(db, a)).status for a in (full, part)] == ["paid", "paid"]
    clock.advance(timedelta(hours=1))

    voided = await void(db, clock, program, payment.id, reason="Venmo transfer bounced")

    assert (voided.status, voided.void_reason, voided.voided_at) == ("voided", "Venmo transfer bounced", clock.now())
    assert sum(line.applied_amount_cents for line in voided.payout_payment_lines) == 4_500  # the record keeps its lines
    rows = [await accrual(db, a) for a in (full, part)]
    assert [(r.status, r.outstanding_cents) for r in rows] == [("earned", 3_000), ("earned", 1_500)]
    ledger = await audit(db, program.caller.org_id)
    assert ledger.owed == {program.alice: 4_500}  # the earlier partial payment of 500 still counts
    assert earlier.id != payment.id


async def test_voiding_a_payment_that_spent_credit_gives_the_credit_back(db, clock, program):
    advance = await pay(db, clock, program, program.alice, total_amount_cents=1_000)
    await add_accrual(db, program, program.alice, 1_500)
    spender = await pay(db, clock, program, program.alice, auto_apply_outstanding=True)
    assert spender.total_amount_cents == 500

    await void(db, clock, program, spender.id)

    ledger = await audit(db, program.caller.org_id)
    assert ledger.credit == {program.alice: 1_000} and ledger.owed == {program.alice: 1_500}
    assert [a.kind for a in advance.payout_adjustments] == ["overpayment"]


async def test_a_payment_whose_credit_was_spent_cannot_be_voided_until_the_spender_is(db, clock, program):
    a = await add_accrual(db, program, program.alice, 1_000)
    overpaid = await pay(db, clock, program, program.alice, lines=[(a, None)], total_amount_cents=1_800)
    await add_accrual(db, program, program.alice, 500)
    spender = await pay(db, clock, program, program.alice, auto_apply_outstanding=True)
    assert [x.kind for x in spender.payout_adjustments] == ["credit_applied"]

    with pytest.raises(Conflict) as refused:
        await void(db, clock, program, overpaid.id)

    assert refused.value.code == "credit_consumed"
    assert str(spender.id) in refused.value.message and "Void those first" in refused.value.message
    assert (await accrual(db, a)).status == "paid"  # nothing changed
    await void(db, clock, program, spender.id)
    await void(db, clock, program, overpaid.id)
    ledger = await audit(db, program.caller.org_id)
    assert ledger.credit == {} and ledger.owed == {program.alice: 1_500}


async def test_voiding_twice_is_refused_and_changes_nothing(db, clock, program):
    payment = await pay(db, clock, program, program.alice, total_amount_cents=100)
    first = await void(db, clock, program, payment.id, reason="duplicate entry")
    clock.advance(timedelta(minutes=5))

    with pytest.raises(Conflict) as again:
        await void(db, clock, program, payment.id, reason="another reason")

    assert again.value.code == "already_voided" and "'duplicate entry'" in again.value.message
    async with db.read() as session:
        balance = await get_payout_balance(session, program.caller, creator_id=program.alice)
    assert balance.credit_cents == 0 and first.voided_at == clock.now() - timedelta(minutes=5)


async def test_void_needs_a_reason_and_an_id_of_this_organization(db, clock, program, globex):
    payment = await pay(db, clock, program, program.alice, total_amount_cents=100)

    with pytest.raises(InvalidInput, match="reason must not be empty"):
        await void(db, clock, program, payment.id, reason="  ")
    stranger = Caller(org_id=globex[0].org_id, scopes=frozenset({"write"}))
    with pytest.raises(NotFound, match="No payout payment"):
        await void(db, clock, dataclasses.replace(program, caller=stranger), payment.id)
    assert (await audit(db, program.caller.org_id)).credit == {program.alice: 100}
