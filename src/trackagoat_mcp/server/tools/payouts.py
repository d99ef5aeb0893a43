"""The `payouts` toolset, earning half: methods, versioned structures, assignments, accruals and their preview."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from trackagoat_mcp.domain.pagination import Page
from trackagoat_mcp.domain.payouts import accrual_records, assignments, methods, preview, structures
from trackagoat_mcp.domain.payouts.accrual_records import AccrualOut
from trackagoat_mcp.domain.payouts.assignments import AssignResult, UnassignResult
from trackagoat_mcp.domain.payouts.criteria import MAX_AMOUNT_CENTS
from trackagoat_mcp.domain.payouts.methods import PayoutMethodOut
from trackagoat_mcp.domain.payouts.preview import PreviewOut
from trackagoat_mcp.domain.payouts.structures import StructureOut, StructureSummary, StructureUpdate
from trackagoat_mcp.server.context import unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import CreatorId, Cursor, Limit, ProjectId, id_arg

group = ToolGroup("payouts")

MethodId = Annotated[str, id_arg("payout method")]
StructureId = Annotated[str, id_arg("payout structure")]
AccrualId = Annotated[str, id_arg("payout accrual")]
OptionalId = Annotated[str | None, Field(min_length=1, max_length=64)]
Period = Literal["daily", "weekly", "monthly"]
CriteriaType = Literal["recurring", "goals", "cpm", "view_threshold"]
Proration = Literal["none", "daily", "skip_partial"]
AmountCents = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_AMOUNT_CENTS,
        description="Cents: per period (recurring, goals), per qualifying video (view_threshold) or per 1,000 views "
        "(cpm).",
    ),
]
CRITERIA_PARAMS = (
    'JSON object. recurring: {}. goals: optional {"goal_ids": [...]} (goals of the same project and period; default: '
    'all of the creator\'s active goals of the period). cpm: optional {"max_cents": cap per period, "min_views": '
    'views a video needs to count}. view_threshold: {"threshold_views": N (required), "max_videos": optional cap}. '
    "Unknown keys are refused."
)
PRORATION = (
    "For periods the creator is assigned only in part (recurring and goals only): none = full amount, daily = amount × "
    "days covered ÷ days in the period, skip_partial = nothing. cpm and view_threshold must use none (only videos "
    "posted while assigned count)."
)


class DeletedMethod(BaseModel):
    """The deleted payout method."""

    deleted_method_id: uuid.UUID
    name: str


# --- methods -------------------------------------------------------------------------------------------------


@group.tool(title="List payout methods")
async def list_payout_methods(
    ctx: Context[Any],
    include_inactive: Annotated[bool, Field(description="Also list disabled methods.")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, Page[PayoutMethodOut]]:
    """List the organization's payout methods by name, with readme and metadata. Every organization has the
    defaults Venmo, Cash App and PayPal (is_default) plus any custom ones; disabled methods are hidden unless
    include_inactive. Use a method's id as method_id when recording a payment."""
    async with unit(ctx) as u:
        page = await methods.list_methods(
            u.session, u.caller, include_inactive=include_inactive, limit=limit, cursor=cursor
        )
    return respond(page)


@group.tool(title="Create a payout method", scope="write", idempotent=True)
async def create_payout_method(
    ctx: Context[Any],
    name: Annotated[str, Field(min_length=1, max_length=100, description="Unique in the organization (any case).")],
    icon_url: Annotated[str | None, Field(max_length=2000, description="An http(s) URL of an icon.")] = None,
) -> Annotated[CallToolResult, PayoutMethodOut]:
    """Create a custom payout method (e.g. "Zelle", "Wise"). Names are unique per organization ignoring case: a
    second call with the same name is refused with method_name_taken and changes nothing."""
    async with unit(ctx, write=True) as u:
        result = await methods.create_method(u.session, u.caller, name=name, icon_url=icon_url, now=u.now)
    return respond(result)


@group.tool(title="Update a payout method", scope="write", idempotent=True)
async def update_payout_method(
    ctx: Context[Any],
    method_id: MethodId,
    name: Annotated[str | None, Field(min_length=1, max_length=100, description="New name (custom methods).")] = None,
    is_active: Annotated[bool | None, Field(description="false disables it for new payments; true re-enables.")] = None,
    icon_url: Annotated[str | None, Field(max_length=2000, description="New http(s) icon URL.")] = None,
    clear_icon: Annotated[bool, Field(description="true removes the icon.")] = False,
) -> Annotated[CallToolResult, PayoutMethodOut]:
    """Rename a custom method, enable or disable any method, or set/clear its icon; only the fields given change.
    Defaults (Venmo, Cash App, PayPal) keep their names (default_method). Existing payments keep the method name
    they were recorded with. Notes go through write_readme/write_metadata with entity_type payout_method."""
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
    """Delete a custom payout method that no payment uses. Defaults cannot be deleted (default_method) and a method
    with payments is refused (method_in_use): disable those with update_payout_method(is_active=false)."""
    async with unit(ctx, write=True) as u:
        deleted = await methods.delete_method(u.session, u.caller, method_id)
    return respond(DeletedMethod(deleted_method_id=deleted.id, name=deleted.name))


# --- structures ----------------------------------------------------------------------------------------------


@group.tool(title="List payout structures")
async def list_payout_structures(
    ctx: Context[Any],
    project_id: Annotated[str | None, Field(max_length=64, description="Only this project's structures.")] = None,
    include_archived: Annotated[bool, Field(description="Also list archived structures.")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, Page[StructureSummary]]:
    """List payout structures (oldest first) with their current rule in brief: period, criteria type, amount in
    cents, version number and the number of assignments that have not ended. get_payout_structure has the rest."""
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
async def get_payout_structure(ctx: Context[Any], structure_id: StructureId) -> Annotated[CallToolResult, StructureOut]:
    """Get a payout structure: its current rule version, every earlier version (accruals pin the version in force
    at their period's end), whether it is archived, readme, metadata, and up to 100 current assignments."""
    async with unit(ctx) as u:
        result = await structures.get_structure(u.session, u.caller, structure_id, now=u.now)
    return respond(result)


@group.tool(title="Create a payout structure", scope="write", idempotent=False)
async def create_payout_structure(
    ctx: Context[Any],
    project_id: ProjectId,
    name: Annotated[str, Field(min_length=1, max_length=200)],
    period: Annotated[Period, Field(description="daily, weekly (Monday start) or monthly, in the org timezone.")],
    amount_cents: AmountCents,
    criteria_type: Annotated[
        CriteriaType,
        Field(
            description="recurring (every period), goals (when all goals were met), cpm (per 1,000 views of videos "
            "posted in the period), view_threshold (per video that reached threshold_views)."
        ),
    ],
    criteria_params: Annotated[dict[str, Any] | None, Field(description=CRITERIA_PARAMS)] = None,
    proration_mode: Annotated[Proration, Field(description=PRORATION)] = "none",
    currency: Annotated[Literal["USD"], Field(description="Only USD.")] = "USD",
) -> Annotated[CallToolResult, StructureOut]:
    """Create a payout structure (an earning rule) in a project, as version 1; then assign creators with
    assign_payout_structure. Each period is evaluated once per assigned creator by the hourly accrual run: recurring
    at period end, the others 48 h after it. Amounts are whole cents (USD), rounded half-even once."""
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
            currency=currency,
            now=u.now,
        )
    return respond(result)


@group.tool(title="Update a payout structure", scope="write", idempotent=True)
async def update_payout_structure(
    ctx: Context[Any],
    structure_id: StructureId,
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None,
    amount_cents: Annotated[int | None, Field(ge=1, le=MAX_AMOUNT_CENTS, description="New amount in cents.")] = None,
    criteria_type: CriteriaType | None = None,
    criteria_params: Annotated[
        dict[str, Any] | None, Field(description="Replaces the params whole. " + CRITERIA_PARAMS)
    ] = None,
    proration_mode: Annotated[Proration | None, Field(description=PRORATION)] = None,
    period: Annotated[Period | None, Field(description="Cannot change; archive and create a new structure.")] = None,
) -> Annotated[CallToolResult, StructureUpdate]:
    """Rename a structure and/or change its rule; only the fields given change. A real rule change (amount,
    criteria, params, proration) writes a new immutable version that applies from the period in progress on
    (periods are paid by the version in force at their end); renaming never does. Repeating the same change does
    nothing more. Archived structures keep their rule. Notes: write_readme/write_metadata (payout_structure)."""
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
            period=period,
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
    """Archive a structure: no accrual is created for any period ending after now (the period in progress earns
    nothing), while periods that already ended are still evaluated when their time comes. It takes no new
    assignments and its rule freezes; accruals and history stay. There is no un-archive."""
    async with unit(ctx, write=True) as u:
        result = await structures.archive_structure(u.session, u.caller, structure_id, now=u.now)
    return respond(result)


@group.tool(title="Assign creators to a payout structure", scope="write", idempotent=True)
async def assign_payout_structure(
    ctx: Context[Any],
    structure_id: StructureId,
    creator_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]],
        Field(min_length=1, max_length=50, description="1-50 creators of the structure's project."),
    ],
    starts_on: Annotated[date | None, Field(description="First local day that earns (default today).")] = None,
    ends_on: Annotated[date | None, Field(description="Last local day that earns, inclusive (default open).")] = None,
) -> Annotated[CallToolResult, AssignResult]:
    """Assign creators to a payout structure from starts_on to ends_on (local dates, inclusive). All-or-nothing.
    Refused: creators of another project or removed ones, dates overlapping the creator's existing assignment to
    this structure (assignment_overlap), days in periods already evaluated (period_already_evaluated). The same
    dates again answer already_assigned. A start in the past back-dates earnings (old periods are evaluated next
    run, with version 1 for periods before the structure existed)."""
    async with unit(ctx, write=True) as u:
        result = await assignments.assign_creators(
            u.session, u.caller, structure_id, creator_ids, now=u.now, starts_on=starts_on, ends_on=ends_on
        )
    return respond(result)


@group.tool(title="Unassign a creator from a payout structure", scope="write", destructive=True, idempotent=True)
async def unassign_payout_structure(
    ctx: Context[Any],
    structure_id: StructureId,
    creator_id: CreatorId,
    ends_on: Annotated[date | None, Field(description="Last local day that still earns (default today).")] = None,
) -> Annotated[CallToolResult, UnassignResult]:
    """Stop a creator earning under a structure after ends_on (default today, the last day that still earns): the
    assignment covering that day ends on it and is kept (accrual history refers to it); assignments that would only
    start later are removed. Refused with period_already_evaluated when a removed day lies in a period that was
    already evaluated. Repeating the call changes nothing (unchanged)."""
    async with unit(ctx, write=True) as u:
        result = await assignments.unassign_creator(
            u.session, u.caller, structure_id, creator_id, now=u.now, ends_on=ends_on
        )
    return respond(result)


# --- accruals ------------------------------------------------------------------------------------------------


@group.tool(title="List payout accruals")
async def list_payout_accruals(
    ctx: Context[Any],
    project_id: OptionalId = None,
    creator_id: OptionalId = None,
    structure_id: OptionalId = None,
    status: Annotated[
        Literal["earned", "paid", "rejected", "voided"] | None,
        Field(description="earned = owed and unpaid; paid; rejected; voided."),
    ] = None,
    period_from: Annotated[date | None, Field(description="Periods starting on or after this local day.")] = None,
    period_to: Annotated[date | None, Field(description="Periods starting on or before this local day.")] = None,
    newest_first: Annotated[bool, Field(description="Order by period start, newest first.")] = False,
    include_inputs: Annotated[
        bool, Field(description="Include inputs_snapshot (every figure the amount came from; can be large).")
    ] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, Page[AccrualOut]]:
    """List accruals (money earned per creator, structure and period, in cents), oldest period first. Unpaid
    accruals of a creator: creator_id + status="earned"; pay them all with create_payout_payment(creator_id,
    auto_apply_outstanding=true). Each row has amount, outstanding, status, the pinned structure version and the
    reason of the last reject/void/restore."""
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


@group.tool(title="Reject, void or restore an accrual", scope="write", destructive=True, idempotent=True)
async def update_payout_accrual(
    ctx: Context[Any],
    accrual_id: AccrualId,
    action: Annotated[
        Literal["reject", "void", "restore"],
        Field(description="reject (should never have been earned), void (cancel), restore (owed again)."),
    ],
    reason: Annotated[str, Field(min_length=1, max_length=1000, description="Why; kept as status_reason.")],
) -> Annotated[CallToolResult, AccrualOut]:
    """Reject or void an earned accrual so it is no longer owed, or restore a rejected/voided one (outstanding is
    recomputed from live payment lines). A paid or partly paid accrual is refused with accrual_paid: void the
    payment first (void_payout_payment). Repeating an action answers no_change. Returns the accrual with inputs."""
    async with unit(ctx, write=True) as u:
        result = await accrual_records.update_accrual(
            u.session, u.caller, accrual_id, action=action, reason=reason, now=u.now
        )
    return respond(result)


@group.tool(title="Preview accruals")
async def preview_accruals(
    ctx: Context[Any],
    project_id: OptionalId = None,
    structure_id: OptionalId = None,
    creator_id: OptionalId = None,
    until: Annotated[
        datetime | None,
        Field(description="Include periods ending by this time (ISO 8601, up to 92 days ahead; default now)."),
    ] = None,
) -> Annotated[CallToolResult, PreviewOut]:
    """What the next accrual runs would record for a project, structure or creator (give at least one), computed by
    the job's own code without writing anything: periods not yet evaluated that end by `until` (default now), plus
    the period in progress. state: due (next hourly run), waiting_for_stats (stale stats, waits up to 24 h),
    scheduled (evaluation time ahead; projected from figures as of now), open (period in progress, projected as of
    now). At most 200 periods, oldest first; amounts in cents."""
    async with unit(ctx) as u:
        result = await preview.preview_accruals(
            u.session,
            u.caller,
            now=u.now,
            project_id=project_id,
            structure_id=structure_id,
            creator_id=creator_id,
            until=until,
        )
    return respond(result)
