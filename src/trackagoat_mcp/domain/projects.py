"""Projects: a creator program inside an organization."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.db.models import Campaign, Creator, Project, Video
from trackagoat_mcp.domain.notes import check_readme
from trackagoat_mcp.domain.pagination import (
    Page,
    cursor_time,
    cursor_uuid,
    fetch_page,
)
from trackagoat_mcp.domain.schemas import ProjectOut, ProjectSummary
from trackagoat_mcp.domain.scope import Caller, get_in_org, require_text

__all__ = ["create_project", "get_project", "list_projects", "update_project"]

NAME_MAX = 200


async def list_projects(
    session: AsyncSession, caller: Caller, *, limit: int = 50, cursor: str | None = None
) -> Page[ProjectSummary]:
    """Projects of the caller's organization, oldest first, with creator/campaign/inbox counts."""
    query = select(Project).where(col(Project.org_id) == caller.org_id)
    page, next_cursor = await fetch_page(
        session,
        query,
        kind="projects",
        order="created",
        columns=[col(Project.created_at), col(Project.id)],
        parsers=[cursor_time, cursor_uuid],
        key=lambda p: [p.created_at, p.id],
        cursor=cursor,
        limit=limit,
    )
    ids = [p.id for p in page]
    creators = await _count_by(session, col(Creator.project_id), ids, col(Creator.is_active) == True)  # noqa: E712
    campaigns = await _count_by(session, col(Campaign.project_id), ids)
    pending = await _count_by(session, col(Video.project_id), ids, col(Video.tracking_status) == "pending_review")
    items = [
        ProjectSummary(
            id=p.id,
            name=p.name,
            description=p.description,
            creator_count=creators.get(p.id, 0),
            campaign_count=campaigns.get(p.id, 0),
            pending_review_count=pending.get(p.id, 0),
        )
        for p in page
    ]
    return Page[ProjectSummary](items=items, next_cursor=next_cursor)


async def _count_by(session: AsyncSession, column: Any, ids: list[Any], *where: Any) -> dict[Any, int]:
    if not ids:
        return {}
    rows = await session.execute(select(column, func.count()).where(column.in_(ids), *where).group_by(column))
    return dict(rows.all())


async def get_project(session: AsyncSession, caller: Caller, project_id: Any) -> Project:
    """A project of the caller's organization (NotFound otherwise)."""
    return await get_in_org(session, caller, Project, project_id, "project")


async def create_project(
    session: AsyncSession,
    caller: Caller,
    *,
    name: str,
    now: datetime,
    description: str | None = None,
    readme: str | None = None,
) -> ProjectOut:
    """Create a project. `description` (human instructions) needs the admin scope."""
    caller.require("write")
    if description is not None:
        caller.require("admin")
    project = Project(
        org_id=caller.org_id,
        name=require_text(name, "Project name", max_length=NAME_MAX),
        description=description,
        readme=readme,
        created_at=now,
        updated_at=now,
    )
    if readme is not None:
        project.readme = check_readme(readme)
    session.add(project)
    await session.flush()
    return ProjectOut.of(project)


async def update_project(
    session: AsyncSession, caller: Caller, project_id: Any, *, now: datetime, name: str | None = None
) -> ProjectOut:
    """Rename a project (readme/metadata go through the notes tools, description through the CLI)."""
    caller.require("write")
    project = await get_project(session, caller, project_id)
    if name is not None:
        project.name = require_text(name, "Project name", max_length=NAME_MAX)
    project.updated_at = now
    session.add(project)
    await session.flush()
    return ProjectOut.of(project)
