"""What creators are owed and what they hold in credit (`get_payout_balance`), and the credit ledger payments spend.

Every figure is computed from the rows, never stored:

* **owed** = Σ `outstanding_cents` of the creator's `earned` accruals (money earned and not yet paid);
* **credit** = Σ `overpayment` adjustments of live (`paid`) payments − what live payments spent of them through
  `credit_applied` adjustments. A voided payment's adjustments stop counting, which restores what it spent and
  removes what it booked (a void that would leave spent credit without its source is refused);
* **net** = owed − credit: what a new payment would have to send. Negative means the creator holds more credit
  than they are owed (an overpayment not yet earned back). It is never clamped to zero, since clamping hides
  overpayments (reference §2).

A project's balance gives the totals plus one row per creator with money owed or credit held, a page at a time in
handle order (`limit` ≤ 100, `next_cursor`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from sqlmodel import select as model_select

from trackagoat_mcp.db.dialect import lock_rows
from trackagoat_mcp.db.models import Creator, PayoutAccrual, PayoutAdjustment, PayoutPayment, table_of
from trackagoat_mcp.domain.pagination import check_limit, cursor_text, cursor_uuid, fetch_page
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_in_org
from trackagoat_mcp.errors import InvalidInput

__all__ = ["CreatorBalance", "CreditSource", "PayoutBalance", "get_payout_balance", "open_credits"]

_ACCRUALS = table_of(PayoutAccrual)
_ADJUSTMENTS = table_of(PayoutAdjustment)
_PAYMENTS = table_of(PayoutPayment)
CREDIT_KINDS = ("overpayment", "credit_applied")


class _Figures(BaseModel):
    model_config = ConfigDict(frozen=True)

    owed_cents: int = Field(description="Σ outstanding of earned accruals: earned and not yet paid.")
    credit_cents: int = Field(
        description="Unspent overpayment credit of live payments; used first by the next payment."
    )
    net_cents: int = Field(description="owed − credit: what paying everything now would send (negative: credit left).")
    currency: str = "USD"
    oldest_unpaid_period_start_at: datetime | None = Field(description="Period start of the oldest earned accrual.")
    earned_accrual_count: int = Field(description="Accruals with status earned (money outstanding).")


class CreatorBalance(_Figures):
    """One creator's balance."""

    creator_id: uuid.UUID
    tiktok_handle: str


class PayoutBalance(_Figures):
    """Balance of one creator, or of a whole project with a page of per-creator rows."""

    project_id: uuid.UUID
    creator_id: uuid.UUID | None = Field(description="Set when the balance is one creator's.")
    creators: list[CreatorBalance] = Field(
        description="Project balances only: creators with money owed or credit held, by handle, a page at a time."
    )
    next_cursor: str | None = Field(description="Pass as cursor for the next page of creators; null on the last.")


@dataclass(frozen=True)
class CreditSource:
    """An overpayment with credit left, oldest first: what a payment spends before sending money."""

    adjustment_id: uuid.UUID
    payment_id: uuid.UUID
    remaining_cents: int


def _live() -> Any:
    return _PAYMENTS.c.status == "paid"


async def open_credits(session: AsyncSession, creator_id: uuid.UUID, *, lock: bool) -> list[CreditSource]:
    """The creator's overpayments with credit left, oldest first (FIFO).

    With `lock`, the overpayment rows are locked first (`FOR UPDATE`, in id order) so that two payments, or a payment
    and a void, cannot spend or remove the same credit at once; the amounts are then read by a fresh statement,
    which on PostgreSQL sees whatever the transaction we waited for committed. SQLite's write lock serializes anyway.
    """
    live_overpayments = (
        select(_ADJUSTMENTS.c.id)
        .join(_PAYMENTS, _PAYMENTS.c.id == _ADJUSTMENTS.c.payment_id)
        .where(_ADJUSTMENTS.c.creator_id == creator_id, _ADJUSTMENTS.c.kind == "overpayment", _live())
        .order_by(_ADJUSTMENTS.c.id)
    )
    if lock:
        ids = list((await session.execute(lock_rows(live_overpayments, of=_ADJUSTMENTS))).scalars())
        if not ids:
            return []
    spent = (
        select(
            _ADJUSTMENTS.c.source_adjustment_id.label("source_id"),
            func.sum(_ADJUSTMENTS.c.amount_cents).label("spent"),
        )
        .join(_PAYMENTS, _PAYMENTS.c.id == _ADJUSTMENTS.c.payment_id)
        .where(_ADJUSTMENTS.c.creator_id == creator_id, _ADJUSTMENTS.c.kind == "credit_applied", _live())
        .group_by(_ADJUSTMENTS.c.source_adjustment_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            _ADJUSTMENTS.c.id,
            _ADJUSTMENTS.c.payment_id,
            (_ADJUSTMENTS.c.amount_cents + func.coalesce(spent.c.spent, 0)).label("remaining"),
        )
        .join(_PAYMENTS, _PAYMENTS.c.id == _ADJUSTMENTS.c.payment_id)
        .outerjoin(spent, spent.c.source_id == _ADJUSTMENTS.c.id)
        .where(_ADJUSTMENTS.c.creator_id == creator_id, _ADJUSTMENTS.c.kind == "overpayment", _live())
        .order_by(_ADJUSTMENTS.c.created_at, _ADJUSTMENTS.c.id)
    )
    return [CreditSource(row.id, row.payment_id, int(row.remaining)) for row in rows if row.remaining > 0]


def _owed_query(*where: Any, by_creator: bool) -> Any:
    sums = [
        func.coalesce(func.sum(_ACCRUALS.c.outstanding_cents), 0).label("owed"),
        func.min(_ACCRUALS.c.period_start_at).label("oldest"),
        func.count().label("earned"),
    ]
    query = select(*sums).where(_ACCRUALS.c.status == "earned", *where)
    if by_creator:
        query = query.add_columns(_ACCRUALS.c.creator_id).group_by(_ACCRUALS.c.creator_id)
    return query


def _credit_query(*where: Any, by_creator: bool) -> Any:
    query = (
        select(func.coalesce(func.sum(_ADJUSTMENTS.c.amount_cents), 0).label("credit"))
        .select_from(_ADJUSTMENTS)
        .join(_PAYMENTS, _PAYMENTS.c.id == _ADJUSTMENTS.c.payment_id)
        .where(_live(), _ADJUSTMENTS.c.kind.in_(CREDIT_KINDS), *where)
    )
    if by_creator:
        query = query.add_columns(_ADJUSTMENTS.c.creator_id).group_by(_ADJUSTMENTS.c.creator_id)
    return query


def _figures(owed: int, credit: int, oldest: datetime | None, earned: int) -> dict[str, Any]:
    return {
        "owed_cents": int(owed),
        "credit_cents": int(credit),
        "net_cents": int(owed) - int(credit),
        "oldest_unpaid_period_start_at": oldest,
        "earned_accrual_count": int(earned),
    }


async def _per_creator(session: AsyncSession, creator_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    if not creator_ids:
        return {}
    owed = {
        row.creator_id: row
        for row in await session.execute(_owed_query(_ACCRUALS.c.creator_id.in_(creator_ids), by_creator=True))
    }
    credit = {
        row.creator_id: int(row.credit)
        for row in await session.execute(_credit_query(_ADJUSTMENTS.c.creator_id.in_(creator_ids), by_creator=True))
    }
    out = {}
    for creator_id in creator_ids:
        row = owed.get(creator_id)
        out[creator_id] = _figures(
            row.owed if row else 0, credit.get(creator_id, 0), row.oldest if row else None, row.earned if row else 0
        )
    return out


async def get_payout_balance(
    session: AsyncSession,
    caller: Caller,
    *,
    creator_id: Any = None,
    project_id: Any = None,
    cursor: str | None = None,
    limit: int = 50,
) -> PayoutBalance:
    """The balance of one creator (`creator_id`) or of a project (`project_id`), exactly one of them."""
    caller.require("read")
    check_limit(limit)
    if (creator_id is None) == (project_id is None):
        raise InvalidInput(
            "Give exactly one of creator_id (one creator's balance) or project_id (a project's totals and "
            "its creators)."
        )
    if creator_id is not None:
        creator = await get_in_org(session, caller, Creator, creator_id, "creator")
        figures = (await _per_creator(session, [creator.id]))[creator.id]
        return PayoutBalance(
            project_id=creator.project_id, creator_id=creator.id, creators=[], next_cursor=None, **figures
        )
    project = await get_project(session, caller, project_id)
    owed = (await session.execute(_owed_query(_ACCRUALS.c.project_id == project.id, by_creator=False))).one()
    credit = (await session.execute(_credit_query(_PAYMENTS.c.project_id == project.id, by_creator=False))).one()
    with_balance = or_(
        col(Creator.id).in_(
            select(_ACCRUALS.c.creator_id).where(_ACCRUALS.c.project_id == project.id, _ACCRUALS.c.status == "earned")
        ),
        col(Creator.id).in_(
            select(_ADJUSTMENTS.c.creator_id)
            .join(_PAYMENTS, _PAYMENTS.c.id == _ADJUSTMENTS.c.payment_id)
            .where(_live(), _ADJUSTMENTS.c.kind.in_(CREDIT_KINDS), _PAYMENTS.c.project_id == project.id)
            .group_by(_ADJUSTMENTS.c.creator_id)
            .having(func.sum(_ADJUSTMENTS.c.amount_cents) != 0)
        ),
    )
    rows, next_cursor = await fetch_page(
        session,
        model_select(Creator).where(col(Creator.project_id) == project.id, with_balance),
        kind="payout_balance",
        order="handle",
        columns=[col(Creator.tiktok_handle), col(Creator.id)],
        parsers=[cursor_text, cursor_uuid],
        key=lambda c: [c.tiktok_handle, c.id],
        cursor=cursor,
        limit=limit,
    )
    per_creator = await _per_creator(session, [c.id for c in rows])
    return PayoutBalance(
        project_id=project.id,
        creator_id=None,
        creators=[CreatorBalance(creator_id=c.id, tiktok_handle=c.tiktok_handle, **per_creator[c.id]) for c in rows],
        next_cursor=next_cursor,
        **_figures(owed.owed, credit.credit, owed.oldest, owed.earned),
    )
