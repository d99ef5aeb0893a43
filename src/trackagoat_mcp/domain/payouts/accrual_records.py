"""Accruals as records: reading one, listing them, and the person's or agent's reject / void / restore with a reason.

* The record carries the data model's names: `structure_version_id` pins the rule version in force at the
  period's end (`structure_version` is that version's number, for people). One accrual read by id always has its
  `inputs_snapshot`; lists leave it out unless asked (it is the large part of a row).

* `earned` accruals are money owed (`outstanding_cents` > 0); `paid` ones were settled by payment lines.
* **Reject / void** (a reason is required): only an `earned` accrual no live payment line touches; a paid or
  partly paid one is refused (`accrual_paid`) until the payment is voided. Its `outstanding_cents` becomes 0.
  `rejected` means it should never have been earned (disqualified), `voided` that it is cancelled for another
  reason; both stop counting as owed.
* **Restore** (reason required) brings a rejected or voided accrual back: `outstanding_cents` is recomputed as
  `amount_cents` − Σ live payment lines, and the status is `earned` (or `paid` if nothing is outstanding).

The accrual row is locked for the change (`FOR UPDATE` on PostgreSQL, SQLite serialises writers), the same lock
payments take, so a payment and a reject can never interleave.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from sqlmodel import select as model_select

from trackagoat_mcp.db.dialect import lock_rows
from trackagoat_mcp.db.models import (
    Creator,
    PayoutAccrual,
    PayoutPayment,
    PayoutPaymentLine,
    PayoutStructure,
    PayoutStructureVersion,
)
from trackagoat_mcp.domain.notes import register_entity_type
from trackagoat_mcp.domain.pagination import Page, cursor_time, cursor_uuid, fetch_page
from trackagoat_mcp.domain.payouts.structures import get_structure_row
from trackagoat_mcp.domain.periods import local_midnight
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_in_org, get_org, not_found, parse_id
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = ["ACCRUAL_STATUSES", "AccrualOut", "get_accrual", "list_accruals", "live_applied_cents", "update_accrual"]

AccrualStatus = Literal["earned", "paid", "rejected", "voided"]
ACCRUAL_STATUSES = ("earned", "paid", "rejected", "voided")
AccrualAction = Literal["reject", "void", "restore"]
REASON_MAX = 1000

register_entity_type("payout_accrual", PayoutAccrual)


class AccrualOut(BaseModel):
    """Money a creator earned for one period under one structure version."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    project_id: uuid.UUID
    creator_id: uuid.UUID
    tiktok_handle: str
    structure_id: uuid.UUID
    structure_name: str
    structure_version_id: uuid.UUID = Field(description="The rule version in force at the period's end (pinned).")
    structure_version: int = Field(description="That version's number.")
    period_start_at: datetime = Field(description="Inclusive, UTC (a local midnight of the organization).")
    period_end_at: datetime = Field(description="Exclusive, UTC.")
    amount_cents: int = Field(description="After proration, rounded half-even once.")
    outstanding_cents: int = Field(description="Still owed: amount minus live payment lines (0 unless earned).")
    currency: str
    status: AccrualStatus = Field(description="earned (owed), paid, rejected or voided.")
    status_reason: str | None = Field(description="Why it was last rejected, voided or restored.")
    inputs_snapshot: dict[str, Any] | None = Field(
        description="Every figure the amount came from (in lists only with include_inputs=true)."
    )
    readme: str | None = Field(description="Agent-written markdown notes (write_readme, entity_type payout_accrual).")
    metadata: dict[str, Any] = Field(description="Agent-written JSON object (write_metadata).")
    created_at: datetime
    updated_at: datetime


async def _labels(
    session: AsyncSession, rows: list[PayoutAccrual]
) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str], dict[uuid.UUID, int]]:
    """Handles, structure names and version numbers of a page of accruals (three small queries)."""
    if not rows:
        return {}, {}, {}
    handles = await session.execute(
        select(col(Creator.id), col(Creator.tiktok_handle)).where(col(Creator.id).in_({r.creator_id for r in rows}))
    )
    names = await session.execute(
        select(col(PayoutStructure.id), col(PayoutStructure.name)).where(
            col(PayoutStructure.id).in_({r.structure_id for r in rows})
        )
    )
    versions = await session.execute(
        select(col(PayoutStructureVersion.id), col(PayoutStructureVersion.version)).where(
            col(PayoutStructureVersion.id).in_({r.structure_version_id for r in rows})
        )
    )
    return (
        dict(handles.all()),
        dict(names.all()),
        dict(versions.all()),
    )


async def _outs(session: AsyncSession, rows: list[PayoutAccrual], *, include_inputs: bool) -> list[AccrualOut]:
    handles, names, versions = await _labels(session, rows)
    return [
        AccrualOut(
            id=r.id,
            project_id=r.project_id,
            creator_id=r.creator_id,
            tiktok_handle=handles[r.creator_id],
            structure_id=r.structure_id,
            structure_name=names[r.structure_id],
            structure_version_id=r.structure_version_id,
            structure_version=versions[r.structure_version_id],
            period_start_at=r.period_start_at,
            period_end_at=r.period_end_at,
            amount_cents=r.amount_cents,
            outstanding_cents=r.outstanding_cents,
            currency=r.currency,
            status=r.status,
            status_reason=r.status_reason,
            inputs_snapshot=r.inputs_snapshot if include_inputs else None,
            readme=r.readme,
            metadata=r.meta,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


async def get_accrual(session: AsyncSession, caller: Caller, accrual_id: Any) -> AccrualOut:
    """One accrual of the caller's organization, with its `inputs_snapshot`.

    Another organization's id and an id that does not exist give the same `NotFound`.
    """
    accrual = await get_in_org(session, caller, PayoutAccrual, accrual_id, "payout accrual")
    return (await _outs(session, [accrual], include_inputs=True))[0]


async def list_accruals(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any | None = None,
    creator_id: Any | None = None,
    structure_id: Any | None = None,
    status: str | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
    newest_first: bool = False,
    include_inputs: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[AccrualOut]:
    """Accruals by period start (oldest first unless `newest_first`), filtered; periods starting in
    `period_from`..`period_to` (local dates, inclusive) when given."""
    query = model_select(PayoutAccrual).where(col(PayoutAccrual.org_id) == caller.org_id)
    if project_id is not None:
        query = query.where(col(PayoutAccrual.project_id) == (await get_project(session, caller, project_id)).id)
    if creator_id is not None:
        creator = await get_in_org(session, caller, Creator, creator_id, "creator")
        query = query.where(col(PayoutAccrual.creator_id) == creator.id)
    if structure_id is not None:
        query = query.where(
            col(PayoutAccrual.structure_id) == (await get_structure_row(session, caller, structure_id)).id
        )
    if status is not None:
        if status not in ACCRUAL_STATUSES:
            raise InvalidInput(f"status {status!r} is not one of {list(ACCRUAL_STATUSES)!r}.")
        query = query.where(col(PayoutAccrual.status) == status)
    if period_from is not None and period_to is not None and period_to < period_from:
        raise InvalidInput(
            f"period_to {period_to.isoformat()!r} is before period_from {period_from.isoformat()!r}; swap them."
        )
    if period_from is not None or period_to is not None:
        tz = (await get_org(session, caller)).timezone
        if period_from is not None:
            query = query.where(col(PayoutAccrual.period_start_at) >= local_midnight(period_from, tz))
        if period_to is not None:
            query = query.where(col(PayoutAccrual.period_start_at) < local_midnight(period_to + timedelta(days=1), tz))
    page, next_cursor = await fetch_page(
        session,
        query,
        kind="payout_accruals",
        order="newest" if newest_first else "oldest",
        columns=[col(PayoutAccrual.period_start_at), col(PayoutAccrual.id)],
        parsers=[cursor_time, cursor_uuid],
        key=lambda a: [a.period_start_at, a.id],
        cursor=cursor,
        limit=limit,
        descending=newest_first,
    )
    return Page[AccrualOut](items=await _outs(session, page, include_inputs=include_inputs), next_cursor=next_cursor)


async def live_applied_cents(session: AsyncSession, accrual_id: uuid.UUID) -> int:
    """Σ applied cents of the accrual's lines on payments that are not voided."""
    total = await session.scalar(
        select(func.coalesce(func.sum(PayoutPaymentLine.applied_amount_cents), 0))
        .join(PayoutPayment, col(PayoutPayment.id) == col(PayoutPaymentLine.payment_id))
        .where(col(PayoutPaymentLine.accrual_id) == accrual_id, col(PayoutPayment.status) != "voided")
    )
    return int(total or 0)


async def update_accrual(
    session: AsyncSession, caller: Caller, accrual_id: Any, *, action: str, reason: str, now: datetime
) -> AccrualOut:
    """Reject, void or restore an accrual, with a required reason (see the module docstring for the rules)."""
    caller.require("write")
    if action not in ("reject", "void", "restore"):
        raise InvalidInput(f"action {action!r} is not one of ['reject', 'void', 'restore'].")
    why = reason.strip()
    if not why:
        raise InvalidInput("reason must not be empty: say why, in a sentence a person auditing payouts will read.")
    if len(why) > REASON_MAX:
        raise InvalidInput(f"reason is {len(why)} characters long; the limit is {REASON_MAX}.")
    aid = parse_id(accrual_id, "payout accrual")
    accrual = (
        await session.scalars(
            lock_rows(
                model_select(PayoutAccrual).where(
                    col(PayoutAccrual.id) == aid, col(PayoutAccrual.org_id) == caller.org_id
                )
            )
        )
    ).first()
    if accrual is None:
        raise not_found("payout accrual", aid)
    live = await live_applied_cents(session, accrual.id)
    if action == "restore":
        if accrual.status not in ("rejected", "voided"):
            raise Conflict(
                f"Accrual {accrual.id} is {accrual.status!r}, not rejected or voided; there is nothing to restore.",
                code="no_change",
            )
        accrual.outstanding_cents = accrual.amount_cents - live
        accrual.status = "earned" if accrual.outstanding_cents > 0 else "paid"
    else:
        if accrual.status in ("rejected", "voided"):
            raise Conflict(
                f"Accrual {accrual.id} is already {accrual.status!r}; restore it first if its status should change.",
                code="no_change",
            )
        if accrual.status == "paid" or live > 0:
            raise Conflict(
                f"Accrual {accrual.id} is paid or partly paid ({live} of {accrual.amount_cents} cents applied by live "
                "payments); void those payments first with void_payout_payment, then reject or void the accrual.",
                code="accrual_paid",
            )
        accrual.status = "rejected" if action == "reject" else "voided"
        accrual.outstanding_cents = 0
    accrual.status_reason = why
    accrual.updated_at = now
    session.add(accrual)
    await session.flush()
    return (await _outs(session, [accrual], include_inputs=True))[0]
