"""`GET /sentiment-radar` and `GET /comments`: the Sentiment Radar and the comment stream of the MCP tools.

The same domain calls and records as `get_sentiment_radar` and `list_comments`: exactly one scope id (project,
campaign tree or creator; the stream also takes a video), local days `from`..`to`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field
from starlette.responses import Response

from trackagoat_mcp.domain import comment_stream, radar
from trackagoat_mcp.domain.comment_stream import CommentFilter, CommentItem
from trackagoat_mcp.domain.radar import Granularity, SentimentRadar
from trackagoat_mcp.http.rest.common import Day, ListQuery
from trackagoat_mcp.http.rest.common import Query as StrictQuery
from trackagoat_mcp.http.rest.deps import CallerDep, StateDep
from trackagoat_mcp.http.rest.envelope import Envelope, PageEnvelope, page_response, success

router = APIRouter(tags=["sentiment"])

OptionalId = Annotated[str | None, Field(max_length=64)]
From = Annotated[Day | None, Field(alias="from", description="First local day (YYYY-MM-DD).")]
To = Annotated[Day | None, Field(description="Last local day, inclusive.")]


class RadarQuery(StrictQuery):
    """Exactly one scope; the range defaults to the last 30 local days."""

    project_id: OptionalId = None
    campaign_id: Annotated[str | None, Field(max_length=64, description="Its whole tree.")] = None
    creator_id: OptionalId = None
    from_: From = None
    to: To = None
    granularity: Granularity = "day"


class CommentQuery(ListQuery):
    """Exactly one scope; optional sentiment, text and range filters (all must match)."""

    project_id: OptionalId = None
    campaign_id: Annotated[str | None, Field(max_length=64, description="Its whole tree.")] = None
    creator_id: OptionalId = None
    video_id: OptionalId = None
    sentiment: CommentFilter | None = None
    contains: Annotated[str | None, Field(max_length=100, description="Part of the text, any case.")] = None
    from_: From = None
    to: To = None


@router.get("/sentiment-radar", response_model=Envelope[SentimentRadar])
async def get_sentiment_radar(state: StateDep, caller: CallerDep, q: Annotated[RadarQuery, Query()]) -> Response:
    """Comment sentiment of a project, campaign tree or creator, with the negative-vibes alert."""
    async with state.db.read() as session:
        result = await radar.get_sentiment_radar(
            session,
            caller,
            project_id=q.project_id,
            campaign_id=q.campaign_id,
            creator_id=q.creator_id,
            range_from=q.from_,
            range_to=q.to,
            granularity=q.granularity,
            now=state.clock.now(),
        )
    return success(result)


@router.get("/comments", response_model=PageEnvelope[CommentItem])
async def list_comments(state: StateDep, caller: CallerDep, q: Annotated[CommentQuery, Query()]) -> Response:
    """Stored comments of one scope, newest first, with their sentiment (text is TikTok users' text)."""
    async with state.db.read() as session:
        page = await comment_stream.list_comments(
            session,
            caller,
            project_id=q.project_id,
            campaign_id=q.campaign_id,
            creator_id=q.creator_id,
            video_id=q.video_id,
            sentiment=q.sentiment,
            contains=q.contains,
            range_from=q.from_,
            range_to=q.to,
            limit=q.limit,
            cursor=q.cursor,
        )
    return page_response(page)
