"""The `goals` toolset: creator goals and compliance."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from trackagoat_mcp.domain import compliance, goals
from trackagoat_mcp.domain.compliance import GoalCompliance
from trackagoat_mcp.domain.goals import GoalOut
from trackagoat_mcp.domain.pagination import Page
from trackagoat_mcp.server.budget import fit_page, fit_page_of
from trackagoat_mcp.server.context import unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import CreatorId, Cursor, Limit, ProjectId, id_arg

group = ToolGroup("goals")

GoalId = Annotated[str, id_arg("goal")]
Target = Annotated[
    float,
    Field(
        gt=0,
        le=1e12,
        description="Per period: posts, views or followers (whole numbers), or engagement in percent (at most 100).",
    ),
]
Period = Literal["daily", "weekly", "monthly"]


@group.tool(title="List goals")
@fit_page
async def list_goals(
    ctx: Context[Any],
    project_id: Annotated[str | None, Field(max_length=64, description="Only this project's goals.")] = None,
    creator_id: Annotated[str | None, Field(max_length=64, description="Only this creator's goals.")] = None,
    is_active: Annotated[
        bool | None, Field(description="Default true (active goals); false = deleted ones; null = all.")
    ] = True,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, Page[GoalOut]]:
    """List creator goals (oldest first): metric, period, target_value, start/end dates. Use get_goal_compliance to
    see how creators are doing against them."""
    async with unit(ctx) as u:
        page = await goals.list_goals(
            u.session,
            u.caller,
            project_id=project_id,
            creator_id=creator_id,
            is_active=is_active,
            limit=limit,
            cursor=cursor,
        )
    return respond(page)


@group.tool(title="Create a goal", scope="write", idempotent=False)
async def create_goal(
    ctx: Context[Any],
    creator_id: CreatorId,
    metric: Annotated[
        Literal["posts", "views", "engagement", "followers"],
        Field(
            description="posts = counted videos posted in the period; views = their views; engagement = their "
            "(likes+comments+shares+saves)/views in percent; followers = follower count at period end."
        ),
    ],
    period: Annotated[Period, Field(description="Calendar period in the organization's timezone; weeks start Monday.")],
    target_value: Target,
    start_date: Annotated[date | None, Field(description="Default: today.")] = None,
    end_date: Annotated[date | None, Field(description="Last day, inclusive. Default: open-ended.")] = None,
) -> Annotated[CallToolResult, GoalOut]:
    """Give an active creator a target per period, e.g. 15 posts weekly or 10000 views monthly. Only counted
    videos count. A second active goal with the same creator, metric and period and overlapping dates is refused
    (duplicate_goal): update that one instead."""
    async with unit(ctx, write=True) as u:
        result = await goals.create_goal(
            u.session,
            u.caller,
            creator_id=creator_id,
            metric=metric,
            period=period,
            target_value=target_value,
            start_date=start_date,
            end_date=end_date,
            now=u.now,
        )
    return respond(result)


@group.tool(title="Update a goal", scope="write", idempotent=True)
async def update_goal(
    ctx: Context[Any],
    goal_id: GoalId,
    target_value: Annotated[float | None, Field(gt=0, le=1e12, description="New target per period.")] = None,
    start_date: Annotated[date | None, Field(description="New first day.")] = None,
    end_date: Annotated[date | None, Field(description="New last day, inclusive.")] = None,
    clear_end_date: Annotated[bool, Field(description="true makes the goal open-ended.")] = False,
    is_active: Annotated[bool | None, Field(description="true restores a deleted goal.")] = None,
) -> Annotated[CallToolResult, GoalOut]:
    """Change a goal's target or dates, or restore a deleted one. Only the fields given change. Metric and period
    cannot change: create a new goal and delete this one instead."""
    changes: dict[str, Any] = {}
    if clear_end_date:
        changes["end_date"] = None
    if end_date is not None:
        changes["end_date"] = end_date
    async with unit(ctx, write=True) as u:
        result = await goals.update_goal(
            u.session,
            u.caller,
            goal_id,
            now=u.now,
            target_value=target_value,
            start_date=start_date,
            is_active=is_active,
            **changes,
        )
    return respond(result)


@group.tool(title="Delete a goal", scope="write", destructive=True, idempotent=True)
async def delete_goal(ctx: Context[Any], goal_id: GoalId) -> Annotated[CallToolResult, GoalOut]:
    """Delete (deactivate) a goal: compliance and goal-based payouts ignore it from now on. The record stays, because
    past goal payouts name it; update_goal(is_active=true) restores it."""
    async with unit(ctx, write=True) as u:
        result = await goals.delete_goal(u.session, u.caller, goal_id, now=u.now)
    return respond(result)


@group.tool(title="Goal compliance")
@fit_page_of("creators")
async def get_goal_compliance(
    ctx: Context[Any],
    project_id: ProjectId,
    creator_id: Annotated[str | None, Field(max_length=64, description="Only this creator.")] = None,
    period: Annotated[Period | None, Field(description="Only goals of this period type.")] = None,
    reference_date: Annotated[
        date | None, Field(description="Judge the periods containing this day. Default: today.")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Creators per page, 1-100 (default 10).")] = 10,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, GoalCompliance]:
    """Each creator's active goals: target, actual, projection, percentage, status (on_track, behind_pace
    ≥ 70 %, at_risk; ended: completed, missed), now or at a past reference_date. Advisories flag unsettled periods
    (< 48 h), a just-begun period (see `previous`), stale scrapes, goals not started. Paged by creator."""
    async with unit(ctx) as u:
        result = await compliance.goal_compliance(
            u.session,
            u.caller,
            project_id,
            now=u.now,
            creator_id=creator_id,
            period=period,
            reference_date=reference_date,
            limit=limit,
            cursor=cursor,
        )
    return respond(result)
