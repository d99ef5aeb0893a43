"""Suggestions for prompt and resource arguments (MCP completions): ids by name or handle, handles, enums.

An id argument is completed from what a person types — a project's or campaign's name, a creator's
handle — and the values returned are the ids to fill in, ordered by that name. Everything is scoped to
the caller's organization like any other read.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from trackagoat_mcp.db.models import Campaign, Creator, PayoutMethod, PayoutStructure, Project, Video
from trackagoat_mcp.domain.context import CONTEXT_ENTITY_TYPES
from trackagoat_mcp.domain.goal_metrics import GOAL_METRICS
from trackagoat_mcp.domain.periods import PERIOD_KINDS
from trackagoat_mcp.domain.scope import Caller

__all__ = ["MAX_SUGGESTIONS", "STATIC_CHOICES", "suggest"]

MAX_SUGGESTIONS = 20

TREND_METRICS = (
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "followers",
    "posts",
    "engagement_rate_by_views",
    "engagement_rate_by_followers",
    "posts_per_week",
    "avg_views_per_post",
    "growth_rate_pop",
)
STATIC_CHOICES: dict[str, tuple[str, ...]] = {
    "entity_type": CONTEXT_ENTITY_TYPES,
    "period": PERIOD_KINDS,
    "metric": TREND_METRICS + tuple(m for m in GOAL_METRICS if m not in TREND_METRICS),
}


def _prefix(value: str) -> str:
    """A LIKE pattern matching names that start with `value` (wildcards in it are taken literally)."""
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def _names(session: AsyncSession, caller: Caller, model: Any, name_column: Any, value: str, *where: Any) -> Any:
    label = func.lower(name_column)
    rows = await session.execute(
        select(model.id, name_column)
        .where(model.org_id == caller.org_id, label.like(_prefix(value.lstrip("@")), escape="\\"), *where)
        .order_by(label, model.id)
        .limit(MAX_SUGGESTIONS)
    )
    return rows.all()


async def suggest(
    session: AsyncSession, caller: Caller, argument: str, value: str, context: Mapping[str, str] | None = None
) -> list[str]:
    """Values for `argument` that start with (or, for ids, whose entity's name starts with) `value`.

    `context` holds arguments already chosen: a `project_id` narrows creators and campaigns to that
    project, and an `entity_type` says what an `entity_id`/`id` refers to.
    """
    context = context or {}
    if argument in STATIC_CHOICES:
        return [choice for choice in STATIC_CHOICES[argument] if choice.startswith(value.lower())]
    if argument == "method":
        return [name for _id, name in await _names(session, caller, PayoutMethod, col(PayoutMethod.name), value)]

    if argument == "handle":
        rows = await _names(session, caller, Creator, col(Creator.tiktok_handle), value, col(Creator.is_active))
        return [handle for _id, handle in rows]

    kind = {
        "project_id": "project",
        "creator_id": "creator",
        "campaign_id": "campaign",
        "video_id": "video",
        "structure_id": "payout_structure",
    }.get(argument) or context.get("entity_type")
    lookups: dict[str, tuple[Any, Any, list[Any]]] = {
        "project": (Project, col(Project.name), []),
        "creator": (Creator, col(Creator.tiktok_handle), [col(Creator.is_active)]),
        "campaign": (Campaign, col(Campaign.name), []),
        "video": (Video, col(Video.tiktok_video_id), [col(Video.tracking_status) != "excluded"]),
        "payout_structure": (PayoutStructure, col(PayoutStructure.name), []),
    }
    if kind not in lookups:
        return []
    model, name_column, where = lookups[kind]
    project_id = _uuid_or_none(context.get("project_id"))
    if kind != "project" and project_id is not None:
        where = [*where, model.project_id == project_id]
    return [str(entity_id) for entity_id, _name in await _names(session, caller, model, name_column, value, *where)]
