"""`/payout-structures`, with versions and assignments: the same domain calls as the payouts tools.

A rule change through `PATCH` writes a new immutable version (paying from the period in progress on), exactly as
`update_payout_structure` does. `DELETE /payout-structures/{id}` archives the structure (there is no un-archive;
ended periods are still evaluated). `DELETE …/assignments` ends one creator's assignment (`{"creator_id",
"ends_on"}`), as `unassign_payout_structure` does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema
from starlette.requests import Request
from starlette.responses import Response

from trackagoat_mcp.domain.payouts import assignments, structures
from trackagoat_mcp.domain.payouts.assignments import AssignResult, UnassignResult
from trackagoat_mcp.domain.payouts.criteria import MAX_AMOUNT_CENTS
from trackagoat_mcp.domain.payouts.structures import (
    AssignmentOut,
    StructureOut,
    StructureSummary,
    StructureUpdate,
    VersionOut,
)
from trackagoat_mcp.http.rest.common import Body, Day, Id, ListQuery, Patch, at_least_one
from trackagoat_mcp.http.rest.deps import CallerDep, StateDep
from trackagoat_mcp.http.rest.envelope import Envelope, PageEnvelope, page_response, success
from trackagoat_mcp.http.rest.idempotency import IdempotencyKey, begin
from trackagoat_mcp.server.tools.payouts import CRITERIA_PARAMS, PRORATION, AmountCents, CriteriaType, Period, Proration

router = APIRouter(tags=["payouts"])

CreatorIds = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=50)]


class StructureQuery(ListQuery):
    """Filters of the structure list."""

    project_id: Annotated[str | None, Field(max_length=64)] = None
    include_archived: bool = False


class StructureIn(Body):
    """A new earning rule (version 1)."""

    project_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    period: Period
    amount_cents: AmountCents
    criteria_type: CriteriaType
    criteria_params: Annotated[dict[str, Any] | None, Field(description=CRITERIA_PARAMS)] = None
    proration_mode: Annotated[Proration, Field(description=PRORATION)] = "none"


class StructurePatch(Patch):
    """Fields to change (at least one); a rule change writes a new version."""

    not_null = ("name", "amount_cents", "criteria_type", "criteria_params", "proration_mode")

    name: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    amount_cents: Annotated[int, Field(ge=1, le=MAX_AMOUNT_CENTS)] | SkipJsonSchema[None] = None
    criteria_type: CriteriaType | SkipJsonSchema[None] = None
    criteria_params: (
        Annotated[dict[str, Any], Field(description="Replaces the params whole.")] | SkipJsonSchema[None]
    ) = None
    proration_mode: Proration | SkipJsonSchema[None] = None


class AssignIn(Body):
    """Creators of the structure's project to assign, all or nothing."""

    creator_ids: CreatorIds
    starts_on: Annotated[Day | None, Field(description="Default today.")] = None
    ends_on: Annotated[Day | None, Field(description="Inclusive; default open-ended.")] = None


class UnassignIn(Body):
    """Stop one creator earning after `ends_on`."""

    creator_id: Annotated[str, Field(min_length=1, max_length=64)]
    ends_on: Annotated[Day | None, Field(description="Last day that earns; default today.")] = None


@router.get("/payout-structures", response_model=PageEnvelope[StructureSummary])
async def list_structures(state: StateDep, caller: CallerDep, q: Annotated[StructureQuery, Query()]) -> Response:
    """Payout structures, oldest first."""
    async with state.db.read() as session:
        page = await structures.list_structures(
            session,
            caller,
            now=state.clock.now(),
            project_id=q.project_id,
            include_archived=q.include_archived,
            limit=q.limit,
            cursor=q.cursor,
        )
    return page_response(page)


@router.get("/payout-structures/{structure_id}", response_model=Envelope[StructureOut])
async def get_structure(state: StateDep, caller: CallerDep, structure_id: Id) -> Response:
    """A structure: current rule, every version, archive state, notes, up to 100 current assignments."""
    async with state.db.read() as session:
        return success(await structures.get_structure(session, caller, structure_id, now=state.clock.now()))


@router.get("/payout-structures/{structure_id}/versions", response_model=Envelope[list[VersionOut]])
async def list_versions(state: StateDep, caller: CallerDep, structure_id: Id) -> Response:
    """Every version of the structure's rule, oldest first."""
    async with state.db.read() as session:
        return success((await structures.get_structure(session, caller, structure_id, now=state.clock.now())).versions)


@router.post("/payout-structures", status_code=201, response_model=Envelope[StructureOut])
async def create_structure(
    request: Request, state: StateDep, caller: CallerDep, body: StructureIn, _key: IdempotencyKey = None
) -> Response:
    """Create an earning rule in a project (201), then assign creators."""
    slot = await begin(request, state, caller)
    if slot.replay is not None:
        return slot.replay
    async with slot.guard(), state.db.write() as session:
        result = await structures.create_structure(
            session,
            caller,
            project_id=body.project_id,
            name=body.name,
            period=body.period,
            amount_cents=body.amount_cents,
            criteria_type=body.criteria_type,
            criteria_params=body.criteria_params,
            proration_mode=body.proration_mode,
            now=state.clock.now(),
        )
        return await slot.respond(session, result)


@router.patch("/payout-structures/{structure_id}", response_model=Envelope[StructureUpdate])
async def update_structure(state: StateDep, caller: CallerDep, structure_id: Id, body: StructurePatch) -> Response:
    """Rename or change the rule (a new version)."""
    sent = at_least_one(body, "payout structure")
    rule = {"criteria_params": sent["criteria_params"]} if "criteria_params" in sent else {}
    async with state.db.write() as session:
        result = await structures.update_structure(
            session,
            caller,
            structure_id,
            now=state.clock.now(),
            name=body.name,
            amount_cents=body.amount_cents,
            criteria_type=body.criteria_type,
            proration_mode=body.proration_mode,
            **rule,
        )
    return success(result)


@router.delete("/payout-structures/{structure_id}", response_model=Envelope[StructureOut])
async def archive_structure(state: StateDep, caller: CallerDep, structure_id: Id) -> Response:
    """Archive the structure: periods ending from now on earn nothing."""
    async with state.db.write() as session:
        return success(await structures.archive_structure(session, caller, structure_id, now=state.clock.now()))


@router.get("/payout-structures/{structure_id}/assignments", response_model=Envelope[list[AssignmentOut]])
async def list_assignments(state: StateDep, caller: CallerDep, structure_id: Id) -> Response:
    """The structure's assignments not yet ended (up to 100)."""
    async with state.db.read() as session:
        result = await structures.get_structure(session, caller, structure_id, now=state.clock.now())
    return success(result.assignments)


@router.post("/payout-structures/{structure_id}/assignments", response_model=Envelope[AssignResult])
async def assign(state: StateDep, caller: CallerDep, structure_id: Id, body: AssignIn) -> Response:
    """Assign 1-50 creators (409 assignment_overlap, period_already_evaluated); the same dates again is a no-op."""
    async with state.db.write() as session:
        result = await assignments.assign_creators(
            session,
            caller,
            structure_id,
            list(body.creator_ids),
            now=state.clock.now(),
            starts_on=body.starts_on,
            ends_on=body.ends_on,
        )
    return success(result)


@router.delete("/payout-structures/{structure_id}/assignments", response_model=Envelope[UnassignResult])
async def unassign(state: StateDep, caller: CallerDep, structure_id: Id, body: UnassignIn) -> Response:
    """End one creator's assignment after `ends_on` (later ones are removed)."""
    async with state.db.write() as session:
        result = await assignments.unassign_creator(
            session, caller, structure_id, body.creator_id, now=state.clock.now(), ends_on=body.ends_on
        )
    return success(result)
