"""The `payouts` toolset, earning half: methods, versioned structures, assignments, accruals and their preview."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, ElicitationResult, Resolve
from mcp.types import CallToolResult
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.config import Settings
from trackagoat_mcp.domain.pagination import Page
from trackagoat_mcp.domain.payouts import accrual_records, assignments, methods, preview, structures
from trackagoat_mcp.domain.payouts.accrual_records import AccrualOut
from trackagoat_mcp.domain.payouts.assignments import AssignResult, UnassignResult
from trackagoat_mcp.domain.payouts.criteria import MAX_AMOUNT_CENTS
from trackagoat_mcp.domain.payouts.effects import MoneyEffect, accrual_effect, assign_effect
from trackagoat_mcp.domain.payouts.methods import PayoutMethodOut
from trackagoat_mcp.domain.payouts.preview import DEFAULT_PREVIEW_LIMIT, MAX_PREVIEW_LIMIT, PreviewOut
from trackagoat_mcp.domain.payouts.structures import StructureOut, StructureSummary, StructureUpdate, org_today
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.server.budget import fit_page
from trackagoat_mcp.server.confirm import Approval, Check, Confirmation, Gate, TokenArg
from trackagoat_mcp.server.context import app_context, unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import CreatorId, Cursor, Limit, ProjectId

group = ToolGroup("payouts")

# Id arguments without a description: their names (method_id, structure_id, accrual_id) say whose they are, and
# every description is paid for in every session's tools/list.
MethodId = Annotated[str, Field(min_length=1, max_length=64)]
StructureId = Annotated[str, Field(min_length=1, max_length=64)]
AccrualId = Annotated[str, Field(min_length=1, max_length=64)]
OptionalId = Annotated[str | None, Field(min_length=1, max_length=64)]
Period = Literal["daily", "weekly", "monthly"]
CriteriaType = Literal["recurring", "goals", "cpm", "view_threshold"]
Proration = Literal["none", "daily", "skip_partial"]
AmountCents = Annotated[
    int, Field(ge=1, le=MAX_AMOUNT_CENTS, description="USD cents per period, per qualifying video, or per 1,000 views.")
]
CRITERIA_PARAMS = (
    'recurring: none. goals: optional {"goal_ids": [...]} (default: all the creator\'s active goals of the period). '
    'cpm: optional "max_cents" (cap per period), "min_views" (per video). view_threshold: "threshold_views" '
    '(required), optional "max_videos".'
)
PRORATION = "Partial periods of recurring/goals: none (full), daily (× days covered ÷ days), skip_partial (0)."


class DeletedMethod(BaseModel):
    """The deleted payout method."""

    deleted_method_id: uuid.UUID
    name: str


# --- methods -------------------------------------------------------------------------------------------------


@group.tool(title="List payout methods")
@fit_page
async def list_payout_methods(
    ctx: Context[Any],
    include_inactive: Annotated[bool, Field(description="Also list disabled methods.")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, Page[PayoutMethodOut]]:
    """List payout methods by name: the defaults Venmo, Cash App, PayPal and custom ones (disabled ones only with
    include_inactive). Pass a method's id as method_id to create_payout_payment."""
    async with unit(ctx) as u:
        page = await methods.list_methods(
            u.session, u.caller, include_inactive=include_inactive, limit=limit, cursor=cursor
        )
    return respond(page)


@group.tool(title="Create a payout method", scope="write", idempotent=True)
async def create_payout_method(
    ctx: Context[Any],
    name: Annotated[str, Field(min_length=1, max_length=100)],
    icon_url: Annotated[str | None, Field(max_length=2000, description="http(s) URL.")] = None,
) -> Annotated[CallToolResult, PayoutMethodOut]:
    """Create a custom payout method such as "Zelle". Names are unique ignoring case (method_name_taken)."""
    async with unit(ctx, write=True) as u:
        result = await methods.create_method(u.session, u.caller, name=name, icon_url=icon_url, now=u.now)
    return respond(result)


@group.tool(title="Update a payout method", scope="write", idempotent=True)
async def update_payout_method(
    ctx: Context[Any],
    method_id: MethodId,
    name: Annotated[str | None, Field(min_length=1, max_length=100)] = None,
    is_active: bool | None = None,
    icon_url: Annotated[str | None, Field(max_length=2000)] = None,
    clear_icon: bool = False,
) -> Annotated[CallToolResult, PayoutMethodOut]:
    """Rename a custom method, disable (is_active=false: no new payments) or re-enable any method, set or clear its
    icon. Defaults keep their names (default_method); payments keep the name they were recorded with."""
    changes: dict[str, Any] = {}
    if clear_icon:
        changes["icon_url"] = None
    elif icon_url is not None:
        changes["icon_url"] = icon_url
    async with unit(ctx, write=True) as u:
        result = await methods.update_method(
            u.session, u.caller, method_id, now=u.now, name=name, is_active=is_active, **changes
        )
    return respond(result)


@group.tool(title="Delete a payout method", scope="write", destructive=True, idempotent=True)
async def delete_payout_method(ctx: Context[Any], method_id: MethodId) -> Annotated[CallToolResult, DeletedMethod]:
    """Delete a custom method no payment uses. Defaults (default_method) and used methods (method_in_use) are
    refused: disable them with update_payout_method instead."""
    async with unit(ctx, write=True) as u:
        deleted = await methods.delete_method(u.session, u.caller, method_id)
    return respond(DeletedMethod(deleted_method_id=deleted.id, name=deleted.name))


# --- structures ----------------------------------------------------------------------------------------------


@group.tool(title="List payout structures")
@fit_page
async def list_payout_structures(
    ctx: Context[Any],
    project_id: Annotated[str | None, Field(max_length=64)] = None,
    include_archived: bool = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, Page[StructureSummary]]:
    """List payout structures, oldest first: current rule in brief, version, assignments not yet ended."""
    async with unit(ctx) as u:
        page = await structures.list_structures(
            u.session,
            u.caller,
            now=u.now,
            project_id=project_id,
            include_archived=include_archived,
            limit=limit,
            cursor=cursor,
        )
    return respond(page)


@group.tool(title="Get a payout structure")
async def get_payout_structure(
    ctx: Context[Any],
    structure_id: StructureId,
    versions_cursor: Cursor = None,
    assignments_cursor: Cursor = None,
) -> Annotated[CallToolResult, StructureOut]:
    """Get a payout structure: current rule, versions newest first (a period is paid by the version in force at its
    end), archive state, notes and current assignments; each list pages with its own *_next_cursor."""
    async with unit(ctx) as u:
        result = await structures.get_structure(
            u.session,
            u.caller,
            structure_id,
            now=u.now,
            versions_cursor=versions_cursor,
            assignments_cursor=assignments_cursor,
        )
    return respond(result)


@group.tool(title="Create a payout structure", scope="write", idempotent=False)
async def create_payout_structure(
    ctx: Context[Any],
    project_id: ProjectId,
    name: Annotated[str, Field(min_length=1, max_length=200)],
    period: Annotated[Period, Field(description="In the org timezone; weeks start Monday.")],
    amount_cents: AmountCents,
    criteria_type: CriteriaType,
    criteria_params: Annotated[dict[str, Any] | None, Field(description=CRITERIA_PARAMS)] = None,
    proration_mode: Annotated[Proration, Field(description=PRORATION)] = "none",
) -> Annotated[CallToolResult, StructureOut]:
    """Create an earning rule (version 1) in a project, then assign creators. recurring pays each period;
    goals when all the creator's goals of the period were met; cpm per 1,000 views of videos posted in the period;
    view_threshold per video reaching threshold_views. A period is evaluated once per creator: recurring at its end,
    others 48 h later."""
    async with unit(ctx, write=True) as u:
        result = await structures.create_structure(
            u.session,
            u.caller,
            project_id=project_id,
            name=name,
            period=period,
            amount_cents=amount_cents,
            criteria_type=criteria_type,
            criteria_params=criteria_params,
            proration_mode=proration_mode,
            now=u.now,
        )
    return respond(result)


@group.tool(title="Update a payout structure", scope="write", idempotent=True)
async def update_payout_structure(
    ctx: Context[Any],
    structure_id: StructureId,
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None,
    amount_cents: Annotated[int | None, Field(ge=1, le=MAX_AMOUNT_CENTS)] = None,
    criteria_type: CriteriaType | None = None,
    criteria_params: Annotated[dict[str, Any] | None, Field(description="Replaces the params whole.")] = None,
    proration_mode: Proration | None = None,
) -> Annotated[CallToolResult, StructureUpdate]:
    """Rename a structure or change its rule (fields as in create_payout_structure; only those given change; the
    period is fixed). A real rule change writes version n+1, paying from the period in progress on."""
    rule: dict[str, Any] = {}
    if criteria_params is not None:
        rule["criteria_params"] = criteria_params
    async with unit(ctx, write=True) as u:
        result = await structures.update_structure(
            u.session,
            u.caller,
            structure_id,
            now=u.now,
            name=name,
            amount_cents=amount_cents,
            criteria_type=criteria_type,
            proration_mode=proration_mode,
            **rule,
        )
    return respond(result)


@group.tool(title="Archive a payout structure", scope="write", destructive=True, idempotent=True)
async def archive_payout_structure(
    ctx: Context[Any], structure_id: StructureId
) -> Annotated[CallToolResult, StructureOut]:
    """Archive a structure (no un-archive): periods ending after now, the one in progress included, earn nothing;
    ended periods are still evaluated. Its rule freezes and it takes no new assignments."""
    async with unit(ctx, write=True) as u:
        result = await structures.archive_structure(u.session, u.caller, structure_id, now=u.now)
    return respond(result)


async def _assign(
    session: AsyncSession, caller: Caller, arguments: dict[str, Any], now: datetime, backdate_days: int
) -> tuple[AssignResult, MoneyEffect | None]:
    """Assign as asked in `session`, and the effect of it."""
    result = await assignments.assign_creators(
        session,
        caller,
        arguments["structure_id"],
        arguments["creator_ids"],
        now=now,
        starts_on=arguments["starts_on"],
        ends_on=arguments["ends_on"],
        backdate_days=backdate_days,
    )
    today, _ = await org_today(session, caller, now)
    first = arguments["starts_on"] or today
    return result, await assign_effect(session, result, starts_on=first, ends_on=arguments["ends_on"], today=today)


async def _dry_run_assign(
    session: AsyncSession, caller: Caller, arguments: dict[str, Any], now: datetime, settings: Settings
) -> MoneyEffect | None:
    return (await _assign(session, caller, arguments, now, settings.assignment_backdate_days))[1]


ASSIGN = Confirmation("assign_payout_structure", _dry_run_assign)


@group.tool(title="Assign creators to a payout structure", scope="write", idempotent=True)
@ASSIGN.bind
async def assign_payout_structure(
    ctx: Context[Any],
    structure_id: StructureId,
    creator_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=50)
    ],
    gate: Annotated[Gate, Resolve(ASSIGN.gate)],
    answer: Annotated[ElicitationResult[Approval], Resolve(ASSIGN.ask)],
    starts_on: Annotated[date | None, Field(description="Default today.")] = None,
    ends_on: Annotated[date | None, Field(description="Inclusive; default open-ended.")] = None,
    confirmation_token: TokenArg = None,
) -> Annotated[CallToolResult, AssignResult]:
    """Assign 1-50 creators of the structure's project from starts_on to ends_on (local dates),
    all-or-nothing. Refused: overlap with the creator's assignment (assignment_overlap), days of evaluated periods
    (period_already_evaluated). Same dates again: already_assigned. A past start (≤ 1 year) back-dates earnings."""
    arguments: dict[str, Any] = {
        "structure_id": structure_id,
        "creator_ids": creator_ids,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "confirmation_token": confirmation_token,
    }
    backdate_days = app_context(ctx).settings.assignment_backdate_days

    async def write(check: Check | None) -> CallToolResult:
        async with unit(ctx, write=True) as u:
            result, effect = await _assign(u.session, u.caller, arguments, u.now, backdate_days)
            if check is not None:
                await check(u.session, effect)
        return respond(result)

    return await ASSIGN.settle(ctx, arguments, gate, answer, write)


@group.tool(title="Unassign a creator from a payout structure", scope="write", destructive=True, idempotent=True)
async def unassign_payout_structure(
    ctx: Context[Any],
    structure_id: StructureId,
    creator_id: CreatorId,
    ends_on: Annotated[date | None, Field(description="Last day that earns; default today.")] = None,
) -> Annotated[CallToolResult, UnassignResult]:
    """Stop a creator earning after ends_on: the assignment covering it ends then (kept), later ones are removed.
    Refused if a removed day lies in an evaluated period (period_already_evaluated)."""
    async with unit(ctx, write=True) as u:
        result = await assignments.unassign_creator(
            u.session, u.caller, structure_id, creator_id, now=u.now, ends_on=ends_on
        )
    return respond(result)


# --- accruals ------------------------------------------------------------------------------------------------


@group.tool(title="List payout accruals")
@fit_page
async def list_payout_accruals(
    ctx: Context[Any],
    project_id: OptionalId = None,
    creator_id: OptionalId = None,
    structure_id: OptionalId = None,
    status: Literal["earned", "paid", "rejected", "voided"] | None = None,
    period_from: Annotated[date | None, Field(description="Periods starting on or after this day.")] = None,
    period_to: Annotated[date | None, Field(description="Periods starting on or before this day.")] = None,
    newest_first: bool = False,
    include_inputs: Annotated[bool, Field(description="Add inputs_snapshot (large).")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, Page[AccrualOut]]:
    """List accruals (cents earned per creator, structure and period), oldest period first. What a creator is owed:
    creator_id + status=earned; pay it all with create_payout_payment(auto_apply_outstanding=true)."""
    async with unit(ctx) as u:
        page = await accrual_records.list_accruals(
            u.session,
            u.caller,
            project_id=project_id,
            creator_id=creator_id,
            structure_id=structure_id,
            status=status,
            period_from=period_from,
            period_to=period_to,
            newest_first=newest_first,
            include_inputs=include_inputs,
            limit=limit,
            cursor=cursor,
        )
    return respond(page)


@group.tool(title="Get a payout accrual")
async def get_payout_accrual(ctx: Context[Any], accrual_id: AccrualId) -> Annotated[CallToolResult, AccrualOut]:
    """Get one accrual with its inputs_snapshot (the figures its amount came from) and pinned structure_version_id."""
    async with unit(ctx) as u:
        result = await accrual_records.get_accrual(u.session, u.caller, accrual_id)
    return respond(result)


async def _update_accrual(
    session: AsyncSession, caller: Caller, arguments: dict[str, Any], now: datetime
) -> tuple[AccrualOut, MoneyEffect | None]:
    """Reject, void or restore as asked in `session`, and the effect to confirm (None for a restore)."""
    action, reason = arguments["action"], arguments["reason"]
    before = await accrual_records.get_accrual(session, caller, arguments["accrual_id"])
    result = await accrual_records.update_accrual(
        session, caller, arguments["accrual_id"], action=action, reason=reason, now=now
    )
    return result, None if action == "restore" else accrual_effect(before, action, reason)


async def _dry_run_accrual(
    session: AsyncSession, caller: Caller, arguments: dict[str, Any], now: datetime, settings: Settings
) -> MoneyEffect | None:
    return (await _update_accrual(session, caller, arguments, now))[1]


ACCRUAL = Confirmation("update_payout_accrual", _dry_run_accrual)


@group.tool(title="Reject, void or restore an accrual", scope="write", destructive=True, idempotent=True)
@ACCRUAL.bind
async def update_payout_accrual(
    ctx: Context[Any],
    accrual_id: AccrualId,
    action: Literal["reject", "void", "restore"],
    reason: Annotated[str, Field(min_length=1, max_length=1000)],
    gate: Annotated[Gate, Resolve(ACCRUAL.gate)],
    answer: Annotated[ElicitationResult[Approval], Resolve(ACCRUAL.ask)],
    confirmation_token: TokenArg = None,
) -> Annotated[CallToolResult, AccrualOut]:
    """Reject (never earned) or void an unpaid earned accrual so it is not owed, or restore one (owed again, net of
    live payments). Paid or partly paid: accrual_paid, void the payment first. Repeats: no_change."""
    arguments = {"accrual_id": accrual_id, "action": action, "reason": reason, "confirmation_token": confirmation_token}

    async def write(check: Check | None) -> CallToolResult:
        async with unit(ctx, write=True) as u:
            result, effect = await _update_accrual(u.session, u.caller, arguments, u.now)
            if check is not None:
                await check(u.session, effect)
        return respond(result)

    return await ACCRUAL.settle(ctx, arguments, gate, answer, write)


@group.tool(title="Preview accruals")
@fit_page
async def preview_accruals(
    ctx: Context[Any],
    project_id: OptionalId = None,
    structure_id: OptionalId = None,
    creator_id: OptionalId = None,
    until: Annotated[
        datetime | None,
        Field(description="Periods ending by then (≤ 92 days ahead); default now."),
    ] = None,
    limit: Annotated[int, Field(ge=1, le=MAX_PREVIEW_LIMIT)] = DEFAULT_PREVIEW_LIMIT,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, PreviewOut]:
    """What the next accrual runs would record for a project, structure or creator (at least one), by the
    job's own code, writing nothing: unevaluated periods ending by until, plus the open one. state: due,
    waiting_for_stats, scheduled or open (both projected as of now). Pages of up to 25."""
    async with unit(ctx) as u:
        result = await preview.preview_accruals(
            u.session,
            u.caller,
            now=u.now,
            project_id=project_id,
            structure_id=structure_id,
            creator_id=creator_id,
            until=until,
            limit=limit,
            cursor=cursor,
        )
    return respond(result)
