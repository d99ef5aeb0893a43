"""Property: over any sequence of accruals, payments (lines, auto-apply, totals, settle_in_full, advances) and voids,
the ledger stays sound after every step, and the balances at the end equal a recomputation from the rows.

Each example runs on a fresh SQLite copy of the migrated template (PostgreSQL is covered by the worked examples and
the race tests; here the point is the breadth of sequences, cheaply). After every step `audit()` re-derives the ledger
from the raw rows and asserts the invariants; a refused step must leave every row as it was.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import anyio
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import START, make_org
from tests.payouts.payments_support import Program, add_accrual, audit, pay, seed_program, void
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import (
    IdempotencyKey,
    PayoutAccrual,
    PayoutAdjustment,
    PayoutPayment,
    PayoutPaymentLine,
    table_of,
)
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts.balance import get_payout_balance
from trackagoat_mcp.errors import TrackagoatError

CREATORS = ("alice", "bob")
creator = st.sampled_from(CREATORS)
cents = st.integers(min_value=1, max_value=5_000)
maybe_cents = st.none() | cents
pick = st.integers(min_value=0, max_value=1_000)

accrue = st.tuples(st.just("accrue"), creator, cents)
steps = st.one_of(
    accrue,
    accrue,  # twice as likely: payments need something to pay
    st.tuples(
        st.just("lines"),
        creator,
        st.lists(st.tuples(pick, maybe_cents), min_size=1, max_size=3),
        maybe_cents,
        st.booleans(),
    ),
    st.tuples(st.just("auto"), creator, maybe_cents, st.booleans()),
    st.tuples(st.just("advance"), creator, cents),
    st.tuples(st.just("void"), pick),
)


async def _rows(db: Database) -> list[Any]:
    """Everything a step could change, as comparable tuples."""
    async with db.read() as session:
        return [
            (await session.execute(select(table_of(model)).order_by(table_of(model).c.id))).all()
            for model in (PayoutPayment, PayoutPaymentLine, PayoutAdjustment, PayoutAccrual, IdempotencyKey)
        ]


async def _check_balances(db: Database, program: Program) -> None:
    ledger = await audit(db, program.caller.org_id)
    async with db.read() as session:
        for creator_id in program.creators.values():
            balance = await get_payout_balance(session, program.caller, creator_id=creator_id)
            owed, credit = ledger.owed.get(creator_id, 0), ledger.credit.get(creator_id, 0)
            assert (balance.owed_cents, balance.credit_cents, balance.net_cents) == (owed, credit, owed - credit)
            assert balance.earned_accrual_count == ledger.earned_count.get(creator_id, 0)
            assert balance.oldest_unpaid_period_start_at == ledger.oldest.get(creator_id)
        project = await get_payout_balance(session, program.caller, project_id=program.project)
    assert project.owed_cents == sum(ledger.owed.values())
    assert project.credit_cents == sum(ledger.credit.values())


async def _step(
    db: Database, clock: FrozenClock, program: Program, step: tuple[Any, ...], state: dict[str, Any]
) -> None:
    kind, *args = step
    accruals: list[uuid.UUID] = state["accruals"]
    payments: list[uuid.UUID] = state["payments"]
    if kind == "accrue":
        handle, amount = args
        accruals.append(await add_accrual(db, program, program.creators[handle], amount))
        return
    if kind == "void":
        if payments:
            await void(db, clock, program, payments[args[0] % len(payments)])
        return
    handle = args[0]
    if kind == "lines":
        _, picks, total, settle = args
        if not accruals:
            return
        chosen = {accruals[i % len(accruals)]: applied for i, applied in picks}
        payment = await pay(
            db,
            clock,
            program,
            program.creators[handle],
            lines=list(chosen.items()),
            total_amount_cents=total,
            settle_in_full=settle,
        )
    elif kind == "auto":
        _, total, settle = args
        payment = await pay(
            db,
            clock,
            program,
            program.creators[handle],
            auto_apply_outstanding=True,
            total_amount_cents=total,
            settle_in_full=settle,
        )
    else:
        payment = await pay(db, clock, program, program.creators[handle], total_amount_cents=args[1])
    payments.append(payment.id)


async def _run(template: Path, sequence: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.db"
        shutil.copy(template, path)
        db = Database.connect(f"sqlite+aiosqlite:///{path}")
        try:
            clock = FrozenClock(START)
            program = await seed_program(db, clock, await make_org(db, clock), handles=CREATORS)
            state: dict[str, Any] = {"accruals": [], "payments": []}
            for step in sequence:
                before = None if step[0] == "accrue" else await _rows(db)
                try:
                    await _step(db, clock, program, step, state)
                    event(f"{step[0]}: done")
                except TrackagoatError as exc:
                    event(f"{step[0]}: refused ({exc.code})")
                    assert await _rows(db) == before, f"a refused {step[0]} changed rows"
                await audit(db, program.caller.org_id)
            await _check_balances(db, program)
        finally:
            await db.dispose()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=st.lists(steps, min_size=1, max_size=10))
def test_any_sequence_of_accruals_payments_and_voids_keeps_the_ledger_sound(sqlite_template: Path, sequence) -> None:
    anyio.run(_run, sqlite_template, sequence)
