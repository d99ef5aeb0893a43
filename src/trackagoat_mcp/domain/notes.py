"""The agent's notes and the human's instructions on any entity.

* `readme`: markdown the agent writes, capped at `README_MAX_CHARS`.
* `metadata`: a JSON object the agent writes, either merged (RFC 7396 JSON Merge Patch: `null`
  deletes a key, objects merge recursively, anything else replaces) or replaced whole; capped at
  `METADATA_MAX_BYTES` of compact JSON and `METADATA_MAX_DEPTH` levels of nesting.
* `description`: instructions written by a person (CLI `describe`) or an `admin`-scoped key; agents
  with ordinary keys can read it but never change it.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from trackagoat_mcp.db.models import Campaign, Creator, Project, Video
from trackagoat_mcp.domain.scope import Caller, get_in_org, not_found
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "DESCRIPTION_MAX_CHARS",
    "METADATA_MAX_BYTES",
    "METADATA_MAX_DEPTH",
    "NOTE_ENTITY_TYPES",
    "README_MAX_CHARS",
    "NoteTarget",
    "check_metadata",
    "check_readme",
    "load_entity",
    "merge_patch",
    "set_description",
    "write_metadata",
    "write_readme",
]

README_MAX_CHARS = 20_000
DESCRIPTION_MAX_CHARS = 10_000
METADATA_MAX_BYTES = 16_384
METADATA_MAX_DEPTH = 8

NoteEntityType = Literal["project", "creator", "video", "campaign"]
NOTE_ENTITY_TYPES: dict[str, type[SQLModel]] = {
    "project": Project,
    "creator": Creator,
    "video": Video,
    "campaign": Campaign,
}

NoteTarget = Project | Creator | Video | Campaign


def register_entity_type(name: str, model: type[SQLModel]) -> None:
    """Let a later module (payouts) make its entities writable by the notes functions."""
    NOTE_ENTITY_TYPES[name] = model


async def load_entity(session: AsyncSession, caller: Caller, entity_type: str, entity_id: Any) -> Any:
    """Fetch an entity of a notes-capable type from the caller's organization."""
    model = NOTE_ENTITY_TYPES.get(entity_type)
    if model is None:
        raise InvalidInput(f"entity_type {entity_type!r} is not one of {sorted(NOTE_ENTITY_TYPES)!r}.")
    entity = await get_in_org(session, caller, model, entity_id, entity_type)
    if isinstance(entity, Video) and entity.tracking_status == "excluded":
        # Excluded videos are never returned; they behave like missing ones.
        raise not_found("video", entity.id)
    return entity


def check_readme(readme: str) -> str:
    """Validate a readme's size."""
    if len(readme) > README_MAX_CHARS:
        raise InvalidInput(
            f"readme is {len(readme):,} characters; the limit is {README_MAX_CHARS:,}. Summarise it, or keep "
            "detail in metadata."
        )
    return readme


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _check_finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"metadata contains the number {value!r}; JSON allows only finite numbers.")
    if isinstance(value, dict):
        for item in value.values():
            _check_finite(item)
    elif isinstance(value, list):
        for item in value:
            _check_finite(item)


def check_metadata(value: Any) -> dict[str, Any]:
    """Validate that `value` is a JSON object within the size and depth caps."""
    if not isinstance(value, dict):
        raise InvalidInput(
            f'metadata must be a JSON object like {{"tier": "gold"}}, not {type(value).__name__} {_preview(value)}.'
        )
    depth = _depth(value)
    if depth > METADATA_MAX_DEPTH:
        raise InvalidInput(f"metadata is nested {depth} levels deep; the limit is {METADATA_MAX_DEPTH}.")
    _check_finite(value)
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > METADATA_MAX_BYTES:
        raise InvalidInput(
            f"metadata would be {size:,} bytes of JSON; the limit is {METADATA_MAX_BYTES:,}. Remove keys "
            "(merge-patch them to null) or move prose into the readme."
        )
    return value


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7396 JSON Merge Patch to `target` and return the result (inputs are not modified)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


async def write_readme(
    session: AsyncSession, caller: Caller, entity_type: str, entity_id: Any, readme: str | None, *, now: datetime
) -> Any:
    """Replace the readme of an entity (`None` clears it)."""
    caller.require("write")
    entity = await load_entity(session, caller, entity_type, entity_id)
    entity.readme = None if readme is None else check_readme(readme)
    entity.updated_at = now
    session.add(entity)
    await session.flush()
    return entity


async def write_metadata(
    session: AsyncSession,
    caller: Caller,
    entity_type: str,
    entity_id: Any,
    patch: Any,
    *,
    mode: Literal["merge", "replace"],
    now: datetime,
) -> Any:
    """Merge-patch (RFC 7396) or replace the metadata object of an entity."""
    caller.require("write")
    if mode not in ("merge", "replace"):
        raise InvalidInput(f"mode {mode!r} is not 'merge' or 'replace'.")
    if not isinstance(patch, dict):
        raise InvalidInput(
            f'patch must be a JSON object like {{"tier": "gold"}}, not {type(patch).__name__} {_preview(patch)}; '
            "to clear all metadata use mode='replace' with {}."
        )
    entity = await load_entity(session, caller, entity_type, entity_id)
    new_value = merge_patch(entity.meta, patch) if mode == "merge" else patch
    entity.meta = check_metadata(new_value)
    entity.updated_at = now
    session.add(entity)
    await session.flush()
    return entity


async def set_description(
    session: AsyncSession, caller: Caller, entity_type: str, entity_id: Any, description: str | None, *, now: datetime
) -> Any:
    """Set the human instructions of an entity. Needs the admin scope (the CLI acts as admin)."""
    caller.require("admin")
    entity = await load_entity(session, caller, entity_type, entity_id)
    if "description" not in type(entity).model_fields:
        raise InvalidInput(
            f"A {entity_type} has no description (payout entities carry only readme and metadata); descriptions "
            "are set on projects, creators, videos and campaigns."
        )
    if description is not None:
        description = description.strip() or None
    if description is not None and len(description) > DESCRIPTION_MAX_CHARS:
        raise InvalidInput(f"description is {len(description):,} characters; the limit is {DESCRIPTION_MAX_CHARS:,}.")
    entity.description = description
    entity.updated_at = now
    session.add(entity)
    await session.flush()
    return entity
