"""`/analytics/aggregate/{video,creator,campaign}-leaderboard`: a project's rankings, over `get_leaderboard`.

The leaderboards answer the same `Leaderboard` record the MCP tool returns (field names are the data model's, not
the recovered fragments of trackagoat's aggregate page). `order` ranks by one figure (default `views`),
`ascending=true` lists who is behind first, `from`/`to` are local days (default the last 30), `limit` 1-100
(default 10). `posting-heatmap`, `view-distribution`, `creator-scatter` and `goal-compliance` (counts) are
`domain/aggregates.py`, `outliers` is `domain/outliers.py`, `posting-consistency` is `domain/consistency.py` and
`member-overlap` is `domain/overlap.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from starlette.responses import Response

from trackagoat_mcp.domain import aggregates, consistency, outliers, overlap
from trackagoat_mcp.domain.aggregates import ComplianceCounts, CreatorScatter, PostingHeatmap, ViewDistribution
from trackagoat_mcp.domain.consistency import PostingConsistency
from trackagoat_mcp.domain.leaderboard import Leaderboard, LeaderboardKind, LeaderboardOrder, get_leaderboard
from trackagoat_mcp.domain.outliers import Outliers
from trackagoat_mcp.domain.overlap import MemberOverlap
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.http.rest.common import Day
from trackagoat_mcp.http.rest.common import Query as StrictQuery
from trackagoat_mcp.http.rest.deps import CallerDep, RestState, StateDep
from trackagoat_mcp.http.rest.envelope import Envelope, success

router = APIRouter(tags=["analytics"])


class LeaderboardQuery(StrictQuery):
    """Which project, range and ranking."""

    project_id: Annotated[str, Field(min_length=1, max_length=64)]
    order: LeaderboardOrder = "views"
    from_: Annotated[Day | None, Field(alias="from", description="First local day (YYYY-MM-DD).")] = None
    to: Annotated[Day | None, Field(description="Last local day, inclusive.")] = None
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    ascending: bool = False
    pools: Annotated[bool, Field(description="Creators: add each one's pool and vs_pool (creator-pools).")] = False


async def _ranked(state: RestState, caller: Caller, kind: LeaderboardKind, q: LeaderboardQuery) -> Response:
    async with state.db.read() as session:
        board = await get_leaderboard(
            session,
            caller,
            project_id=q.project_id,
            kind=kind,
            order_by=q.order,
            range_from=q.from_,
            range_to=q.to,
            limit=q.limit,
            ascending=q.ascending,
            now=state.clock.now(),
            pools=q.pools,
        )
    return success(board)


@router.get("/analytics/aggregate/video-leaderboard", response_model=Envelope[Leaderboard])
async def video_leaderboard(state: StateDep, caller: CallerDep, q: Annotated[LeaderboardQuery, Query()]) -> Response:
    """The project's counted videos ranked by one figure."""
    return await _ranked(state, caller, "videos", q)


@router.get("/analytics/aggregate/creator-leaderboard", response_model=Envelope[Leaderboard])
async def creator_leaderboard(state: StateDep, caller: CallerDep, q: Annotated[LeaderboardQuery, Query()]) -> Response:
    """The project's active creators ranked by one figure."""
    return await _ranked(state, caller, "creators", q)


@router.get("/analytics/aggregate/campaign-leaderboard", response_model=Envelope[Leaderboard])
async def campaign_leaderboard(state: StateDep, caller: CallerDep, q: Annotated[LeaderboardQuery, Query()]) -> Response:
    """The project's campaigns (each whole tree, each video once) ranked by one figure."""
    return await _ranked(state, caller, "campaigns", q)


class RangeQuery(StrictQuery):
    """Which project and local days (default the last 30)."""

    project_id: Annotated[str, Field(min_length=1, max_length=64)]
    from_: Annotated[Day | None, Field(alias="from", description="First local day (YYYY-MM-DD).")] = None
    to: Annotated[Day | None, Field(description="Last local day, inclusive.")] = None


class HeatmapQuery(RangeQuery):
    """Which project, days and timezone."""

    tz: Annotated[str | None, Field(max_length=64, description="IANA timezone; default the organization's.")] = None


@router.get("/analytics/aggregate/posting-heatmap", response_model=Envelope[PostingHeatmap])
async def posting_heatmap(state: StateDep, caller: CallerDep, q: Annotated[HeatmapQuery, Query()]) -> Response:
    """Counted videos posted in the range by local day of week (0 = Sunday) and hour; non-empty cells only."""
    async with state.db.read() as session:
        result = await aggregates.posting_heatmap(
            session, caller, project_id=q.project_id, now=state.clock.now(), range_from=q.from_, range_to=q.to, tz=q.tz
        )
    return success(result)


@router.get("/analytics/aggregate/view-distribution", response_model=Envelope[ViewDistribution])
async def view_distribution(state: StateDep, caller: CallerDep, q: Annotated[RangeQuery, Query()]) -> Response:
    """Decade histogram and percentiles of the current view counts of counted videos posted in the range."""
    async with state.db.read() as session:
        result = await aggregates.view_distribution(
            session, caller, project_id=q.project_id, now=state.clock.now(), range_from=q.from_, range_to=q.to
        )
    return success(result)


class ComplianceCountsQuery(StrictQuery):
    """Which project, period type and reference day."""

    project_id: Annotated[str, Field(min_length=1, max_length=64)]
    period: Literal["daily", "weekly", "monthly"] | None = None
    reference_date: Day | None = None


@router.get("/analytics/aggregate/goal-compliance", response_model=Envelope[ComplianceCounts])
async def goal_compliance_counts(
    state: StateDep, caller: CallerDep, q: Annotated[ComplianceCountsQuery, Query()]
) -> Response:
    """Goal compliance of the whole project as counts (per-goal detail: /projects/{id}/goal-compliance)."""
    async with state.db.read() as session:
        result = await aggregates.goal_compliance_counts(
            session,
            caller,
            project_id=q.project_id,
            now=state.clock.now(),
            period=q.period,
            reference_date=q.reference_date,
        )
    return success(result)


@router.get("/analytics/aggregate/creator-scatter", response_model=Envelope[CreatorScatter])
async def creator_scatter(state: StateDep, caller: CallerDep, q: Annotated[RangeQuery, Query()]) -> Response:
    """Every active creator as a point: counted posts in the range, their views, views per post, followers."""
    async with state.db.read() as session:
        result = await aggregates.creator_scatter(
            session, caller, project_id=q.project_id, now=state.clock.now(), range_from=q.from_, range_to=q.to
        )
    return success(result)


class OutlierQuery(RangeQuery):
    """Which project and days, and how far out (`k`, Tukey's fence factor)."""

    k: Annotated[float, Field(gt=0, le=10, description="1.5 (default) for outliers, 3 for far-out ones.")] = 1.5


@router.get("/analytics/aggregate/outliers", response_model=Envelope[Outliers])
async def outlier_videos(state: StateDep, caller: CallerDep, q: Annotated[OutlierQuery, Query()]) -> Response:
    """Counted videos posted in the range whose views lie outside Tukey's fences (breakouts and flops)."""
    async with state.db.read() as session:
        result = await outliers.outliers(
            session, caller, project_id=q.project_id, now=state.clock.now(), range_from=q.from_, range_to=q.to, k=q.k
        )
    return success(result)


@router.get("/analytics/aggregate/posting-consistency", response_model=Envelope[PostingConsistency])
async def posting_consistency(state: StateDep, caller: CallerDep, q: Annotated[RangeQuery, Query()]) -> Response:
    """Each active creator's posting rhythm: active 7-day windows, posts per window, longest gap."""
    async with state.db.read() as session:
        result = await consistency.posting_consistency(
            session, caller, project_id=q.project_id, now=state.clock.now(), range_from=q.from_, range_to=q.to
        )
    return success(result)


class ProjectQuery(StrictQuery):
    """Which project."""

    project_id: Annotated[str, Field(min_length=1, max_length=64)]


@router.get("/analytics/aggregate/member-overlap", response_model=Envelope[MemberOverlap])
async def member_overlap(state: StateDep, caller: CallerDep, q: Annotated[ProjectQuery, Query()]) -> Response:
    """Pairs of the project's campaigns (whole trees) sharing creators or counted videos."""
    async with state.db.read() as session:
        return success(await overlap.member_overlap(session, caller, project_id=q.project_id))
