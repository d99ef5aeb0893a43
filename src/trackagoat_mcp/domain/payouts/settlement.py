"""Settlement: how a payment's money is applied to accruals and credit, and the rows that record it.

`plan_creator_payment` locks what a payment touches (the accruals, then the creator's open credits, each in id order
so racing payments queue instead of deadlocking; SQLite's single writer serializes anyway), reads them afresh, and
works out the `Plan`: money applied per accrual, credit spent per overpayment (oldest first), and the overpayment or
underpayment that balances the total. `write_plan` turns a plan into lines and adjustments and updates the accruals;
`assert_balanced` re-reads the rows and checks total = Σ lines + Σ adjustments before the commit. The rules
themselves are listed in `payments`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from sqlmodel import select as model_select

from trackagoat_mcp.db.dialect import lock_rows
from trackagoat_mcp.db.models import Creator, PayoutAccrual, PayoutAdjustment, PayoutPayment, PayoutPaymentLine, Project
from trackagoat_mcp.domain.payouts.balance import CreditSource, open_credits
from trackagoat_mcp.domain.scope import Caller, not_found, parse_id
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = ["LineRequest", "Plan", "assert_balanced", "lock_accruals", "plan_creator_payment", "usd", "write_plan"]


@dataclass(frozen=True)
class LineRequest:
    """Apply `applied_amount_cents` (default: all that is outstanding) to one accrual."""

    accrual_id: str
    applied_amount_cents: int | None = None


def usd(cents: int) -> str:
    """Cents as a sentence shows them: `1050 cents ($10.50)`."""
    sign = "-" if cents < 0 else ""
    return f"{cents} cents ({sign}${abs(cents) / 100:,.2f})"


@dataclass
class Plan:
    """What a payment writes: the total, money applied per accrual, credit spent per source, and the adjustments."""

    total: int
    applied: list[tuple[PayoutAccrual, int]] = field(default_factory=list)
    credit_spent: list[tuple[CreditSource, int]] = field(default_factory=list)
    overpayment: int = 0
    underpayment: int = 0
    ad_hoc: int = 0


async def plan_creator_payment(
    session: AsyncSession,
    caller: Caller,
    *,
    creator: Creator,
    project: Project,
    lines: Sequence[LineRequest],
    auto_apply: bool,
    settle_in_full: bool,
    total: int | None,
) -> Plan:
    """Lock what the payment touches and work out its lines and adjustments (nothing is written yet)."""
    if lines:
        applied = await _apply_lines(session, caller, lines, settle_in_full, creator, project)
        credits = await open_credits(session, creator.id, lock=True)
    elif auto_apply:
        earned = await lock_accruals(
            session,
            col(PayoutAccrual.creator_id) == creator.id,
            col(PayoutAccrual.project_id) == project.id,
            col(PayoutAccrual.status) == "earned",
            col(PayoutAccrual.outstanding_cents) > 0,
        )
        if not earned:
            raise Conflict(
                f"Creator @{creator.tiktok_handle} ({creator.id}) has no earned accruals with money outstanding; "
                "check get_payout_balance, or send total_amount_cents without auto_apply_outstanding for an advance.",
                code="nothing_outstanding",
            )
        earned.sort(key=lambda a: (a.period_start_at, a.period_end_at, a.created_at, a.id))
        credits = await open_credits(session, creator.id, lock=True)
        budget = None if total is None or settle_in_full else total + sum(c.remaining_cents for c in credits)
        applied = _spread(earned, budget)
    else:
        applied, credits = [], []
    plan = Plan(total=0, applied=applied)
    owed = sum(amount for _, amount in applied)
    plan.credit_spent = _spend(credits, owed)
    due = owed - sum(amount for _, amount in plan.credit_spent)
    plan.total = due if total is None else total
    if plan.total > due:
        plan.overpayment = plan.total - due
    elif plan.total < due:
        if not settle_in_full:
            raise InvalidInput(
                f"total_amount_cents {usd(plan.total)} is less than the {usd(due)} the lines apply"
                + (f" after {usd(owed - due)} of credit" if owed > due else "")
                + "; lower the lines' applied_amount_cents, raise the total, or pass settle_in_full=true to mark them "
                "paid and write the difference off as an underpayment."
            )
        plan.underpayment = due - plan.total
    return plan


async def lock_accruals(session: AsyncSession, *where: Any) -> list[PayoutAccrual]:
    """Lock (PostgreSQL: `FOR UPDATE` in id order, so racing payments queue instead of deadlocking) and read afresh."""
    query = lock_rows(model_select(PayoutAccrual).where(*where).order_by(col(PayoutAccrual.id))).execution_options(
        populate_existing=True
    )
    return list((await session.scalars(query)).all())


async def _apply_lines(
    session: AsyncSession,
    caller: Caller,
    lines: Sequence[LineRequest],
    settle_in_full: bool,
    creator: Creator,
    project: Project,
) -> list[tuple[PayoutAccrual, int]]:
    ids = [parse_id(line.accrual_id, "payout accrual") for line in lines]
    locked = {
        a.id: a
        for a in await lock_accruals(
            session, col(PayoutAccrual.id).in_(ids), col(PayoutAccrual.org_id) == caller.org_id
        )
    }
    applied = []
    for accrual_id, line in zip(ids, lines, strict=True):
        accrual = locked.get(accrual_id)
        if accrual is None:
            raise not_found("payout accrual", accrual_id)
        if accrual.creator_id != creator.id or accrual.project_id != project.id:
            raise InvalidInput(
                f"Accrual {str(accrual.id)!r} belongs to another creator; a payment's lines must all be accruals of "
                f"@{creator.tiktok_handle} ({creator.id}). Use list_payout_accruals(creator_id=...) to find them."
            )
        if accrual.status != "earned" or accrual.outstanding_cents <= 0:
            raise Conflict(
                f"Accrual {str(accrual.id)!r} is {accrual.status!r} with {usd(accrual.outstanding_cents)} "
                "outstanding, so it cannot be paid; only earned accruals with money outstanding can "
                "(list_payout_accruals with status='earned').",
                code="accrual_not_payable",
            )
        amount = accrual.outstanding_cents if line.applied_amount_cents is None else line.applied_amount_cents
        if settle_in_full and amount != accrual.outstanding_cents:
            raise InvalidInput(
                f"settle_in_full settles each accrual whole, but the line for accrual {str(accrual.id)!r} applies "
                f"{usd(amount)} of its {usd(accrual.outstanding_cents)} outstanding; omit applied_amount_cents."
            )
        if amount > accrual.outstanding_cents:
            raise Conflict(
                f"The line for accrual {str(accrual.id)!r} applies {usd(amount)}, more than its "
                f"{usd(accrual.outstanding_cents)} outstanding; apply at most that, and put any extra in "
                "total_amount_cents to hold it as credit.",
                code="exceeds_outstanding",
            )
        applied.append((accrual, amount))
    return applied


def _spread(earned: list[PayoutAccrual], budget: int | None) -> list[tuple[PayoutAccrual, int]]:
    """Apply `budget` (None: without limit) to `earned`, in the given order, until it runs out."""
    applied = []
    for accrual in earned:
        amount = accrual.outstanding_cents if budget is None else min(budget, accrual.outstanding_cents)
        if amount <= 0:
            break
        applied.append((accrual, amount))
        if budget is not None:
            budget -= amount
    return applied


def _spend(credits: list[CreditSource], owed: int) -> list[tuple[CreditSource, int]]:
    """Spend open credits, oldest first, up to `owed`."""
    spent = []
    for source in credits:
        if owed <= 0:
            break
        amount = min(owed, source.remaining_cents)
        spent.append((source, amount))
        owed -= amount
    return spent


def write_plan(session: AsyncSession, plan: Plan, payment: PayoutPayment, now: datetime) -> None:
    for accrual, amount in plan.applied:
        session.add(
            PayoutPaymentLine(payment_id=payment.id, accrual_id=accrual.id, applied_amount_cents=amount, created_at=now)
        )
        # settle_in_full marks the accrual paid even though the money fell short: the shortfall is the underpayment.
        accrual.outstanding_cents -= amount
        accrual.status = "paid" if accrual.outstanding_cents == 0 else "earned"
        accrual.updated_at = now
        session.add(accrual)

    def adjust(kind: str, amount: int, reason: str, source: uuid.UUID | None = None) -> None:
        session.add(
            PayoutAdjustment(
                payment_id=payment.id,
                creator_id=payment.creator_id,
                kind=kind,
                amount_cents=amount,
                reason=reason,
                source_adjustment_id=source,
                created_at=now,
            )
        )

    for source, amount in plan.credit_spent:
        adjust(
            "credit_applied",
            -amount,
            f"credit from the overpayment in payment {source.payment_id}",
            source.adjustment_id,
        )
    if plan.overpayment:
        adjust("overpayment", plan.overpayment, "paid more than was applied; held as credit for the next accruals")
    if plan.underpayment:
        adjust("underpayment", -plan.underpayment, "settled in full for less than was due (settle_in_full)")
    if plan.ad_hoc:
        adjust("ad_hoc", plan.ad_hoc, "ad-hoc payment outside the accrual ledger (no creator)")


async def assert_balanced(session: AsyncSession, payment: PayoutPayment) -> None:
    """The ledger invariant, read back from the rows about to be committed."""
    lines = await session.scalar(
        select(func.coalesce(func.sum(col(PayoutPaymentLine.applied_amount_cents)), 0)).where(
            col(PayoutPaymentLine.payment_id) == payment.id
        )
    )
    adjustments = await session.scalar(
        select(func.coalesce(func.sum(col(PayoutAdjustment.amount_cents)), 0)).where(
            col(PayoutAdjustment.payment_id) == payment.id
        )
    )
    if payment.total_amount_cents != int(lines or 0) + int(adjustments or 0):
        raise AssertionError(
            f"payment {payment.id}: total {payment.total_amount_cents} != lines {lines} + adjustments {adjustments}"
        )
