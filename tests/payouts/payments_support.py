"""Rows and checks shared by the payment tests.

Accruals, structures and methods are written as plain ORM rows (the accrual job and the method tools are another
module's business), so each test states exactly what a creator has earned. `audit()` recomputes every ledger figure
from the raw rows, independently of the domain code, and checks the invariants every payment test relies on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import (
    Creator,
    PayoutAccrual,
    PayoutAdjustment,
    PayoutMethod,
    PayoutPayment,
    PayoutPaymentLine,
    PayoutStructure,
    PayoutStructureVersion,
)
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts import payments
from trackagoat_mcp.domain.payouts.payment_records import PaymentOut
from trackagoat_mcp.domain.payouts.payments import LineRequest, PaymentRequest
from trackagoat_mcp.domain.scope import Caller

DEFAULT_METHODS = ("Venmo", "Cash App", "PayPal")
WEEK = timedelta(days=7)
FIRST_MONDAY = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass
class Program:
    """One organization's payout fixtures: a project, creators, a weekly structure and the default methods."""

    caller: Caller
    project: uuid.UUID
    creators: dict[str, uuid.UUID]
    structure: uuid.UUID
    version: uuid.UUID
    methods: dict[str, uuid.UUID]
    weeks: dict[uuid.UUID, int] = field(default_factory=dict)

    @property
    def alice(self) -> uuid.UUID:
        return self.creators["alice"]

    @property
    def venmo(self) -> uuid.UUID:
        return self.methods["Venmo"]


async def seed_program(
    db: Database, clock: FrozenClock, org: tuple[Caller, uuid.UUID], handles: tuple[str, ...] = ("alice", "bob")
) -> Program:
    """Creators, a weekly recurring structure (version 1) and the default methods (found or created)."""
    caller, project = org
    now = clock.now()
    async with db.write() as session:
        creators = {}
        for handle in handles:
            creator = Creator(
                org_id=caller.org_id,
                project_id=project,
                tiktok_handle=handle,
                tracking_start_date=FIRST_MONDAY.date(),
                created_at=now,
                updated_at=now,
            )
            session.add(creator)
            creators[handle] = creator.id
        structure = PayoutStructure(org_id=caller.org_id, project_id=project, name="Weekly retainer", created_at=now)
        session.add(structure)
        await session.flush()
        version = PayoutStructureVersion(
            structure_id=structure.id, version=1, period="weekly", amount_cents=10_000, criteria_type="recurring"
        )
        session.add(version)
        existing = {
            m.name: m.id
            for m in (await session.scalars(select(PayoutMethod).where(PayoutMethod.org_id == caller.org_id))).all()
        }
        for name in DEFAULT_METHODS:
            if name not in existing:
                method = PayoutMethod(org_id=caller.org_id, name=name, is_default=True, created_at=now)
                session.add(method)
                existing[name] = method.id
        await session.flush()
    return Program(caller, project, creators, structure.id, version.id, existing)


async def add_accrual(
    db: Database, program: Program, creator: uuid.UUID, amount: int, *, week: int | None = None
) -> uuid.UUID:
    """An earned accrual of `amount` cents for the creator's next (or the given) weekly period."""
    if week is None:
        week = program.weeks.get(creator, 0)
    program.weeks[creator] = max(program.weeks.get(creator, 0), week + 1)
    start = FIRST_MONDAY + week * WEEK
    async with db.write() as session:
        accrual = PayoutAccrual(
            org_id=program.caller.org_id,
            project_id=program.project,
            creator_id=creator,
            structure_id=program.structure,
            structure_version_id=program.version,
            period_start_at=start,
            period_end_at=start + WEEK,
            amount_cents=amount,
            outstanding_cents=amount,
            created_at=start + WEEK,
            updated_at=start + WEEK,
        )
        session.add(accrual)
    return accrual.id


async def pay(
    db: Database,
    clock: FrozenClock,
    program: Program,
    creator: uuid.UUID | None = None,
    *,
    key: str | None = None,
    lines: Sequence[tuple[uuid.UUID, int | None]] = (),
    method: str = "Venmo",
    caller: Caller | None = None,
    **kwargs: Any,
) -> PaymentOut:
    """Record a payment through the domain function (a fresh key unless one is given)."""
    request = PaymentRequest(
        project_id=str(program.project),
        creator_id=None if creator is None else str(creator),
        method_id=str(program.methods.get(method, method)),
        idempotency_key=str(uuid.uuid4()) if key is None else key,
        lines=tuple(LineRequest(str(a), amount) for a, amount in lines),
        **kwargs,
    )
    return await payments.create_payout_payment(db, caller or program.caller, request, now=clock.now())


async def void(
    db: Database, clock: FrozenClock, program: Program, payment_id: uuid.UUID, reason: str = "bounced"
) -> PaymentOut:
    async with db.write() as session:
        return await payments.void_payout_payment(session, program.caller, payment_id, reason=reason, now=clock.now())


async def accrual(db: Database, accrual_id: uuid.UUID) -> PayoutAccrual:
    async with db.read() as session:
        row = await session.get(PayoutAccrual, accrual_id)
    assert row is not None
    return row


def adjustments_of(payment: PaymentOut, kind: str) -> list[int]:
    return [a.amount_cents for a in payment.payout_adjustments if a.kind == kind]


def applied_of(payment: PaymentOut) -> dict[uuid.UUID, int]:
    return {line.accrual_id: line.applied_amount_cents for line in payment.payout_payment_lines}


@dataclass
class Audit:
    """Ledger figures recomputed from the raw rows, per creator."""

    owed: dict[uuid.UUID, int]
    credit: dict[uuid.UUID, int]
    earned_count: dict[uuid.UUID, int]
    oldest: dict[uuid.UUID, datetime]
    payments: int


async def audit(db: Database, org_id: uuid.UUID) -> Audit:
    """Recompute the ledger from the rows and assert every invariant of SPEC §5 Payments on the way.

    * each payment: total = Σ lines + Σ adjustments (voided ones too: their rows are kept as they were);
    * each accrual: outstanding = amount − Σ lines of live payments, 0 ≤ outstanding ≤ amount, and its status says
      the same (earned ⇔ outstanding > 0, paid ⇔ outstanding = 0);
    * each overpayment of a live payment: what live payments spent of it never exceeds it.
    """
    async with db.read() as session:
        all_payments = {
            p.id: p for p in (await session.scalars(select(PayoutPayment).where(PayoutPayment.org_id == org_id))).all()
        }
        lines = [ln for ln in (await session.scalars(select(PayoutPaymentLine))).all() if ln.payment_id in all_payments]
        adjustments = [
            a for a in (await session.scalars(select(PayoutAdjustment))).all() if a.payment_id in all_payments
        ]
        accruals = (await session.scalars(select(PayoutAccrual).where(PayoutAccrual.org_id == org_id))).all()
    live = {pid for pid, p in all_payments.items() if p.status == "paid"}
    for pid, payment in all_payments.items():
        total = sum(ln.applied_amount_cents for ln in lines if ln.payment_id == pid)
        total += sum(a.amount_cents for a in adjustments if a.payment_id == pid)
        assert payment.total_amount_cents == total, f"payment {pid}: {payment.total_amount_cents} != {total}"
        assert payment.total_amount_cents >= 0
    owed: dict[uuid.UUID, int] = {}
    earned_count: dict[uuid.UUID, int] = {}
    oldest: dict[uuid.UUID, datetime] = {}
    for acc in accruals:
        paid = sum(ln.applied_amount_cents for ln in lines if ln.accrual_id == acc.id and ln.payment_id in live)
        assert acc.outstanding_cents == acc.amount_cents - paid, f"accrual {acc.id}: stored outstanding is off"
        assert 0 <= acc.outstanding_cents <= acc.amount_cents
        assert acc.status == ("earned" if acc.outstanding_cents > 0 else "paid"), (acc.status, acc.outstanding_cents)
        if acc.status == "earned":
            owed[acc.creator_id] = owed.get(acc.creator_id, 0) + acc.outstanding_cents
            earned_count[acc.creator_id] = earned_count.get(acc.creator_id, 0) + 1
            oldest[acc.creator_id] = min(oldest.get(acc.creator_id, acc.period_start_at), acc.period_start_at)
    credit: dict[uuid.UUID, int] = {}
    for over in adjustments:
        if over.kind != "overpayment" or over.payment_id not in live:
            continue
        spent = -sum(
            a.amount_cents
            for a in adjustments
            if a.kind == "credit_applied" and a.source_adjustment_id == over.id and a.payment_id in live
        )
        assert 0 <= spent <= over.amount_cents, f"overpayment {over.id}: spent {spent} of {over.amount_cents}"
        assert over.creator_id is not None
        credit[over.creator_id] = credit.get(over.creator_id, 0) + over.amount_cents - spent
    for spend in adjustments:
        if spend.kind == "credit_applied" and spend.payment_id in live:
            source = next(a for a in adjustments if a.id == spend.source_adjustment_id)
            assert source.payment_id in live, f"live credit_applied {spend.id} spends credit of a voided payment"
    return Audit(owed, credit, earned_count, oldest, len(all_payments))


async def seed_world_payment(
    db: Database, clock: FrozenClock, caller: Caller, project: uuid.UUID, creator: uuid.UUID
) -> dict[str, uuid.UUID]:
    """For the server-wide tests that call every tool (`tests/server`): an earned accrual, a payment of part of it and
    the default methods for an existing creator. Returns ids keyed `payout_method`, `payout_accrual`,
    `payout_payment`, ready for `World.ids`."""
    program = await seed_program(db, clock, (caller, project), handles=())
    program.creators["world"] = creator
    accrual_id = await add_accrual(db, program, creator, 1_000)
    payment = await pay(db, clock, program, creator, lines=[(accrual_id, 400)], key=f"seed-{creator}")
    return {"payout_method": program.venmo, "payout_accrual": accrual_id, "payout_payment": payment.id}
