"""Payments: money sent to a creator that settles their earned accruals, exactly once per idempotency key.

Rules (SPEC §5 Payments), all amounts integer cents in USD:

* `total_amount_cents = Σ lines.applied_amount_cents + Σ adjustments.amount_cents`, checked against the stored rows
  before every commit. The record (`payment_records.PaymentOut`) names them `payout_payment_lines` and
  `payout_adjustments`, as the data model does.
* **Lines** apply to `earned` accruals of the payment's creator (same organization and project). An accrual whose
  outstanding reaches zero becomes `paid`; a partial line leaves it `earned` with the rest outstanding. A line
  without `applied_amount_cents` applies the accrual's whole outstanding amount.
* **auto_apply_outstanding** applies to the creator's earned accruals, oldest period first. With no total, the
  total is what is outstanding (less credit); with a total, the money (plus credit) is spread oldest first and the
  last accrual it reaches may stay partly outstanding.
* **Credit first.** A creator's unspent overpayments are spent before money: each spend is a negative
  `credit_applied` adjustment naming the overpayment it draws on (`source_adjustment_id`), oldest credit first.
* **Overpayment.** Paying more than is applied (after credit) books the excess as a positive `overpayment`
  adjustment: a credit the creator holds. A creator payment with neither lines nor auto-apply is an advance:
  its whole total becomes credit.
* **settle_in_full** with less than is due marks the accruals paid anyway and books the shortfall as a negative
  `underpayment` adjustment (a write-off). Without it, a total smaller than the lines apply is refused.
* **Ad-hoc payments** (`creator_id` null) pay someone outside the accrual ledger (a one-off bonus, a
  reimbursement): they take no lines, no auto-apply and no settle_in_full, need a total, and book it as one
  positive `ad_hoc` adjustment so the invariant holds. They create no credit and never show in a balance.
* The method must be active; its name is copied to `method_name_snapshot`, so renaming it later does not change
  past payments. `paid_at` defaults to now and may be in the past (recording a transfer already made), not later
  than five minutes ahead.
* **Void** (`void_payout_payment`) marks a payment `voided` with a reason: its lines and adjustments stop counting,
  so the accruals it paid return to `earned` with their outstanding restored, credit it spent is available again
  and credit it booked disappears. Refused (`credit_consumed`) while a live payment has spent its overpayment
  credit (void that one first); a second void is refused (`already_voided`) and changes nothing.

Exactly once: `create_payout_payment` claims the idempotency key (see `idempotency`) before working, and marks it
done in the same transaction that writes the payment. Races for the same accruals are settled by row locks on
PostgreSQL (`FOR UPDATE`, accruals then credits, each in id order) and by SQLite's single writer, so no two
payments ever apply more than is outstanding or spend the same credit. The arithmetic lives in `settlement`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from sqlmodel import select as model_select

from trackagoat_mcp.clock import ensure_utc
from trackagoat_mcp.db.dialect import lock_rows
from trackagoat_mcp.db.models import (
    Creator,
    PayoutAccrual,
    PayoutAdjustment,
    PayoutMethod,
    PayoutPayment,
    PayoutPaymentLine,
)
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.notes import check_metadata, check_readme
from trackagoat_mcp.domain.payouts import idempotency
from trackagoat_mcp.domain.payouts.payment_records import PaymentOut, get_payout_payment
from trackagoat_mcp.domain.payouts.settlement import (
    LineRequest,
    Plan,
    assert_balanced,
    lock_accruals,
    plan_creator_payment,
    write_plan,
)
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_in_org, not_found, parse_id, require_text
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = [
    "MAX_CENTS",
    "MAX_LINES",
    "OPERATION",
    "LineRequest",
    "PaymentRequest",
    "PaymentCheck",
    "create_payout_payment",
    "finished_payment",
    "record_payment",
    "void_payout_payment",
]

logger = logging.getLogger(__name__)

OPERATION = "create_payout_payment"
MAX_CENTS = 10**10
"""Upper bound of any amount: $100,000,000. Anything larger is a typo (dollars sent as cents, an extra zero)."""
MAX_LINES = 500
REASON_MAX = 2000
PAID_AT_GRACE = timedelta(minutes=5)
CURRENCY = "USD"

PaymentCheck = Callable[[AsyncSession, PaymentOut], Awaitable[None]]
"""Runs inside a payment's transaction with the payment as it is about to commit; raising rolls it all back."""

# --- requests ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    """The arguments of `create_payout_payment`, as the caller sent them (their fingerprint names the request)."""

    project_id: str
    creator_id: str | None
    method_id: str
    idempotency_key: str
    total_amount_cents: int | None = None
    lines: Sequence[LineRequest] = ()
    auto_apply_outstanding: bool = False
    settle_in_full: bool = False
    paid_at: datetime | None = None
    metadata: dict[str, Any] | None = None
    readme: str | None = None

    def fingerprint(self) -> str:
        """SHA-256 of the canonical arguments (ids in canonical UUID form, times in UTC; the key itself left out)."""
        return idempotency.fingerprint(
            {
                "project_id": _canonical_id(self.project_id),
                "creator_id": None if self.creator_id is None else _canonical_id(self.creator_id),
                "method_id": _canonical_id(self.method_id),
                "total_amount_cents": self.total_amount_cents,
                "lines": [[_canonical_id(line.accrual_id), line.applied_amount_cents] for line in self.lines],
                "auto_apply_outstanding": self.auto_apply_outstanding,
                "settle_in_full": self.settle_in_full,
                "paid_at": None if self.paid_at is None else ensure_utc(self.paid_at).isoformat(),
                "metadata": self.metadata,
                "readme": self.readme,
            }
        )


def _canonical_id(value: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return value


# --- creating ------------------------------------------------------------------------------------------------


async def create_payout_payment(
    db: Database, caller: Caller, request: PaymentRequest, *, now: datetime, check: PaymentCheck | None = None
) -> PaymentOut:
    """Record a payment exactly once per `request.idempotency_key` (rules in the module docstring).

    `check`, when given, sees the payment inside its transaction before the commit (a person's confirmation is
    compared with what is really written there); a replay of a finished key returns before any check.

    Malformed requests are refused before the key is touched. Then the key is claimed in its own transaction; a
    finished key returns the original payment (`replayed=true`), a running one `idempotency_key_in_use`, a key used
    for other arguments `idempotency_key_reused`. The payment, its lines, adjustments, accrual updates and the key's
    `done` mark commit in one transaction; if that fails the key is released so a corrected retry can run.
    """
    caller.require("write")
    _check_request(request, now)
    held = await idempotency.claim(
        db,
        org_id=caller.org_id,
        operation=OPERATION,
        key=request.idempotency_key,
        fingerprint=request.fingerprint(),
        now=now,
    )
    if held.replay:
        async with db.read() as session:
            return await get_payout_payment(session, caller, held.resource_id, replayed=True)
    try:
        async with db.write() as session:
            payment_id = uuid.uuid4()
            await idempotency.finish(session, held, key=request.idempotency_key, resource_id=payment_id, now=now)
            await _record(session, caller, request, payment_id, now)
            payment = await get_payout_payment(session, caller, payment_id)
            if check is not None:
                await check(session, payment)
            return payment
    except BaseException:
        # Nothing of the work was committed (or, if the commit did happen, the key is `done` and this is a no-op).
        with anyio.move_on_after(10, shield=True):
            try:
                await idempotency.release(db, held)
            except Exception:  # the lease expires on its own; the original error is the one to report
                logger.warning("Could not release idempotency key %s; it frees itself after the lease", held.key_id)
        raise


async def finished_payment(session: AsyncSession, caller: Caller, request: PaymentRequest) -> uuid.UUID | None:
    """The payment an earlier call with this idempotency key and these arguments recorded, if it finished (a retry
    then only replays it); `idempotency_key_reused` when the key was used for other arguments."""
    idempotency.check_key(request.idempotency_key)
    return await idempotency.finished(
        session,
        org_id=caller.org_id,
        operation=OPERATION,
        key=request.idempotency_key,
        fingerprint=request.fingerprint(),
    )


async def record_payment(
    session: AsyncSession, caller: Caller, request: PaymentRequest, *, now: datetime
) -> PaymentOut:
    """Work out and write a payment in `session`, without the idempotency key: the write `create_payout_payment`
    commits, and what a dry run (rolled back) shows a person before it."""
    caller.require("write")
    _check_request(request, now)
    payment_id = uuid.uuid4()
    await _record(session, caller, request, payment_id, now)
    return await get_payout_payment(session, caller, payment_id)


def _check_request(request: PaymentRequest, now: datetime) -> None:
    """Every check that needs no database: refused requests never touch the idempotency key."""
    idempotency.check_key(request.idempotency_key)
    total = request.total_amount_cents
    if total is not None:
        _check_amount(total, "total_amount_cents")
    if len(request.lines) > MAX_LINES:
        raise InvalidInput(f"{len(request.lines)} lines were given; a payment takes at most {MAX_LINES}.")
    seen: set[str] = set()
    for line in request.lines:
        if line.applied_amount_cents is not None:
            _check_amount(line.applied_amount_cents, f"applied_amount_cents of accrual {line.accrual_id!r}")
        key = _canonical_id(line.accrual_id)
        if key in seen:
            raise InvalidInput(f"Accrual {line.accrual_id!r} appears in two lines; give each accrual one line.")
        seen.add(key)
    if request.lines and request.auto_apply_outstanding:
        raise InvalidInput(
            "Give either lines (these accruals) or auto_apply_outstanding=true (all earned accruals, oldest first), "
            "not both."
        )
    if request.creator_id is None:
        if request.lines or request.auto_apply_outstanding or request.settle_in_full:
            raise InvalidInput(
                "An ad-hoc payment (creator_id null) settles no accruals, so lines, auto_apply_outstanding and "
                "settle_in_full do not apply; give the creator_id to pay a creator's accruals."
            )
        if total is None:
            raise InvalidInput("An ad-hoc payment (creator_id null) needs total_amount_cents, the money sent.")
    elif not request.lines and not request.auto_apply_outstanding:
        if request.settle_in_full:
            raise InvalidInput("settle_in_full needs lines or auto_apply_outstanding=true: it settles accruals.")
        if total is None:
            raise InvalidInput(
                "Nothing to pay: give lines, auto_apply_outstanding=true (pay everything earned, oldest first), or a "
                "total_amount_cents alone to pay an advance held as credit."
            )
    if request.paid_at is not None and ensure_utc(request.paid_at) > now + PAID_AT_GRACE:
        raise InvalidInput(
            f"paid_at {request.paid_at.isoformat()!r} is in the future; record payments when they are made "
            "(omit paid_at for now)."
        )
    if request.metadata is not None:
        check_metadata(request.metadata)
    if request.readme is not None:
        check_readme(request.readme)


def _check_amount(cents: int, what: str) -> None:
    if not 0 < cents <= MAX_CENTS:
        raise InvalidInput(f"{what} {cents!r} is out of range; amounts are whole cents from 1 to {MAX_CENTS:,}.")


async def _record(
    session: AsyncSession, caller: Caller, request: PaymentRequest, payment_id: uuid.UUID, now: datetime
) -> None:
    project = await get_project(session, caller, request.project_id)
    method = await get_in_org(session, caller, PayoutMethod, request.method_id, "payout method")
    if not method.is_active:
        raise Conflict(
            f"Payout method {method.name!r} ({method.id}) is disabled and cannot receive new payments; pick an active "
            "one from list_payout_methods or enable it with update_payout_method.",
            code="method_inactive",
        )
    creator: Creator | None = None
    if request.creator_id is None:
        assert request.total_amount_cents is not None  # checked in _check_request
        plan = Plan(total=request.total_amount_cents, ad_hoc=request.total_amount_cents)
    else:
        creator = await get_in_org(session, caller, Creator, request.creator_id, "creator")
        if creator.project_id != project.id:
            raise InvalidInput(
                f"Creator @{creator.tiktok_handle} ({creator.id}) belongs to another project, not {project.name!r} "
                f"({project.id}); pay them under their own project_id."
            )
        plan = await plan_creator_payment(
            session,
            caller,
            creator=creator,
            project=project,
            lines=request.lines,
            auto_apply=request.auto_apply_outstanding,
            settle_in_full=request.settle_in_full,
            total=request.total_amount_cents,
        )
    payment = PayoutPayment(
        id=payment_id,
        org_id=caller.org_id,
        project_id=project.id,
        creator_id=None if creator is None else creator.id,
        method_id=method.id,
        method_name_snapshot=method.name,
        total_amount_cents=plan.total,
        currency=CURRENCY,
        status="paid",
        paid_at=ensure_utc(request.paid_at) if request.paid_at is not None else now,
        idempotency_key=request.idempotency_key,
        readme=request.readme,
        meta=request.metadata or {},
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    await session.flush()
    write_plan(session, plan, payment, now)
    await session.flush()
    await assert_balanced(session, payment)


# --- voiding -------------------------------------------------------------------------------------------------


async def void_payout_payment(
    session: AsyncSession, caller: Caller, payment_id: Any, *, reason: str, now: datetime
) -> PaymentOut:
    """Void a payment (rules in the module docstring); the accruals it paid are owed again."""
    caller.require("write")
    reason = require_text(reason, "reason", max_length=REASON_MAX)
    entity_id = parse_id(payment_id, "payout payment")
    payment = (
        await session.scalars(
            lock_rows(
                model_select(PayoutPayment).where(
                    col(PayoutPayment.id) == entity_id, col(PayoutPayment.org_id) == caller.org_id
                )
            ).execution_options(populate_existing=True)
        )
    ).first()
    if payment is None:
        raise not_found("payout payment", entity_id)
    if payment.status == "voided":
        raise Conflict(
            f"Payment {str(payment.id)!r} was already voided at {payment.voided_at} (reason: {payment.void_reason!r}); "
            "nothing was changed.",
            code="already_voided",
        )
    lines = (
        await session.scalars(model_select(PayoutPaymentLine).where(col(PayoutPaymentLine.payment_id) == payment.id))
    ).all()
    accruals = {
        a.id: a for a in await lock_accruals(session, col(PayoutAccrual.id).in_([ln.accrual_id for ln in lines]))
    }
    own_credits = (
        await session.scalars(
            lock_rows(
                model_select(PayoutAdjustment.id)
                .where(col(PayoutAdjustment.payment_id) == payment.id, col(PayoutAdjustment.kind) == "overpayment")
                .order_by(col(PayoutAdjustment.id))
            )
        )
    ).all()
    if own_credits:
        spenders = (
            await session.scalars(
                select(col(PayoutPayment.id))
                .join(PayoutAdjustment, col(PayoutAdjustment.payment_id) == col(PayoutPayment.id))
                .where(
                    col(PayoutAdjustment.source_adjustment_id).in_(own_credits),
                    col(PayoutPayment.status) == "paid",
                    col(PayoutPayment.id) != payment.id,
                )
                .distinct()
            )
        ).all()
        if spenders:
            names = ", ".join(repr(str(s)) for s in sorted(spenders, key=str))
            raise Conflict(
                f"Payment {str(payment.id)!r} cannot be voided: its overpayment credit was spent by payment(s) "
                f"{names}. Void those first (their accruals become owed again), then void this one.",
                code="credit_consumed",
            )
    for line in lines:
        accrual = accruals[line.accrual_id]
        restored = accrual.outstanding_cents + line.applied_amount_cents
        if restored > accrual.amount_cents:
            raise AssertionError(
                f"accrual {accrual.id}: outstanding would exceed its amount after voiding {payment.id}"
            )
        accrual.outstanding_cents = restored
        if accrual.status == "paid":
            accrual.status = "earned"
        accrual.updated_at = now
        session.add(accrual)
    payment.status = "voided"
    payment.voided_at = now
    payment.void_reason = reason
    payment.updated_at = now
    session.add(payment)
    await session.flush()
    return await get_payout_payment(session, caller, payment.id)
