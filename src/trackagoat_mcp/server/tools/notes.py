"""The `notes` toolset: the agent's readme and metadata on any entity."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel, Field, WithJsonSchema

from trackagoat_mcp.domain import notes
from trackagoat_mcp.server.context import unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup

group = ToolGroup("notes")

EntityType = Annotated[
    str, Field(max_length=32, description="project, creator, video or campaign (payout entities when enabled).")
]
EntityId = Annotated[str, Field(min_length=1, max_length=64)]


class NoteResult(BaseModel):
    """The entity's notes after the write."""

    entity_type: str
    entity_id: uuid.UUID
    readme: str | None
    metadata: dict[str, Any]
    updated_at: datetime


def _result(entity_type: str, entity: Any) -> NoteResult:
    return NoteResult(
        entity_type=entity_type,
        entity_id=entity.id,
        readme=entity.readme,
        metadata=entity.meta,
        updated_at=entity.updated_at,
    )


@group.tool(title="Write a readme", scope="write", idempotent=True)
async def write_readme(
    ctx: Context[Any],
    entity_type: EntityType,
    entity_id: EntityId,
    readme: Annotated[str | None, Field(description="Markdown, up to 20,000 characters; null clears it.")],
) -> Annotated[CallToolResult, NoteResult]:
    """Replace your markdown notes (readme) on a project, creator, video or campaign. Humans' instructions live in
    description, which this never changes."""
    async with unit(ctx, write=True) as u:
        entity = await notes.write_readme(u.session, u.caller, entity_type, entity_id, readme, now=u.now)
    return respond(_result(entity_type, entity))


@group.tool(title="Write metadata", scope="write", idempotent=True)
async def write_metadata(
    ctx: Context[Any],
    entity_type: EntityType,
    entity_id: EntityId,
    # Published as an object (every argument declares a type); taken as any JSON value, so that a non-object gets
    # the domain's own message rather than a validation error.
    patch: Annotated[Any, WithJsonSchema({"type": "object", "additionalProperties": True})],
    mode: Annotated[
        Literal["merge", "replace"],
        Field(description="merge (RFC 7396: null deletes a key, objects merge) or replace the whole object."),
    ] = "merge",
) -> Annotated[CallToolResult, NoteResult]:
    """Merge-patch or replace your JSON metadata on an entity (object only; at most 16 KiB and 8 levels deep)."""
    async with unit(ctx, write=True) as u:
        entity = await notes.write_metadata(u.session, u.caller, entity_type, entity_id, patch, mode=mode, now=u.now)
    return respond(_result(entity_type, entity))
