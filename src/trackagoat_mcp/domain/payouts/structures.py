"""Payout structures: a project's earning rules, versioned, archived rather than deleted.

* **Versions.** The rule (`amount_cents`, `currency`, `criteria_type`, `criteria_params`, `proration_mode`, and
  `period`) lives in immutable `PayoutStructureVersion` rows. `update_structure` writes version n+1 only when a
  rule field really changes; name, readme and metadata edits never do. Accruals pin the version in force at
  their period's end (`planning.pin_version`), so a rule change applies from the period in progress on.
* **The period kind is fixed** at creation: units are keyed by period start, and mixing weekly and monthly
  periods in one structure would let them overlap. Changing it is refused; archive and create a new structure.
* **Archive** sets `is_active = false` and `archived_at`: no period ending after that instant is ever evaluated,
  while periods that ended before it are still evaluated when their time comes (see `planning`). An archived
  structure's rule cannot change and it takes no new assignments; archiving twice changes nothing.
* `assignment_count` counts assignments that have not ended (no `ends_on`, or `ends_on` today or later in the
  organization's timezone).
* **A structure read is bounded.** `get_structure` shows the newest `VERSIONS_SHOWN` versions and the first
  `ASSIGNMENTS_SHOWN` current assignments, each list with its own cursor for the rest (`versions_next_cursor`,
  `assignments_next_cursor`), so a structure changed every day for years still reads in one small result.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from sqlmodel import select as model_select

from trackagoat_mcp.clock import local_today
from trackagoat_mcp.db.dialect import lock_rows
from trackagoat_mcp.db.models import Creator, Goal, PayoutAssignment, PayoutStructure, PayoutStructureVersion
from trackagoat_mcp.domain.notes import check_metadata, check_readme, register_entity_type
from trackagoat_mcp.domain.pagination import (
    Page,
    cursor_int,
    cursor_text,
    cursor_time,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
    fetch_page,
    keyset_after,
)
from trackagoat_mcp.domain.payouts.accruals import rule_of
from trackagoat_mcp.domain.payouts.criteria import CriteriaType, ProrationMode, Rule, check_rule
from trackagoat_mcp.domain.periods import PeriodKind
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_org, not_found, parse_id, require_text
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = [
    "AssignmentOut",
    "StructureOut",
    "StructureSummary",
    "StructureUpdate",
    "VersionOut",
    "archive_structure",
    "assignment_counts",
    "create_structure",
    "get_structure",
    "get_structure_row",
    "list_structures",
    "org_today",
    "update_structure",
]

NAME_MAX = 200
ASSIGNMENTS_SHOWN = 40
VERSIONS_SHOWN = 10
_ASSIGNMENTS_CURSOR = ("structure_assignments", "starts_on")
_UNSET: Any = object()

register_entity_type("payout_structure", PayoutStructure)


class VersionOut(BaseModel):
    """One immutable rule version of a structure."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    version: int
    period: PeriodKind = Field(description="daily, weekly (Monday start) or monthly, in the organization's timezone.")
    amount_cents: int = Field(
        description="Per period (recurring, goals), per video (view_threshold) or per 1,000 views (cpm)."
    )
    currency: str
    criteria_type: CriteriaType
    criteria_params: dict[str, Any]
    proration_mode: ProrationMode
    created_at: datetime = Field(description="In force from this instant: periods ending at or after it use it.")

    @classmethod
    def of(cls, row: PayoutStructureVersion) -> VersionOut:
        rule = rule_of(row)
        return cls(
            id=row.id,
            version=row.version,
            period=rule.period,
            amount_cents=rule.amount_cents,
            currency=rule.currency,
            criteria_type=rule.criteria_type,
            criteria_params=rule.criteria_params,
            proration_mode=rule.proration_mode,
            created_at=row.created_at,
        )


class AssignmentOut(BaseModel):
    """A creator earning under a structure between two local dates (inclusive)."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    structure_id: uuid.UUID
    creator_id: uuid.UUID
    tiktok_handle: str
    starts_on: date
    ends_on: date | None = Field(description="Last day assigned (inclusive); null = open-ended.")


class StructureSummary(BaseModel):
    """A structure as it appears in lists: its current rule in brief."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    is_active: bool = Field(description="false once archived (no new accruals).")
    period: PeriodKind
    criteria_type: CriteriaType
    amount_cents: int
    currency: str
    current_version: int
    assignment_count: int = Field(description="Assignments that have not ended.")


class StructureOut(BaseModel):
    """A payout structure with its current rule, the full version history and its current assignments."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    is_active: bool = Field(description="false once archived (no new accruals).")
    archived_at: datetime | None = Field(description="Periods ending after this instant are never evaluated.")
    current_version: VersionOut
    versions: list[VersionOut] = Field(description=f"Newest first, at most {VERSIONS_SHOWN}.")
    versions_next_cursor: str | None = Field(description="Pass as versions_cursor for older versions; null = none.")
    assignment_count: int = Field(description="Assignments that have not ended.")
    assignments: list[AssignmentOut] = Field(
        description=f"Assignments that have not ended, earliest start first (at most {ASSIGNMENTS_SHOWN})."
    )
    assignments_next_cursor: str | None = Field(
        description="Pass as assignments_cursor for the next assignments; null = none."
    )
    readme: str | None = Field(description="Agent-written markdown notes (write_readme, entity_type payout_structure).")
    metadata: dict[str, Any] = Field(description="Agent-written JSON object (write_metadata).")
    created_at: datetime
    updated_at: datetime


class StructureUpdate(BaseModel):
    """The structure after an update, and whether the update wrote a new rule version."""

    new_version_created: bool = Field(description="true when a rule field changed (name/readme/metadata never do).")
    structure: StructureOut


async def org_today(session: AsyncSession, caller: Caller, now: datetime) -> tuple[date, str]:
    """Today's date in the caller's organization timezone, and that timezone."""
    org = await get_org(session, caller)
    return local_today(now, org.timezone), org.timezone


async def get_structure_row(
    session: AsyncSession, caller: Caller, structure_id: Any, *, for_update: bool = False
) -> PayoutStructure:
    """A structure of the caller's organization (locked for update on PostgreSQL when asked)."""
    sid = parse_id(structure_id, "payout structure")
    query = model_select(PayoutStructure).where(
        col(PayoutStructure.id) == sid, col(PayoutStructure.org_id) == caller.org_id
    )
    if for_update:
        query = lock_rows(query)
    row = (await session.scalars(query)).first()
    if row is None:
        raise not_found("payout structure", sid)
    return row


def _not_ended(today: date) -> Any:
    return or_(col(PayoutAssignment.ends_on).is_(None), col(PayoutAssignment.ends_on) >= today)


async def assignment_counts(session: AsyncSession, structure_ids: list[uuid.UUID], today: date) -> dict[uuid.UUID, int]:
    """Assignments that have not ended, per structure."""
    if not structure_ids:
        return {}
    rows = await session.execute(
        select(col(PayoutAssignment.structure_id), func.count())
        .where(col(PayoutAssignment.structure_id).in_(structure_ids), _not_ended(today))
        .group_by(col(PayoutAssignment.structure_id))
    )
    return {structure_id: int(count) for structure_id, count in rows.all()}


async def _versions(session: AsyncSession, structure_id: uuid.UUID) -> list[PayoutStructureVersion]:
    query = (
        model_select(PayoutStructureVersion)
        .where(col(PayoutStructureVersion.structure_id) == structure_id)
        .order_by(col(PayoutStructureVersion.version))
    )
    return list((await session.scalars(query)).all())


async def _assignments_page(
    session: AsyncSession, structure_id: uuid.UUID, today: date, cursor: str | None
) -> tuple[list[AssignmentOut], str | None]:
    """Current assignments, earliest start first (then handle, then id), `ASSIGNMENTS_SHOWN` after `cursor`."""
    order = [col(PayoutAssignment.starts_on), col(Creator.tiktok_handle), col(PayoutAssignment.id)]
    query: Any = (
        select(PayoutAssignment, col(Creator.tiktok_handle).label("handle"))
        .join(Creator, col(Creator.id) == col(PayoutAssignment.creator_id))
        .where(col(PayoutAssignment.structure_id) == structure_id, _not_ended(today))
    )
    if cursor:
        starts_on, handle, last_id = decode_cursor(*_ASSIGNMENTS_CURSOR, cursor, cursor_text, cursor_text, cursor_uuid)
        try:
            first_day = date.fromisoformat(starts_on)
        except ValueError:
            raise InvalidInput(
                f"assignments_cursor {cursor[:60]!r} is damaged; pass assignments_next_cursor unchanged, or omit it."
            ) from None
        query = query.where(keyset_after(order, [first_day, handle, last_id], descending=False))
    rows = (await session.execute(query.order_by(*order).limit(ASSIGNMENTS_SHOWN + 1))).all()
    shown = [
        AssignmentOut(
            id=row.PayoutAssignment.id,
            structure_id=row.PayoutAssignment.structure_id,
            creator_id=row.PayoutAssignment.creator_id,
            tiktok_handle=row.handle,
            starts_on=row.PayoutAssignment.starts_on,
            ends_on=row.PayoutAssignment.ends_on,
        )
        for row in rows[:ASSIGNMENTS_SHOWN]
    ]
    next_cursor = None
    if len(rows) > ASSIGNMENTS_SHOWN:
        last = shown[-1]
        next_cursor = encode_cursor(*_ASSIGNMENTS_CURSOR, [last.starts_on.isoformat(), last.tiktok_handle, last.id])
    return shown, next_cursor


async def get_structure(
    session: AsyncSession,
    caller: Caller,
    structure_id: Any,
    *,
    now: datetime,
    versions_cursor: str | None = None,
    assignments_cursor: str | None = None,
) -> StructureOut:
    """The structure with its current rule, a page of its versions (newest first) and of its current assignments."""
    structure = await get_structure_row(session, caller, structure_id)
    today, _ = await org_today(session, caller, now)
    version_rows, versions_next = await fetch_page(
        session,
        model_select(PayoutStructureVersion).where(col(PayoutStructureVersion.structure_id) == structure.id),
        kind="structure_versions",
        order="newest",
        columns=[col(PayoutStructureVersion.version)],
        parsers=[cursor_int],
        key=lambda v: [v.version],
        cursor=versions_cursor,
        limit=VERSIONS_SHOWN,
        descending=True,
    )
    current = (
        await session.scalars(
            model_select(PayoutStructureVersion).where(
                col(PayoutStructureVersion.structure_id) == structure.id,
                col(PayoutStructureVersion.version) == structure.current_version,
            )
        )
    ).one()
    assignments, assignments_next = await _assignments_page(session, structure.id, today, assignments_cursor)
    count = (await assignment_counts(session, [structure.id], today)).get(structure.id, 0)
    return StructureOut(
        id=structure.id,
        project_id=structure.project_id,
        name=structure.name,
        is_active=structure.is_active,
        archived_at=structure.archived_at,
        current_version=VersionOut.of(current),
        versions=[VersionOut.of(v) for v in version_rows],
        versions_next_cursor=versions_next,
        assignment_count=count,
        assignments=assignments,
        assignments_next_cursor=assignments_next,
        readme=structure.readme,
        metadata=structure.meta,
        created_at=structure.created_at,
        updated_at=structure.updated_at,
    )


async def list_structures(
    session: AsyncSession,
    caller: Caller,
    *,
    now: datetime,
    project_id: Any | None = None,
    include_archived: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[StructureSummary]:
    """Structures, oldest first, with their current rule in brief (archived ones only when asked)."""
    query = model_select(PayoutStructure).where(col(PayoutStructure.org_id) == caller.org_id)
    if project_id is not None:
        query = query.where(col(PayoutStructure.project_id) == (await get_project(session, caller, project_id)).id)
    if not include_archived:
        query = query.where(col(PayoutStructure.is_active).is_(True))
    page, next_cursor = await fetch_page(
        session,
        query,
        kind="payout_structures",
        order="created",
        columns=[col(PayoutStructure.created_at), col(PayoutStructure.id)],
        parsers=[cursor_time, cursor_uuid],
        key=lambda s: [s.created_at, s.id],
        cursor=cursor,
        limit=limit,
    )
    today, _ = await org_today(session, caller, now)
    counts = await assignment_counts(session, [s.id for s in page], today)
    current: dict[uuid.UUID, PayoutStructureVersion] = {}
    if page:
        versions = model_select(PayoutStructureVersion).join(
            PayoutStructure,
            and_(
                col(PayoutStructure.id) == col(PayoutStructureVersion.structure_id),
                col(PayoutStructure.current_version) == col(PayoutStructureVersion.version),
            ),
        )
        ids = [s.id for s in page]
        current = {
            v.structure_id: v for v in (await session.scalars(versions.where(col(PayoutStructure.id).in_(ids)))).all()
        }
    items = []
    for s in page:
        rule = rule_of(current[s.id])
        items.append(
            StructureSummary(
                id=s.id,
                project_id=s.project_id,
                name=s.name,
                is_active=s.is_active,
                period=rule.period,
                criteria_type=rule.criteria_type,
                amount_cents=rule.amount_cents,
                currency=rule.currency,
                current_version=s.current_version,
                assignment_count=counts.get(s.id, 0),
            )
        )
    return Page[StructureSummary](items=items, next_cursor=next_cursor)


async def _check_goals(session: AsyncSession, caller: Caller, project_id: uuid.UUID, rule: Rule) -> None:
    """`goal_ids` must name goals of the structure's project with the structure's period."""
    ids = rule.goal_ids
    if ids is None:
        return
    goals = {
        g.id: g
        for g in (
            await session.scalars(model_select(Goal).where(col(Goal.org_id) == caller.org_id, col(Goal.id).in_(ids)))
        ).all()
    }
    for goal_id in ids:
        goal = goals.get(goal_id)
        if goal is None:
            raise not_found("goal", goal_id)
        if goal.project_id != project_id:
            raise InvalidInput(
                f"criteria_params.goal_ids: goal {str(goal_id)!r} belongs to another project than the structure; "
                "use goals of the structure's own project (list_goals with its project_id)."
            )
        if goal.period != rule.period:
            raise InvalidInput(
                f"criteria_params.goal_ids: goal {str(goal_id)!r} is {goal.period!r} but the structure is "
                f"{rule.period!r}; a goals structure pays on goals of its own period."
            )


def _version_row(structure_id: uuid.UUID, version: int, rule: Rule, now: datetime) -> PayoutStructureVersion:
    return PayoutStructureVersion(
        structure_id=structure_id,
        version=version,
        period=rule.period,
        amount_cents=rule.amount_cents,
        currency=rule.currency,
        criteria_type=rule.criteria_type,
        criteria_params=rule.criteria_params,
        proration_mode=rule.proration_mode,
        created_at=now,
    )


async def create_structure(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any,
    name: str,
    period: str,
    amount_cents: int,
    criteria_type: str,
    now: datetime,
    criteria_params: Any = None,
    proration_mode: str = "none",
    currency: str = "USD",
    readme: str | None = None,
    metadata: Any = None,
) -> StructureOut:
    """Create a structure in a project with its first rule version (assign creators separately)."""
    caller.require("write")
    project = await get_project(session, caller, project_id)
    rule = check_rule(
        period=period,
        amount_cents=amount_cents,
        currency=currency,
        criteria_type=criteria_type,
        criteria_params=criteria_params,
        proration_mode=proration_mode,
    )
    await _check_goals(session, caller, project.id, rule)
    structure = PayoutStructure(
        org_id=caller.org_id,
        project_id=project.id,
        name=require_text(name, "Payout structure name", max_length=NAME_MAX),
        readme=None if readme is None else check_readme(readme),
        meta={} if metadata is None else check_metadata(metadata),
        created_at=now,
        updated_at=now,
    )
    session.add(structure)
    await session.flush()
    session.add(_version_row(structure.id, 1, rule, now))
    await session.flush()
    return await get_structure(session, caller, structure.id, now=now)


async def update_structure(
    session: AsyncSession,
    caller: Caller,
    structure_id: Any,
    *,
    now: datetime,
    name: str | None = None,
    period: str | None = None,
    amount_cents: int | None = None,
    currency: str | None = None,
    criteria_type: str | None = None,
    criteria_params: Any = _UNSET,
    proration_mode: str | None = None,
) -> StructureUpdate:
    """Rename a structure and/or change its rule; a real rule change writes a new version.

    Fields left out keep their current value. Changing `criteria_type` starts from empty `criteria_params` (give
    the new ones) and, for `cpm`/`view_threshold`, proration `none` unless given.
    """
    caller.require("write")
    structure = await get_structure_row(session, caller, structure_id, for_update=True)
    versions = await _versions(session, structure.id)
    current = rule_of(versions[-1])
    if name is not None:
        structure.name = require_text(name, "Payout structure name", max_length=NAME_MAX)
    rule_given = any(v is not None for v in (period, amount_cents, currency, criteria_type, proration_mode))
    new_version = False
    if rule_given or criteria_params is not _UNSET:
        if period is not None and period != current.period:
            raise InvalidInput(
                f"period cannot change from {current.period!r} to {period!r}: accruals are keyed by period start. "
                "Archive this structure and create a new one with the new period."
            )
        kind = criteria_type or current.criteria_type
        type_changed = kind != current.criteria_type
        params = criteria_params if criteria_params is not _UNSET else ({} if type_changed else current.criteria_params)
        mode = proration_mode or (
            "none" if type_changed and kind in ("cpm", "view_threshold") else current.proration_mode
        )
        rule = check_rule(
            period=current.period,
            amount_cents=current.amount_cents if amount_cents is None else amount_cents,
            currency=currency or current.currency,
            criteria_type=kind,
            criteria_params=params,
            proration_mode=mode,
        )
        if rule != current:
            if not structure.is_active:
                raise Conflict(
                    f"Payout structure {structure.name!r} is archived, so its rule cannot change; create a new "
                    "structure instead.",
                    code="structure_archived",
                )
            await _check_goals(session, caller, structure.project_id, rule)
            structure.current_version = versions[-1].version + 1
            session.add(_version_row(structure.id, structure.current_version, rule, now))
            new_version = True
    structure.updated_at = now
    session.add(structure)
    await session.flush()
    return StructureUpdate(
        new_version_created=new_version, structure=await get_structure(session, caller, structure.id, now=now)
    )


async def archive_structure(session: AsyncSession, caller: Caller, structure_id: Any, *, now: datetime) -> StructureOut:
    """Archive a structure: no accrual for any period ending after now; earlier periods are still evaluated."""
    caller.require("write")
    structure = await get_structure_row(session, caller, structure_id, for_update=True)
    if structure.is_active:
        structure.is_active = False
        structure.archived_at = now
        structure.updated_at = now
        session.add(structure)
        await session.flush()
    return await get_structure(session, caller, structure.id, now=now)
