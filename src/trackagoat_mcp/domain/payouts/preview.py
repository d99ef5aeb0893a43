"""`preview_accruals`: what the next accrual runs would record, computed by the job's own code, writing nothing.

The preview covers every period not evaluated yet that ends by `until` (default now), plus the period in
progress, for a project, a structure or a creator. Each item says how firm it is:

* `due`: the next hourly run evaluates it, with these figures unless they change before then;
* `waiting_for_stats`: due, but the creator's stats are stale; the run waits up to 24 h for a scrape, then
  pays with `stale: true`;
* `scheduled`: its evaluation time is still ahead (the 48 h settling window, or a period ending before a
  future `until`); the amount is projected from the figures as of now;
* `open`: the period in progress, projected as of now (views and posts still to come are not in it).

Pages of at most `MAX_PREVIEW_LIMIT` items (about 25 of the longest items fit a tool result's 20,000 characters),
oldest period first, continued with `next_cursor`: a cursor holds the last item's sort key (period start, structure
name, handle, structure id, creator id), so the next page starts after it even when periods were evaluated
meanwhile. Only the page's periods are evaluated, so a deep page costs what the first one does.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import anyio
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.models import Creator
from trackagoat_mcp.domain.pagination import cursor_text, cursor_time, decode_cursor, encode_cursor
from trackagoat_mcp.domain.payouts.accruals import Scope, evaluate_units, load_units
from trackagoat_mcp.domain.payouts.planning import Unit, UnitState
from trackagoat_mcp.domain.payouts.structures import get_structure_row
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_in_org
from trackagoat_mcp.errors import InvalidInput

__all__ = ["DEFAULT_PREVIEW_LIMIT", "MAX_PREVIEW_LIMIT", "PreviewItem", "PreviewOut", "preview_accruals"]

DEFAULT_PREVIEW_LIMIT = 25
MAX_PREVIEW_LIMIT = 25
_CURSOR = ("preview_accruals", "period")
MAX_HORIZON = timedelta(days=92)


class PreviewItem(BaseModel):
    """One period a run would evaluate, with the amount the evaluation code computes now."""

    structure_id: uuid.UUID
    structure_name: str
    structure_version: int = Field(description="The version that will be pinned (in force at the period's end).")
    creator_id: uuid.UUID
    tiktok_handle: str
    period_start_at: datetime
    period_end_at: datetime
    evaluation_due_at: datetime = Field(description="Period end (recurring) or 48 h after it (other criteria).")
    state: UnitState = Field(description="due, waiting_for_stats, scheduled or open (see the tool description).")
    projected: bool = Field(description="true when the figures may still change (scheduled and open periods).")
    stale: bool = Field(description="The creator's stats are stale for this period.")
    days_covered: int
    days_in_period: int
    amount_cents: int
    reason: str | None = Field(
        description="Why nothing is earned, when so: goals_not_met, no_applicable_goals, partial_period_skipped, "
        "nothing_earned."
    )


class PreviewOut(BaseModel):
    """What the next accrual runs would record."""

    as_of: datetime
    until: datetime
    items: list[PreviewItem] = Field(description="Oldest period first, one page.")
    total_periods: int = Field(description="Periods to preview on all pages.")
    total_cents: dict[str, int] = Field(description="Σ amount_cents of this page's items per state.")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null = last page.")


async def preview_accruals(
    session: AsyncSession,
    caller: Caller,
    *,
    now: datetime,
    project_id: Any | None = None,
    structure_id: Any | None = None,
    creator_id: Any | None = None,
    until: datetime | None = None,
    limit: int = DEFAULT_PREVIEW_LIMIT,
    cursor: str | None = None,
) -> PreviewOut:
    """Preview the accruals of a project, structure or creator (at least one; several narrow each other), one page
    of at most `limit` (1 to `MAX_PREVIEW_LIMIT`) periods after `cursor`."""
    if not 1 <= limit <= MAX_PREVIEW_LIMIT:
        raise InvalidInput(f"limit {limit!r} is out of range; use 1 to {MAX_PREVIEW_LIMIT}.")
    if project_id is None and structure_id is None and creator_id is None:
        raise InvalidInput("Give project_id, structure_id or creator_id to say whose accruals to preview.")
    horizon = until or now
    if not now <= horizon <= now + MAX_HORIZON:
        raise InvalidInput(
            f"until {horizon.isoformat()!r} must be between now and {MAX_HORIZON.days} days ahead; evaluated periods "
            "are listed by list_payout_accruals."
        )
    scope = Scope(
        org_id=caller.org_id,
        project_id=None if project_id is None else (await get_project(session, caller, project_id)).id,
        structure_id=None if structure_id is None else (await get_structure_row(session, caller, structure_id)).id,
        creator_id=None
        if creator_id is None
        else (await get_in_org(session, caller, Creator, creator_id, "creator")).id,
    )
    last = None
    if cursor:
        last = tuple(decode_cursor(*_CURSOR, cursor, cursor_time, cursor_text, cursor_text, cursor_text, cursor_text))
    units = await load_units(session, scope, now=now, horizon=horizon)
    # Ordering a long history is pure CPU work: a worker thread keeps the event loop free for other callers.
    after = await anyio.to_thread.run_sync(_after, units, last)
    page = after[:limit]
    items: list[PreviewItem] = []
    for unit, outcome in zip(page, await evaluate_units(session, page), strict=True):
        items.append(
            PreviewItem(
                structure_id=unit.structure.id,
                structure_name=unit.structure.name,
                structure_version=unit.version.version,
                creator_id=unit.creator.id,
                tiktok_handle=unit.creator.tiktok_handle,
                period_start_at=unit.period.start_at,
                period_end_at=unit.period.end_at,
                evaluation_due_at=unit.due_at,
                state=unit.state,
                projected=unit.state in ("scheduled", "open"),
                stale=unit.stale,
                days_covered=unit.coverage.days_covered,
                days_in_period=unit.period.days,
                amount_cents=outcome.amount_cents,
                reason=outcome.inputs.get("reason"),
            )
        )
    totals: dict[str, int] = {}
    for item in items:
        totals[item.state] = totals.get(item.state, 0) + item.amount_cents
    next_cursor = encode_cursor(*_CURSOR, list(_sort_key(page[-1]))) if len(after) > limit else None
    return PreviewOut(
        as_of=now, until=horizon, items=items, total_periods=len(units), total_cents=totals, next_cursor=next_cursor
    )


def _after(units: list[Unit], last: tuple[Any, ...] | None) -> list[Unit]:
    """`units` in page order, from just after the sort key `last` (all of them without one)."""
    ordered = sorted(units, key=_sort_key)
    return ordered if last is None else [u for u in ordered if _sort_key(u) > last]


def _sort_key(unit: Unit) -> tuple[datetime, str, str, str, str]:
    """Oldest period first, then structure name and handle; the ids make the key unique."""
    return (
        unit.period.start_at,
        unit.structure.name,
        unit.creator.tiktok_handle,
        str(unit.structure.id),
        str(unit.creator.id),
    )
