"""Routes trackagoat retired: they answer 410 Gone with the route to use instead, for any method."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from trackagoat_mcp.http.rest.common import Id
from trackagoat_mcp.http.rest.envelope import ErrorEnvelope, failure

router = APIRouter(tags=["retired"])

_GONE: dict[int | str, dict[str, Any]] = {410: {"model": ErrorEnvelope, "description": "gone: use /api/v1/analytics"}}


def _gone(request: Request, entity: str) -> Response:
    return failure(
        410,
        "gone",
        f"{request.url.path!r} was retired; ask GET /api/v1/analytics?entity={entity}&entity_id=… for its time "
        "series instead.",
    )


@router.get("/creators/{creator_id}/stats", responses=_GONE, status_code=410, response_model=ErrorEnvelope)
async def creator_stats(request: Request, creator_id: Id) -> Response:
    """Retired: 410 Gone (use /analytics)."""
    del creator_id
    return _gone(request, "creator")


@router.get("/campaigns/{campaign_id}/stats", responses=_GONE, status_code=410, response_model=ErrorEnvelope)
async def campaign_stats(request: Request, campaign_id: Id) -> Response:
    """Retired: 410 Gone (use /analytics)."""
    del campaign_id
    return _gone(request, "campaign")
