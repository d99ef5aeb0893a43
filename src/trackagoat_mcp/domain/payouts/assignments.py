"""Assignments: which creators earn under a structure, from `starts_on` to `ends_on` (local dates, inclusive).

* A creator must belong to the structure's project and be active; an archived structure takes no one new.
* Assignments of one creator to one structure never overlap (`assignment_overlap`); assigning again with the
  very same dates is a no-op (`already_assigned`), so a retried call is harmless.
* Money already evaluated is never contradicted: an assignment may not add days to a period that was already
  evaluated for that creator, nor end before the last day of a period already evaluated
  (`period_already_evaluated`).
* Unassigning sets `ends_on` (default: today, the last day that still counts) on the assignment covering that
  day; assignments that would only start later are deleted (they never took effect). Both are refused when a
  period containing a removed day was already evaluated, so nothing with money attached is ever deleted.

Structure rows are locked (`FOR UPDATE` on PostgreSQL; SQLite serialises writers) so two concurrent calls
cannot both pass the overlap check.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from sqlmodel import select as model_select

from trackagoat_mcp.clock import parse_timezone
from trackagoat_mcp.db.models import Creator, PayoutAssignment, PayoutEvaluation, PayoutStructure
from trackagoat_mcp.domain.payouts.structures import (
    AssignmentOut,
    assignment_counts,
    get_structure_row,
    org_today,
)
from trackagoat_mcp.domain.periods import local_midnight
from trackagoat_mcp.domain.scope import Caller, not_found, parse_id
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = ["AssignResult", "AssignedCreator", "UnassignResult", "assign_creators", "unassign_creator"]

MAX_CREATORS = 50
DEFAULT_BACKDATE_DAYS = 366
"""How far back an assignment may start unless the caller says otherwise (`TRACKAGOAT_ASSIGNMENT_BACKDATE_DAYS`)."""
LATEST_AHEAD = timedelta(days=3660)


class AssignedCreator(BaseModel):
    """The outcome for one creator of an assign call."""

    creator_id: uuid.UUID
    tiktok_handle: str
    outcome: Literal["assigned", "already_assigned"]
    assignment: AssignmentOut


class AssignResult(BaseModel):
    """Outcome of assign_payout_structure."""

    structure_id: uuid.UUID
    results: list[AssignedCreator]
    assignment_count: int = Field(description="Assignments of the structure that have not ended.")


class UnassignResult(BaseModel):
    """Outcome of unassign_payout_structure."""

    outcome: Literal["ended", "unchanged", "deleted"] = Field(
        description="ended: the assignment covering ends_on now ends on it; unchanged: nothing ran past ends_on; "
        "deleted: only assignments starting after ends_on existed, and they were removed."
    )
    assignment: AssignmentOut = Field(description="The assignment ended (or deleted, or the latest if unchanged).")
    deleted: list[AssignmentOut] = Field(description="Assignments that would have started after ends_on, removed.")


def _out(row: PayoutAssignment, handle: str) -> AssignmentOut:
    return AssignmentOut(
        id=row.id,
        structure_id=row.structure_id,
        creator_id=row.creator_id,
        tiktok_handle=handle,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
    )


def _check_dates(starts_on: date, ends_on: date | None, today: date, backdate_days: int) -> None:
    earliest = today - timedelta(days=backdate_days)
    if starts_on < earliest:
        raise InvalidInput(
            f"starts_on {starts_on.isoformat()!r} is more than {backdate_days} days back; an assignment may start on "
            f"{earliest.isoformat()} at the earliest (TRACKAGOAT_ASSIGNMENT_BACKDATE_DAYS). Pay older work with an "
            "ad-hoc payment instead."
        )
    if starts_on > today + LATEST_AHEAD:
        raise InvalidInput(
            f"starts_on {starts_on.isoformat()!r} is more than ten years ahead; give a date up to "
            f"{(today + LATEST_AHEAD).isoformat()}."
        )
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput(
            f"ends_on {ends_on.isoformat()!r} is before starts_on {starts_on.isoformat()!r}; the last day must be on "
            "or after the first."
        )


async def _creators(
    session: AsyncSession, caller: Caller, structure: PayoutStructure, creator_ids: Sequence[Any]
) -> list[Creator]:
    ids = [parse_id(raw, "creator") for raw in creator_ids]
    found = {
        c.id: c
        for c in (
            await session.scalars(
                model_select(Creator).where(col(Creator.org_id) == caller.org_id, col(Creator.id).in_(ids))
            )
        ).all()
    }
    creators: list[Creator] = []
    for cid in dict.fromkeys(ids):
        creator = found.get(cid)
        if creator is None:
            raise not_found("creator", cid)
        if creator.project_id != structure.project_id:
            raise InvalidInput(
                f"Creator @{creator.tiktok_handle} ({cid}) belongs to another project than payout structure "
                f"{structure.name!r}; assign only creators of the structure's project (list_creators with its "
                "project_id)."
            )
        if not creator.is_active:
            raise InvalidInput(
                f"Creator @{creator.tiktok_handle} ({cid}) is removed or disabled; add it again (add_creators) or "
                "re-enable it before assigning it."
            )
        creators.append(creator)
    return creators


async def _evaluated_between(
    session: AsyncSession, structure_id: uuid.UUID, creator_id: uuid.UUID, start: datetime, end: datetime | None
) -> PayoutEvaluation | None:
    """The latest evaluation of the creator under the structure whose period overlaps `[start, end)`."""
    query = model_select(PayoutEvaluation).where(
        col(PayoutEvaluation.structure_id) == structure_id,
        col(PayoutEvaluation.creator_id) == creator_id,
        col(PayoutEvaluation.period_end_at) > start,
    )
    if end is not None:
        query = query.where(col(PayoutEvaluation.period_start_at) < end)
    return (await session.scalars(query.order_by(col(PayoutEvaluation.period_end_at).desc()).limit(1))).first()


async def assign_creators(
    session: AsyncSession,
    caller: Caller,
    structure_id: Any,
    creator_ids: Sequence[Any],
    *,
    now: datetime,
    starts_on: date | None = None,
    ends_on: date | None = None,
    backdate_days: int = DEFAULT_BACKDATE_DAYS,
) -> AssignResult:
    """Assign up to 50 creators to a structure from `starts_on` (default today) to `ends_on` (default open-ended).

    All-or-nothing: every creator is checked before anything is written. `starts_on` may lie at most
    `backdate_days` before today (the periods in between are evaluated by the next accrual run).
    """
    caller.require("write")
    if not 1 <= len(creator_ids) <= MAX_CREATORS:
        raise InvalidInput(f"creator_ids lists {len(creator_ids)} creators; give 1 to {MAX_CREATORS}.")
    structure = await get_structure_row(session, caller, structure_id, for_update=True)
    if not structure.is_active:
        raise Conflict(
            f"Payout structure {structure.name!r} is archived and takes no new assignments; create a new structure.",
            code="structure_archived",
        )
    today, tz = await org_today(session, caller, now)
    first = starts_on or today
    _check_dates(first, ends_on, today, backdate_days)
    creators = await _creators(session, caller, structure, creator_ids)
    start_at = local_midnight(first, tz)
    end_at = None if ends_on is None else local_midnight(ends_on + timedelta(days=1), tz)

    plans: list[tuple[Creator, PayoutAssignment | None]] = []
    for creator in creators:
        overlapping = (
            await session.scalars(
                model_select(PayoutAssignment).where(
                    col(PayoutAssignment.structure_id) == structure.id,
                    col(PayoutAssignment.creator_id) == creator.id,
                    or_(col(PayoutAssignment.ends_on).is_(None), col(PayoutAssignment.ends_on) >= first),
                    *(() if ends_on is None else (col(PayoutAssignment.starts_on) <= ends_on,)),
                )
            )
        ).all()
        same = [a for a in overlapping if a.starts_on == first and a.ends_on == ends_on]
        if same:
            plans.append((creator, same[0]))
            continue
        if overlapping:
            other = overlapping[0]
            until = other.ends_on.isoformat() if other.ends_on else "open-ended"
            raise Conflict(
                f"Creator @{creator.tiktok_handle} is already assigned to {structure.name!r} from "
                f"{other.starts_on.isoformat()} to {until}, which overlaps the dates asked for; change that "
                "assignment with unassign_payout_structure first, or pick dates outside it.",
                code="assignment_overlap",
            )
        evaluated = await _evaluated_between(session, structure.id, creator.id, start_at, end_at)
        if evaluated is not None:
            raise Conflict(
                f"The period of @{creator.tiktok_handle} starting {evaluated.period_start_at.isoformat()} under "
                f"{structure.name!r} was already evaluated, so days in it cannot be added; start the assignment on "
                "or after that period's end.",
                code="period_already_evaluated",
            )
        plans.append((creator, None))

    results: list[AssignedCreator] = []
    for creator, existing in plans:
        row = existing or PayoutAssignment(
            org_id=caller.org_id,
            structure_id=structure.id,
            creator_id=creator.id,
            starts_on=first,
            ends_on=ends_on,
            created_at=now,
            updated_at=now,
        )
        if existing is None:
            session.add(row)
        results.append(
            AssignedCreator(
                creator_id=creator.id,
                tiktok_handle=creator.tiktok_handle,
                outcome="already_assigned" if existing else "assigned",
                assignment=_out(row, creator.tiktok_handle),
            )
        )
    await session.flush()
    count = (await assignment_counts(session, [structure.id], today)).get(structure.id, 0)
    return AssignResult(structure_id=structure.id, results=results, assignment_count=count)


async def unassign_creator(
    session: AsyncSession,
    caller: Caller,
    structure_id: Any,
    creator_id: Any,
    *,
    now: datetime,
    ends_on: date | None = None,
) -> UnassignResult:
    """Stop the creator earning under the structure after `ends_on` (default today, inclusive).

    The assignment covering that day ends on it; assignments starting later are deleted (they never took effect).
    Refused when a period containing any removed day was already evaluated.
    """
    caller.require("write")
    structure = await get_structure_row(session, caller, structure_id, for_update=True)
    cid = parse_id(creator_id, "creator")
    creator = (
        await session.scalars(model_select(Creator).where(col(Creator.id) == cid, col(Creator.org_id) == caller.org_id))
    ).first()
    if creator is None:
        raise not_found("creator", cid)
    today, tz = await org_today(session, caller, now)
    last_day = ends_on or today
    rows = list(
        (
            await session.scalars(
                model_select(PayoutAssignment)
                .where(col(PayoutAssignment.structure_id) == structure.id, col(PayoutAssignment.creator_id) == cid)
                .order_by(col(PayoutAssignment.starts_on))
            )
        ).all()
    )
    if not rows:
        raise Conflict(
            f"Creator @{creator.tiktok_handle} is not assigned to payout structure {structure.name!r}; nothing to end.",
            code="not_assigned",
        )
    handle = creator.tiktok_handle
    affected = [r for r in rows if r.ends_on is None or r.ends_on > last_day]
    if not affected:
        return UnassignResult(outcome="unchanged", assignment=_out(rows[-1], handle), deleted=[])
    removed = [  # the UTC ranges of the days that stop earning
        (
            local_midnight(max(r.starts_on, last_day + timedelta(days=1)), tz),
            None if r.ends_on is None else local_midnight(r.ends_on + timedelta(days=1), tz),
        )
        for r in affected
    ]
    for start, end in removed:
        evaluated = await _evaluated_between(session, structure.id, cid, start, end)
        if evaluated is not None:
            last_evaluated = evaluated.period_end_at.astimezone(parse_timezone(tz)).date() - timedelta(days=1)
            raise Conflict(
                f"@{handle}'s period through {last_evaluated.isoformat()} under {structure.name!r} was already "
                f"evaluated with the creator assigned, so the assignment cannot end on {last_day.isoformat()}; give "
                f"an ends_on of {last_evaluated.isoformat()} or later (reject or void that period's accrual with "
                "update_payout_accrual if it should not have been paid).",
                code="period_already_evaluated",
            )
    covering = next((r for r in affected if r.starts_on <= last_day), None)
    deleted = [_out(r, handle) for r in affected if r is not covering]
    for row in affected:
        if row is covering:
            row.ends_on = last_day
            row.updated_at = now
            session.add(row)
        else:
            await session.delete(row)
    await session.flush()
    if covering is not None:
        return UnassignResult(outcome="ended", assignment=_out(covering, handle), deleted=deleted)
    return UnassignResult(outcome="deleted", assignment=deleted[0], deleted=deleted)
