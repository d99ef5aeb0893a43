"""The `admin` toolset (off by default; needs an admin-scoped key): descriptions and API keys."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from trackagoat_mcp.domain import keys, notes
from trackagoat_mcp.errors import InvalidInput
from trackagoat_mcp.jobs.accruals import run_accruals as run_accrual_job
from trackagoat_mcp.server.auth import request_caller
from trackagoat_mcp.server.context import app_context, unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import Cursor

group = ToolGroup("admin")


class DescriptionResult(BaseModel):
    """The entity's description after the write."""

    entity_type: str
    entity_id: uuid.UUID
    description: str | None


class KeyInfo(BaseModel):
    """An API key (never its secret, except `key` right after creation)."""

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    key: str | None = Field(default=None, description="The key itself: shown once, on create only.")


class KeysResult(BaseModel):
    """Outcome of manage_api_keys."""

    action: str
    keys: list[KeyInfo] = Field(description=f"list: {keys.KEYS_PER_PAGE} per page, oldest first.")
    next_cursor: str | None = Field(default=None, description="list: pass as cursor for the next keys.")


class AccrualRunResult(BaseModel):
    """What one accrual run for the organization did (also recorded as a job run `accruals_manual`)."""

    as_of: datetime
    evaluated: int = Field(description="Periods evaluated now (each exactly once, zero results included).")
    accrued: int = Field(description="Evaluations that created an earned accrual.")
    zero: int = Field(description="Evaluations that earned nothing (recorded without an accrual).")
    already_evaluated: int = Field(description="Periods another run evaluated meanwhile (nothing written).")
    accrued_cents: int
    waiting_for_stale: int = Field(description="Due periods waiting (up to 24 h) for fresh stats.")
    errors: int
    failed: list[dict[str, Any]] = Field(description="Periods that failed (kind, message, creator_id, ...).")


@group.tool(title="Set a description (admin)", scope="admin", idempotent=True)
async def set_description(
    ctx: Context[Any],
    entity_type: Annotated[str, Field(max_length=32, description="project, creator, video or campaign.")],
    entity_id: Annotated[str, Field(min_length=1, max_length=64)],
    description: Annotated[str | None, Field(max_length=10_000, description="Instructions for agents; null clears.")],
) -> Annotated[CallToolResult, DescriptionResult]:
    """Set the human-instruction description of an entity. Only for admin keys acting on a person's behalf:
    descriptions are what every agent follows first."""
    async with unit(ctx, write=True) as u:
        entity = await notes.set_description(u.session, u.caller, entity_type, entity_id, description, now=u.now)
    return respond(DescriptionResult(entity_type=entity_type, entity_id=entity.id, description=entity.description))


@group.tool(title="Manage API keys (admin)", scope="admin", destructive=True, idempotent=False)
async def manage_api_keys(
    ctx: Context[Any],
    action: Literal["list", "create", "revoke"],
    name: Annotated[str | None, Field(max_length=200, description="Name of the new key (create).")] = None,
    scopes: Annotated[
        list[Literal["read", "write", "admin"]] | None, Field(description="create; default read,write")
    ] = None,
    key_id: Annotated[str | None, Field(max_length=64, description="Key to revoke (revoke).")] = None,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, KeysResult]:
    """List, create or revoke the organization's API keys. A created key is shown once in the result."""
    async with unit(ctx, write=action != "list") as u:
        u.caller.require("admin")
        created: str | None = None
        next_cursor: str | None = None
        if action == "create":
            if not name:
                raise InvalidInput("name is required to create a key.")
            row, created = await keys.create_key(
                u.session, org_id=u.caller.org_id, name=name, scopes=tuple(scopes or keys.DEFAULT_SCOPES), now=u.now
            )
            rows = [row]
        elif action == "revoke":
            if not key_id:
                raise InvalidInput("key_id is required to revoke a key; find it with action='list'.")
            rows = [await keys.revoke_key(u.session, ref=key_id, now=u.now, org_id=u.caller.org_id)]
        else:
            rows, next_cursor = await keys.list_key_page(u.session, org_id=u.caller.org_id, cursor=cursor)
        infos = [
            KeyInfo(
                id=r.id,
                name=r.name,
                prefix=r.prefix,
                scopes=r.scopes.split(","),
                created_at=r.created_at,
                last_used_at=r.last_used_at,
                revoked_at=r.revoked_at,
                key=created,
            )
            for r in rows
        ]
    return respond(KeysResult(action=action, keys=infos, next_cursor=next_cursor))


@group.tool(title="Run accruals now (admin)", scope="admin", idempotent=True)
async def run_accruals(
    ctx: Context[Any],
    at: Annotated[datetime | None, Field(description="Evaluate what was due by then; default now.")] = None,
) -> Annotated[CallToolResult, AccrualRunResult]:
    """Evaluate this organization's due payout periods now instead of at the hourly run; each period is evaluated
    once ever, so repeating it adds nothing."""
    app = app_context(ctx)
    caller = request_caller(app)
    caller.require("admin")
    report = await run_accrual_job(
        app.db,
        app.clock,
        worker_id=f"mcp:{socket.gethostname()}:{os.getpid()}",
        at=at,
        org_id=caller.org_id,
    )
    data = report.as_json()
    return respond(
        AccrualRunResult(
            as_of=report.as_of,
            evaluated=data["evaluated"],
            accrued=data["accrued"],
            zero=data["zero"],
            already_evaluated=data["already_evaluated"],
            accrued_cents=data["accrued_cents"],
            waiting_for_stale=data["waiting_for_stale"],
            errors=data["errors"],
            failed=data["failed"],
        )
    )
