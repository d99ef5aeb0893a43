"""What a money-moving call is about to write, in the words a person approves it in (`MoneyEffect`).

An effect is described from the outcome of the very code that writes it: a dry run (the operation in a transaction
that is rolled back, `Database.dry_run`) gives the preview, and the real write describes its own outcome the same
way inside its transaction, before the commit. The two descriptions are equal exactly when the write does what the
person saw, which is what `digest` compares (a confirmation carries the digest of what was shown).

The digest covers every figure shown and the ids behind them (each accrual, the credit drawn on, the payment
voided, the structure version), never values that differ between two runs of the same request (new row ids,
timestamps of now). A change to the ledger that alters what the call would write (an accrual paid, rejected or
newly earned under auto-apply, credit spent elsewhere, a renamed method) therefore changes the digest; a change
elsewhere in the ledger leaves it, and the preview, as true as it was.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from trackagoat_mcp.db.models import Creator, PayoutAccrual, PayoutStructure, PayoutStructureVersion
from trackagoat_mcp.domain.payouts.accrual_records import AccrualOut
from trackagoat_mcp.domain.payouts.assignments import AssignResult
from trackagoat_mcp.domain.payouts.payment_records import PaymentOut
from trackagoat_mcp.domain.payouts.settlement import usd

__all__ = ["EffectItem", "MoneyEffect", "accrual_effect", "assign_effect", "payment_effect", "void_effect"]


class EffectItem(BaseModel):
    """One accrual (with its period) or creator the call touches, and the cents involved."""

    model_config = ConfigDict(frozen=True)

    what: str
    cents: int | None = None
    ref: str | None = Field(default=None, description="The accrual, credit or creator id behind the line.")


class MoneyEffect(BaseModel):
    """Exactly what a money-moving call will write."""

    model_config = ConfigDict(frozen=True)

    tool: str
    summary: str
    creator_handle: str | None = None
    method: str | None = None
    total_cents: int | None = None
    items: list[EffectItem] = Field(default_factory=list)
    credit_spent_cents: int = 0
    credit_booked_cents: int = Field(default=0, description="Overpayment held as credit (a void: credit removed).")
    write_off_cents: int = 0
    notes: list[str] = Field(default_factory=list)

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the effect's canonical JSON: equal digests, equal effects."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def text(self) -> str:
        """The effect as lines a person reads before approving."""
        lines = [self.summary]
        lines += [f"- {item.what}" + ("" if item.cents is None else f": {usd(item.cents)}") for item in self.items]
        if self.credit_spent_cents:
            lines.append(f"Credit spent: {usd(self.credit_spent_cents)}")
        if self.credit_booked_cents:
            lines.append(
                f"{'Credit removed' if self.tool == 'void_payout_payment' else 'Overpayment held as credit'}:"
                f" {usd(self.credit_booked_cents)}"
            )
        if self.write_off_cents:
            lines.append(f"Written off (settled in full for less): {usd(self.write_off_cents)}")
        lines += self.notes
        return "\n".join(lines)


def _period(start: datetime, end: datetime) -> str:
    return f"{start.date().isoformat()}..{(end - timedelta(days=1)).date().isoformat()}"


async def _handle(session: AsyncSession, creator_id: uuid.UUID | None) -> str | None:
    if creator_id is None:
        return None
    handle = await session.scalar(select(col(Creator.tiktok_handle)).where(col(Creator.id) == creator_id))
    return None if handle is None else str(handle)


async def payment_effect(session: AsyncSession, payment: PaymentOut, *, paid_at_given: bool) -> MoneyEffect:
    """A payment about to be recorded (read in its own transaction, after its rows were flushed)."""
    handle = await _handle(session, payment.creator_id)
    rows = await session.execute(
        select(col(PayoutAccrual.id), col(PayoutAccrual.outstanding_cents)).where(
            col(PayoutAccrual.id).in_([line.accrual_id for line in payment.payout_payment_lines])
        )
    )
    outstanding = {row.id: row.outstanding_cents for row in rows}
    items = [
        EffectItem(
            what=f"{line.structure_name} {_period(line.period_start_at, line.period_end_at)}"
            + ("" if not outstanding.get(line.accrual_id) else f" (leaves {usd(outstanding[line.accrual_id])} owed)"),
            cents=line.applied_amount_cents,
            ref=str(line.accrual_id),
        )
        for line in payment.payout_payment_lines
    ]
    spent = [a for a in payment.payout_adjustments if a.kind == "credit_applied"]
    items += [
        EffectItem(what="credit from an earlier overpayment", cents=-a.amount_cents, ref=str(a.source_adjustment_id))
        for a in spent
    ]
    kinds = {
        kind: sum(a.amount_cents for a in payment.payout_adjustments if a.kind == kind)
        for kind in ("overpayment", "underpayment", "ad_hoc")
    }
    who = f"@{handle}" if handle is not None else "no creator (ad-hoc, outside the accrual ledger)"
    notes = [f"Paid at {payment.paid_at.isoformat()}"] if paid_at_given else []
    if not payment.payout_payment_lines and handle is not None:
        notes.append("No accruals settled: the whole total is held as credit (an advance).")
    return MoneyEffect(
        tool="create_payout_payment",
        summary=f"Record a payment of {usd(payment.total_amount_cents)} to {who} by {payment.method_name_snapshot}.",
        creator_handle=handle,
        method=payment.method_name_snapshot,
        total_cents=payment.total_amount_cents,
        items=items,
        credit_spent_cents=-sum(a.amount_cents for a in spent),
        credit_booked_cents=kinds["overpayment"],
        write_off_cents=-kinds["underpayment"],
        notes=notes,
    )


async def void_effect(session: AsyncSession, voided: PaymentOut) -> MoneyEffect:
    """A payment about to be voided (`voided` is its record after the void, before the commit)."""
    handle = await _handle(session, voided.creator_id)
    items = [
        EffectItem(
            what=f"owed again: {line.structure_name} {_period(line.period_start_at, line.period_end_at)}",
            cents=line.applied_amount_cents,
            ref=str(line.accrual_id),
        )
        for line in voided.payout_payment_lines
    ]
    spent = -sum(a.amount_cents for a in voided.payout_adjustments if a.kind == "credit_applied")
    booked = sum(a.amount_cents for a in voided.payout_adjustments if a.kind == "overpayment")
    who = f"@{handle}" if handle is not None else "no creator (ad-hoc)"
    notes = [f"Reason: {voided.void_reason}"]
    if spent:
        notes.append(f"Credit it spent is available again: {usd(spent)}")
    return MoneyEffect(
        tool="void_payout_payment",
        summary=f"Void payment {voided.id} of {usd(voided.total_amount_cents)} to {who} by "
        f"{voided.method_name_snapshot}, paid {voided.paid_at.isoformat()}.",
        creator_handle=handle,
        method=voided.method_name_snapshot,
        total_cents=voided.total_amount_cents,
        items=items,
        credit_booked_cents=booked,
        notes=notes,
    )


def accrual_effect(before: AccrualOut, action: str, reason: str) -> MoneyEffect:
    """An accrual about to be rejected or voided: what stops being owed."""
    verb = "Reject" if action == "reject" else "Void"
    return MoneyEffect(
        tool="update_payout_accrual",
        summary=f"{verb} the accrual of @{before.tiktok_handle} under {before.structure_name} "
        f"(version {before.structure_version}): it stops being owed.",
        creator_handle=before.tiktok_handle,
        total_cents=before.outstanding_cents,
        items=[
            EffectItem(
                what=f"{_period(before.period_start_at, before.period_end_at)}, earned {usd(before.amount_cents)}, "
                "no longer owed",
                cents=before.outstanding_cents,
                ref=str(before.id),
            )
        ],
        notes=[f"Reason: {reason.strip()}"],
    )


async def assign_effect(
    session: AsyncSession, result: AssignResult, *, starts_on: date, ends_on: date | None, today: date
) -> MoneyEffect | None:
    """Creators about to earn under a structure; None when every one is already assigned (nothing is written)."""
    new = [r for r in result.results if r.outcome == "assigned"]
    if not new:
        return None
    name, number = (
        await session.execute(
            select(col(PayoutStructure.name), col(PayoutStructure.current_version)).where(
                col(PayoutStructure.id) == result.structure_id
            )
        )
    ).one()
    version = (
        await session.scalars(
            select(PayoutStructureVersion).where(
                col(PayoutStructureVersion.structure_id) == result.structure_id,
                col(PayoutStructureVersion.version) == number,
            )
        )
    ).one()
    rule = f"{version.criteria_type}, {usd(version.amount_cents)} {version.period}"
    if version.criteria_params:
        rule += f" {json.dumps(version.criteria_params, sort_keys=True)}"
    until = "open-ended" if ends_on is None else ends_on.isoformat()
    notes = []
    if starts_on < today:
        notes.append(
            f"Back-dated: periods from {starts_on.isoformat()} on are evaluated by the next accrual run, so money "
            "may be earned at once."
        )
    return MoneyEffect(
        tool="assign_payout_structure",
        summary=f"Assign {len(new)} creator(s) to {name!r} (version {number}: {rule}) from {starts_on.isoformat()} "
        f"to {until}.",
        items=[EffectItem(what=f"@{r.tiktok_handle}", ref=str(r.creator_id)) for r in new],
        notes=notes,
    )
