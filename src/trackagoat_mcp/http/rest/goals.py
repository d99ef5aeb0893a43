"""`/goals` and `/projects/{id}/goal-compliance`: the same domain calls and records as the `goals` tools.

`DELETE /goals/{id}` deactivates a goal (the record stays, because past goal payouts name it); `PATCH` with
`{"is_active": true}` restores it. Compliance pages by creator (`?limit=`, default 10 as in the tool).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema
from starlette.requests import Request
from starlette.responses import Response

from trackagoat_mcp.domain import compliance, goals
from trackagoat_mcp.domain.compliance import GoalCompliance
from trackagoat_mcp.domain.goals import GoalOut
from trackagoat_mcp.http.rest.common import Body, Day, Id, ListQuery, Patch, at_least_one
from trackagoat_mcp.http.rest.common import Query as StrictQuery
from trackagoat_mcp.http.rest.deps import CallerDep, StateDep
from trackagoat_mcp.http.rest.envelope import Envelope, PageEnvelope, page_response, success
from trackagoat_mcp.http.rest.idempotency import IdempotencyKey, begin

router = APIRouter(tags=["goals"])

Period = Literal["daily", "weekly", "monthly"]
Target = Annotated[float, Field(gt=0, le=1e12, description="Per period; engagement in percent (at most 100).")]


class GoalQuery(ListQuery):
    """Filters of the goal list (`is_active` default true; false lists deleted goals)."""

    project_id: Annotated[str | None, Field(max_length=64)] = None
    creator_id: Annotated[str | None, Field(max_length=64)] = None
    is_active: bool = True


class GoalIn(Body):
    """A target per period for one creator."""

    creator_id: Annotated[str, Field(min_length=1, max_length=64)]
    metric: Literal["posts", "views", "engagement", "followers"]
    period: Period
    target_value: Target
    start_date: Day | None = None
    end_date: Day | None = None


class GoalPatch(Patch):
    """Fields to change (at least one); `end_date: null` makes the goal open-ended."""

    not_null = ("target_value", "start_date", "is_active")

    target_value: Target | SkipJsonSchema[None] = None
    start_date: Day | SkipJsonSchema[None] = None
    end_date: Day | None = None
    is_active: Annotated[bool, Field(description="true restores a deleted goal.")] | SkipJsonSchema[None] = None


class ComplianceQuery(StrictQuery):
    """Which creators and periods to judge."""

    creator_id: Annotated[str | None, Field(max_length=64)] = None
    period: Period | None = None
    reference_date: Day | None = None
    limit: Annotated[int, Field(ge=1, le=100, description="Creators per page (default 10).")] = 10
    cursor: Annotated[str | None, Field(max_length=2000)] = None


@router.get("/goals", response_model=PageEnvelope[GoalOut])
async def list_goals(state: StateDep, caller: CallerDep, q: Annotated[GoalQuery, Query()]) -> Response:
    """Creator goals, oldest first."""
    async with state.db.read() as session:
        page = await goals.list_goals(
            session,
            caller,
            project_id=q.project_id,
            creator_id=q.creator_id,
            is_active=q.is_active,
            limit=q.limit,
            cursor=q.cursor,
        )
    return page_response(page)


@router.get("/goals/{goal_id}", response_model=Envelope[GoalOut])
async def get_goal(state: StateDep, caller: CallerDep, goal_id: Id) -> Response:
    """One goal."""
    async with state.db.read() as session:
        return success(GoalOut.of(await goals.get_goal_row(session, caller, goal_id)))


@router.post("/goals", status_code=201, response_model=Envelope[GoalOut])
async def create_goal(
    request: Request, state: StateDep, caller: CallerDep, body: GoalIn, _key: IdempotencyKey = None
) -> Response:
    """Give an active creator a target per period (409 duplicate_goal when one overlaps)."""
    slot = await begin(request, state, caller)
    if slot.replay is not None:
        return slot.replay
    async with slot.guard(), state.db.write() as session:
        result = await goals.create_goal(
            session,
            caller,
            creator_id=body.creator_id,
            metric=body.metric,
            period=body.period,
            target_value=body.target_value,
            start_date=body.start_date,
            end_date=body.end_date,
            now=state.clock.now(),
        )
        return await slot.respond(session, result)


@router.patch("/goals/{goal_id}", response_model=Envelope[GoalOut])
async def update_goal(state: StateDep, caller: CallerDep, goal_id: Id, body: GoalPatch) -> Response:
    """Change a goal's target or dates, or restore it; metric and period cannot change."""
    sent = at_least_one(body, "goal")
    changes = {"end_date": sent["end_date"]} if "end_date" in sent else {}
    async with state.db.write() as session:
        result = await goals.update_goal(
            session,
            caller,
            goal_id,
            now=state.clock.now(),
            target_value=body.target_value,
            start_date=body.start_date,
            is_active=body.is_active,
            **changes,
        )
    return success(result)


@router.delete("/goals/{goal_id}", response_model=Envelope[GoalOut])
async def delete_goal(state: StateDep, caller: CallerDep, goal_id: Id) -> Response:
    """Deactivate a goal."""
    async with state.db.write() as session:
        return success(await goals.delete_goal(session, caller, goal_id, now=state.clock.now()))


@router.get("/projects/{project_id}/goal-compliance", response_model=Envelope[GoalCompliance])
async def goal_compliance(
    state: StateDep, caller: CallerDep, project_id: Id, q: Annotated[ComplianceQuery, Query()]
) -> Response:
    """How each creator with active goals is doing (on_track, behind_pace, at_risk, completed, missed)."""
    async with state.db.read() as session:
        result = await compliance.goal_compliance(
            session,
            caller,
            project_id,
            now=state.clock.now(),
            creator_id=q.creator_id,
            period=q.period,
            reference_date=q.reference_date,
            limit=q.limit,
            cursor=q.cursor,
        )
    return success(result)
