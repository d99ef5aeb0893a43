"""`/analytics/aggregate/{video,creator,campaign}-leaderboard`: a project's rankings, over `get_leaderboard`.

The answer is the same `Leaderboard` record the MCP tool returns (field names are the data model's, not the
recovered fragments of trackagoat's aggregate page). `order` ranks by one figure (default `views`), `ascending=true`
lists who is behind first, `from`/`to` are local days (default the last 30), `limit` 1-100 (default 10). The other
aggregate routes (posting-heatmap, view-distribution, outliers, posting-consistency, creator-scatter,
goal-compliance counts, member-overlap) need domain functions that do not exist yet.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field
from starlette.responses import Response

from trackagoat_mcp.domain.leaderboard import Leaderboard, LeaderboardKind, LeaderboardOrder, get_leaderboard
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
