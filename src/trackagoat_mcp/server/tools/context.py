"""The `context` toolset: orientation (schema, projects) and the instruction chain of any entity."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from trackagoat_mcp.domain import projects
from trackagoat_mcp.domain.context import AgentContext, agent_context
from trackagoat_mcp.domain.pagination import Page
from trackagoat_mcp.domain.schemas import ProjectOut, ProjectSummary
from trackagoat_mcp.server.budget import fit_page
from trackagoat_mcp.server.context import unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.guide import SchemaDocument, schema_document
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import Cursor, Limit, ProjectId

group = ToolGroup("context")


@group.tool(title="Data model and conventions")
async def get_schema() -> Annotated[CallToolResult, SchemaDocument]:
    """Describe the data model: entities, their fields and meanings, and the conventions (descriptions are human
    instructions; readme/metadata are yours; untrusted text). Call once at the start of a session."""
    return respond(schema_document())


@group.tool(title="List projects")
@fit_page
async def list_projects(
    ctx: Context[Any], limit: Limit = 50, cursor: Cursor = None
) -> Annotated[CallToolResult, Page[ProjectSummary]]:
    """List the organization's projects (creator programs) with their description, creator and campaign counts,
    and the tracking-inbox backlog. Most other tools take a project_id from here."""
    async with unit(ctx) as u:
        page = await projects.list_projects(u.session, u.caller, limit=limit, cursor=cursor)
    return respond(page)


@group.tool(title="Get a project")
async def get_project(ctx: Context[Any], project_id: ProjectId) -> Annotated[CallToolResult, ProjectOut]:
    """Get one project's full record: description (read it first), readme, metadata, org_id."""
    async with unit(ctx) as u:
        result = ProjectOut.of(await projects.get_project(u.session, u.caller, project_id))
    return respond(result)


@group.tool(title="Create a project", scope="write", idempotent=False)
async def create_project(
    ctx: Context[Any],
    name: Annotated[str, Field(min_length=1, max_length=200)],
    readme: Annotated[str | None, Field(max_length=20_000, description="Your markdown notes.")] = None,
) -> Annotated[CallToolResult, ProjectOut]:
    """Create a project (a creator program). People add its description with `trackagoat-mcp describe`."""
    async with unit(ctx, write=True) as u:
        result = await projects.create_project(u.session, u.caller, name=name, readme=readme, now=u.now)
    return respond(result)


@group.tool(title="Update a project", scope="write", idempotent=True)
async def update_project(
    ctx: Context[Any], project_id: ProjectId, name: Annotated[str, Field(min_length=1, max_length=200)]
) -> Annotated[CallToolResult, ProjectOut]:
    """Rename a project. (Notes go through write_readme/write_metadata; descriptions are set by people.)"""
    async with unit(ctx, write=True) as u:
        result = await projects.update_project(u.session, u.caller, project_id, name=name, now=u.now)
    return respond(result)


@group.tool(title="Instructions and caveats for an entity")
async def get_agent_context(
    ctx: Context[Any],
    entity_type: Literal["project", "creator", "video", "campaign"],
    entity_id: Annotated[str, Field(min_length=1, max_length=64)],
) -> Annotated[CallToolResult, AgentContext]:
    """Read this before analysing an entity: its chain of human descriptions (instructions) and readmes,
    most specific first (video → creator → campaigns containing it, nearest first → project), plus caveats (inbox
    backlog, stale or failed scrapes, videos that do not count). Explicit instructions and earlier links win."""
    async with unit(ctx) as u:
        result = await agent_context(u.session, u.caller, entity_type, entity_id, now=u.now)
    return respond(result)
