"""Payments as records: the full record (with its payout_payment_lines and payout_adjustments) and the list rows.

Field names follow the product's data model page: a payment's accrual lines are `payout_payment_lines` (each with
`applied_amount_cents`) and its signed non-accrual lines are `payout_adjustments`. The same models serve every
reader (the MCP tools, the resources, the REST API), so a record reads the same wherever it is fetched.
`total_amount_cents = Σ payout_payment_lines.applied_amount_cents + Σ payout_adjustments.amount_cents` holds for
every stored payment (checked before each commit, see `settlement.assert_balanced`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from sqlmodel import select as model_select

from trackagoat_mcp.clock import day_range_utc
from trackagoat_mcp.db.models import (
    Creator,
    PayoutAccrual,
    PayoutAdjustment,
    PayoutPayment,
    PayoutPaymentLine,
    PayoutStructure,
)
from trackagoat_mcp.domain.notes import register_entity_type
from trackagoat_mcp.domain.pagination import Page, check_limit, cursor_time, cursor_uuid, fetch_page
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.schemas import METADATA, README
from trackagoat_mcp.domain.scope import Caller, get_in_org, get_org
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "AdjustmentKind",
    "AdjustmentOut",
    "PaymentLineOut",
    "PaymentOut",
    "PaymentSummary",
    "get_payout_payment",
    "list_payout_payments",
]

register_entity_type("payout_payment", PayoutPayment)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class PaymentLineOut(_Out):
    """Part of a payment applied to one accrual (a payout payment line)."""

    id: uuid.UUID
    accrual_id: uuid.UUID
    applied_amount_cents: int
    structure_id: uuid.UUID = Field(description="The payout structure the accrual was earned under.")
    structure_name: str
    period_start_at: datetime = Field(description="The accrual's period, [start, end).")
    period_end_at: datetime


AdjustmentKind = Literal["overpayment", "credit_applied", "underpayment", "ad_hoc"]


class AdjustmentOut(_Out):
    """A signed line of a payment that is not an accrual (a payout adjustment)."""

    id: uuid.UUID
    kind: AdjustmentKind = Field(
        description="overpayment (+, credit the creator now holds), credit_applied (−, spends the overpayment named by "
        "source_adjustment_id), underpayment (−, settled in full for less), ad_hoc (+, a payment without a creator)."
    )
    amount_cents: int
    reason: str | None
    source_adjustment_id: uuid.UUID | None


class PaymentSummary(_Out):
    """A payment as it appears in lists (get_payout_payment has its lines and adjustments)."""

    id: uuid.UUID
    project_id: uuid.UUID
    creator_id: uuid.UUID | None = Field(description="Null for an ad-hoc payment.")
    method_id: uuid.UUID
    method_name_snapshot: str
    total_amount_cents: int
    currency: str
    status: Literal["paid", "voided"]
    paid_at: datetime
    void_reason: str | None = Field(description="Why a person voided it; null while paid.")


class PaymentOut(_Out):
    """A payout payment: money sent, its payout_payment_lines and payout_adjustments, which sum to its total."""

    id: uuid.UUID
    project_id: uuid.UUID
    creator_id: uuid.UUID | None = Field(description="Null for an ad-hoc payment.")
    method_id: uuid.UUID
    method_name_snapshot: str = Field(description="The method's name when the payment was recorded.")
    total_amount_cents: int = Field(description="Money actually sent.")
    currency: str
    status: Literal["paid", "voided"] = Field(description="voided payments count for nothing.")
    paid_at: datetime
    idempotency_key: str
    void_reason: str | None
    voided_at: datetime | None
    payout_payment_lines: list[PaymentLineOut] = Field(description="Accruals settled, with applied_amount_cents.")
    payout_adjustments: list[AdjustmentOut] = Field(description="Signed lines that are not accruals.")
    readme: str | None = Field(description=README)
    metadata: dict[str, Any] = Field(description=METADATA)
    created_at: datetime
    updated_at: datetime
    replayed: bool = Field(
        description="true when this is the stored result of an earlier call with the same idempotency_key (nothing new "
        "was written)."
    )


async def get_payout_payment(
    session: AsyncSession, caller: Caller, payment_id: Any, *, replayed: bool = False
) -> PaymentOut:
    """A payment of the caller's organization with its lines (oldest period first) and adjustments (oldest first).

    Another organization's id and an id that does not exist give the same `NotFound`.
    """
    payment = await get_in_org(session, caller, PayoutPayment, payment_id, "payout payment")
    lines = cast(
        Sequence[Row[Any]],
        (
            await session.execute(
                select(
                    PayoutPaymentLine,
                    col(PayoutAccrual.period_start_at),
                    col(PayoutAccrual.period_end_at),
                    col(PayoutStructure.id).label("structure_id"),
                    col(PayoutStructure.name).label("structure_name"),
                )
                .join(PayoutAccrual, col(PayoutAccrual.id) == col(PayoutPaymentLine.accrual_id))
                .join(PayoutStructure, col(PayoutStructure.id) == col(PayoutAccrual.structure_id))
                .where(col(PayoutPaymentLine.payment_id) == payment.id)
                .order_by(col(PayoutAccrual.period_start_at), col(PayoutStructure.name), col(PayoutPaymentLine.id))
            )
        ).all(),
    )
    adjustments = (
        await session.scalars(
            model_select(PayoutAdjustment)
            .where(col(PayoutAdjustment.payment_id) == payment.id)
            .order_by(col(PayoutAdjustment.created_at), col(PayoutAdjustment.id))
        )
    ).all()
    return PaymentOut(
        id=payment.id,
        project_id=payment.project_id,
        creator_id=payment.creator_id,
        method_id=payment.method_id,
        method_name_snapshot=payment.method_name_snapshot,
        total_amount_cents=payment.total_amount_cents,
        currency=payment.currency,
        status=payment.status,
        paid_at=payment.paid_at,
        idempotency_key=payment.idempotency_key,
        void_reason=payment.void_reason,
        voided_at=payment.voided_at,
        payout_payment_lines=[
            PaymentLineOut(
                id=row.PayoutPaymentLine.id,
                accrual_id=row.PayoutPaymentLine.accrual_id,
                applied_amount_cents=row.PayoutPaymentLine.applied_amount_cents,
                structure_id=row.structure_id,
                structure_name=row.structure_name,
                period_start_at=row.period_start_at,
                period_end_at=row.period_end_at,
            )
            for row in lines
        ],
        payout_adjustments=[
            AdjustmentOut(
                id=adj.id,
                kind=adj.kind,
                amount_cents=adj.amount_cents,
                reason=adj.reason,
                source_adjustment_id=adj.source_adjustment_id,
            )
            for adj in adjustments
        ],
        readme=payment.readme,
        metadata=payment.meta,
        created_at=payment.created_at,
        updated_at=payment.updated_at,
        replayed=replayed,
    )


async def list_payout_payments(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any = None,
    creator_id: Any = None,
    status: str | None = None,
    paid_from: Any = None,
    paid_to: Any = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[PaymentSummary]:
    """Payments matching every filter given, newest `paid_at` first; `paid_from`/`paid_to` are local days
    (inclusive) in the organization's timezone."""
    check_limit(limit)
    query = model_select(PayoutPayment).where(col(PayoutPayment.org_id) == caller.org_id)
    if project_id is not None:
        query = query.where(col(PayoutPayment.project_id) == (await get_project(session, caller, project_id)).id)
    if creator_id is not None:
        creator = await get_in_org(session, caller, Creator, creator_id, "creator")
        query = query.where(col(PayoutPayment.creator_id) == creator.id)
    if status is not None:
        if status not in ("paid", "voided"):
            raise InvalidInput(f"status {status!r} is not 'paid' or 'voided'.")
        query = query.where(col(PayoutPayment.status) == status)
    if paid_from is not None or paid_to is not None:
        if paid_from is not None and paid_to is not None and paid_from > paid_to:
            raise InvalidInput(f"from {paid_from.isoformat()!r} is after to {paid_to.isoformat()!r}; swap them.")
        tz = (await get_org(session, caller)).timezone
        if paid_from is not None:
            query = query.where(col(PayoutPayment.paid_at) >= day_range_utc(paid_from, paid_from, tz)[0])
        if paid_to is not None:
            query = query.where(col(PayoutPayment.paid_at) < day_range_utc(paid_to, paid_to, tz)[1])
    rows, next_cursor = await fetch_page(
        session,
        query,
        kind="payout_payments",
        order="paid_desc",
        columns=[col(PayoutPayment.paid_at), col(PayoutPayment.id)],
        parsers=[cursor_time, cursor_uuid],
        key=lambda p: [p.paid_at, p.id],
        cursor=cursor,
        limit=limit,
        descending=True,
    )
    items = [
        PaymentSummary(
            id=p.id,
            project_id=p.project_id,
            creator_id=p.creator_id,
            method_id=p.method_id,
            method_name_snapshot=p.method_name_snapshot,
            total_amount_cents=p.total_amount_cents,
            currency=p.currency,
            status=p.status,
            paid_at=p.paid_at,
            void_reason=p.void_reason,
        )
        for p in rows
    ]
    return Page[PaymentSummary](items=items, next_cursor=next_cursor)
