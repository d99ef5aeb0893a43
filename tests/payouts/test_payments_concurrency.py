"""Payments with different keys racing for the same accruals and credit: never more than is outstanding.

All calls of a test start together in one task group; each opens its own session (its own pooled connection), so on
PostgreSQL they truly run in parallel and only the row locks keep them apart. On SQLite the single writer does.
"""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import pytest
from sqlalchemy import select

from tests.payouts.payments_support import Program, accrual, add_accrual, audit, pay, seed_program, void
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import PayoutAccrual, PayoutPayment
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.errors import Conflict


@pytest.fixture
async def program(db: Database, clock: FrozenClock, acme) -> Program:
    return await seed_program(db, clock, acme)


async def _all_at_once(*calls: Any) -> list[Any]:
    """Run the calls together; each outcome is the payment or the Conflict code."""
    outcomes: list[Any] = [None] * len(calls)

    async def run(i: int) -> None:
        try:
            outcomes[i] = await calls[i]()
        except Conflict as exc:
            outcomes[i] = exc.code

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for i in range(len(calls)):
                group.start_soon(run, i)
    return outcomes


async def _sent(db: Database, program: Program) -> int:
    async with db.read() as session:
        rows = await session.scalars(
            select(PayoutPayment.total_amount_cents).where(
                PayoutPayment.org_id == program.caller.org_id, PayoutPayment.status == "paid"
            )
        )
        return sum(rows)


async def test_ten_payments_of_one_accrual_at_once_pay_it_exactly_once(db, clock, program):
    a = await add_accrual(db, program, program.alice, 4_000)

    outcomes = await _all_at_once(*[lambda: pay(db, clock, program, program.alice, lines=[(a, None)])] * 10)

    payments = [o for o in outcomes if not isinstance(o, str)]
    assert len(payments) == 1 and payments[0].total_amount_cents == 4_000
    assert sorted(o for o in outcomes if isinstance(o, str)) == ["accrual_not_payable"] * 9
    assert (await accrual(db, a)).outstanding_cents == 0
    await audit(db, program.caller.org_id)


async def test_racing_auto_applied_payments_never_apply_more_than_is_outstanding(db, clock, program):
    amounts = [2_000, 2_000, 2_000]
    ids = [await add_accrual(db, program, program.alice, cents) for cents in amounts]

    def one() -> Any:
        return pay(db, clock, program, program.alice, auto_apply_outstanding=True, total_amount_cents=2_500)

    outcomes = await _all_at_once(*[one] * 8)

    payments = [o for o in outcomes if not isinstance(o, str)]
    assert {o for o in outcomes if isinstance(o, str)} <= {"nothing_outstanding"}
    applied = sum(line.applied_amount_cents for p in payments for line in p.payout_payment_lines)
    assert applied == sum(amounts)  # every cent owed was paid once, none twice
    assert [(await accrual(db, x)).outstanding_cents for x in ids] == [0, 0, 0]
    ledger = await audit(db, program.caller.org_id)
    # Money conservation: everything sent either settled an accrual or is still held as credit.
    assert await _sent(db, program) == sum(amounts) + ledger.credit.get(program.alice, 0)
    assert ledger.credit.get(program.alice, 0) == 2_500 * len(payments) - sum(amounts)


async def test_racing_payments_never_spend_the_same_credit_twice(db, clock, program):
    await pay(db, clock, program, program.alice, total_amount_cents=1_000)  # credit 1,000
    for _ in range(6):
        await add_accrual(db, program, program.alice, 400)
    accruals = await _earned(db, program.alice)

    outcomes = await _all_at_once(
        *[lambda a=a: pay(db, clock, program, program.alice, lines=[(a, None)]) for a in accruals]
    )

    assert all(not isinstance(o, str) for o in outcomes)
    spent = -sum(x.amount_cents for p in outcomes for x in p.payout_adjustments if x.kind == "credit_applied")
    assert spent == 1_000  # 400 + 400 + 200, in whatever order the payments ran
    assert sum(p.total_amount_cents for p in outcomes) == 6 * 400 - 1_000
    ledger = await audit(db, program.caller.org_id)
    assert ledger.credit == {program.alice: 0} and ledger.owed == {}


async def test_a_void_racing_a_payment_that_spends_its_credit_lets_only_one_of_them_win(db, clock, program):
    for _round in range(3):
        creator = await _new_creator(db, clock, program)
        overpaid = await pay(db, clock, program, creator, total_amount_cents=1_000)
        await add_accrual(db, program, creator, 1_500)

        voided, spender = await _all_at_once(
            lambda overpaid=overpaid: void(db, clock, program, overpaid.id),
            lambda creator=creator: pay(db, clock, program, creator, auto_apply_outstanding=True),
        )

        spent = [x.amount_cents for x in spender.payout_adjustments if x.kind == "credit_applied"]
        if voided == "credit_consumed":
            assert spent == [-1_000] and spender.total_amount_cents == 500
        else:
            assert voided.status == "voided" and spent == [] and spender.total_amount_cents == 1_500
        await audit(db, program.caller.org_id)


async def _earned(db: Database, creator: uuid.UUID) -> list[uuid.UUID]:
    async with db.read() as session:
        rows = await session.scalars(
            select(PayoutAccrual.id).where(PayoutAccrual.creator_id == creator, PayoutAccrual.status == "earned")
        )
        return list(rows)


async def _new_creator(db: Database, clock: FrozenClock, program: Program) -> uuid.UUID:
    extra = await seed_program(db, clock, (program.caller, program.project), handles=(f"c{uuid.uuid4().hex[:8]}",))
    return next(iter(extra.creators.values()))
