"""Resources: the schema, the agent guide, entities by id, and the instruction chain of an entity.

Entity resources return the same JSON as the matching `get_*` tool; creators and videos carry
third-party text, so their JSON is fenced as untrusted data (and served as text/plain).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from pydantic import BaseModel

from trackagoat_mcp.domain import campaigns, creators, videos
from trackagoat_mcp.domain.context import agent_context
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.schemas import CreatorOut, ProjectOut, VideoOut
from trackagoat_mcp.errors import NotFound, TrackagoatError
from trackagoat_mcp.server.context import Unit, unit
from trackagoat_mcp.server.fencing import compact_json, fence
from trackagoat_mcp.server.guide import GUIDE, schema_document

__all__ = ["register_resources"]


async def _read(ctx: Context[Any], load: Callable[[Unit], Awaitable[BaseModel]], *, untrusted: bool = False) -> str:
    try:
        async with unit(ctx) as u:
            model = await load(u)
    except NotFound as exc:
        raise ResourceNotFoundError(f"[{exc.code}] {exc.message}") from exc
    except TrackagoatError as exc:
        raise ResourceError(f"[{exc.code}] {exc.message}") from exc
    text = compact_json(model.model_dump(mode="json"))
    return fence(text) if untrusted else text


def register_resources(server: MCPServer[Any]) -> None:
    """Add every resource and resource template to `server`."""

    @server.resource(
        "trackagoat://schema",
        name="schema",
        mime_type="application/json",
        description="Entities, fields and conventions of the data model (same as get_schema).",
    )
    def schema() -> str:
        return compact_json(schema_document().model_dump(mode="json"))

    @server.resource(
        "trackagoat://guide",
        name="guide",
        mime_type="text/markdown",
        description="How to work with trackagoat-mcp: read descriptions first, notes, untrusted text.",
    )
    def guide() -> str:
        return GUIDE

    @server.resource(
        "trackagoat://projects/{project_id}",
        name="project",
        mime_type="application/json",
        description="A project record.",
    )
    async def project(project_id: str, ctx: Context[Any]) -> str:
        async def load(u: Unit) -> BaseModel:
            return ProjectOut.of(await get_project(u.session, u.caller, project_id))

        return await _read(ctx, load)

    @server.resource(
        "trackagoat://creators/{creator_id}",
        name="creator",
        mime_type="text/plain",
        description="A creator record (fenced: contains TikTok users' text).",
    )
    async def creator(creator_id: str, ctx: Context[Any]) -> str:
        async def load(u: Unit) -> BaseModel:
            return CreatorOut.of(await creators.get_creator(u.session, u.caller, creator_id))

        return await _read(ctx, load, untrusted=True)

    @server.resource(
        "trackagoat://videos/{video_id}",
        name="video",
        mime_type="text/plain",
        description="A video record (fenced: contains TikTok users' text).",
    )
    async def video(video_id: str, ctx: Context[Any]) -> str:
        async def load(u: Unit) -> BaseModel:
            return VideoOut.of(await videos.get_video(u.session, u.caller, video_id))

        return await _read(ctx, load, untrusted=True)

    @server.resource(
        "trackagoat://campaigns/{campaign_id}",
        name="campaign",
        mime_type="application/json",
        description="A campaign record with its first 100 direct items.",
    )
    async def campaign(campaign_id: str, ctx: Context[Any]) -> str:
        async def load(u: Unit) -> BaseModel:
            return await campaigns.get_campaign(u.session, u.caller, campaign_id)

        return await _read(ctx, load)

    @server.resource(
        "trackagoat://context/{entity_type}/{entity_id}",
        name="context",
        mime_type="application/json",
        description="Description chain, readmes and caveats of an entity (same as get_agent_context).",
    )
    async def context(entity_type: str, entity_id: str, ctx: Context[Any]) -> str:
        async def load(u: Unit) -> BaseModel:
            return await agent_context(u.session, u.caller, entity_type, entity_id, now=u.now)

        return await _read(ctx, load)
