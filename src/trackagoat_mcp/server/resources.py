"""Resources: the schema, the agent guide, entities by id, and the instruction chain of an entity.

Entity resources return the same text as the matching `get_*` tool; creators and videos carry
third-party text, fenced as untrusted data (see `fencing`), so they are served as text/plain.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from pydantic import BaseModel

from trackagoat_mcp.domain import campaigns, creators, videos
from trackagoat_mcp.domain.context import agent_context
from trackagoat_mcp.domain.payouts import accrual_records, payment_records, structures
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.schemas import CreatorOut, ProjectOut, VideoOut
from trackagoat_mcp.errors import NotFound, TrackagoatError
from trackagoat_mcp.server.context import Unit, unit
from trackagoat_mcp.server.fencing import compact_json, fenced_json
from trackagoat_mcp.server.guide import GUIDE, schema_document

__all__ = ["register_resources"]


async def _read(ctx: Context[Any], load: Callable[[Unit], Awaitable[BaseModel]]) -> str:
    try:
        async with unit(ctx) as u:
            model = await load(u)
    except NotFound as exc:
        raise ResourceNotFoundError(f"[{exc.code}] {exc.message}") from exc
    except TrackagoatError as exc:
        raise ResourceError(f"[{exc.code}] {exc.message}") from exc
    return fenced_json(model.model_dump(mode="json"))


Loader = Callable[[Unit, str], Awaitable[BaseModel]]


async def _project(u: Unit, entity_id: str) -> BaseModel:
    return ProjectOut.of(await get_project(u.session, u.caller, entity_id))


async def _creator(u: Unit, entity_id: str) -> BaseModel:
    return CreatorOut.of(await creators.get_creator(u.session, u.caller, entity_id))


async def _video(u: Unit, entity_id: str) -> BaseModel:
    return VideoOut.of(await videos.get_video(u.session, u.caller, entity_id))


async def _campaign(u: Unit, entity_id: str) -> BaseModel:
    return await campaigns.get_campaign(u.session, u.caller, entity_id)


async def _payout_structure(u: Unit, entity_id: str) -> BaseModel:
    return await structures.get_structure(u.session, u.caller, entity_id, now=u.now)


async def _payout_accrual(u: Unit, entity_id: str) -> BaseModel:
    return await accrual_records.get_accrual(u.session, u.caller, entity_id)


async def _payout_payment(u: Unit, entity_id: str) -> BaseModel:
    return await payment_records.get_payout_payment(u.session, u.caller, entity_id)


# URI segment -> (resource name, description, loader, contains third-party text)
_ENTITY_READERS: dict[str, tuple[str, str, Loader, bool]] = {
    "projects": ("project", "A project record.", _project, False),
    "creators": ("creator", "A creator record (fenced: contains TikTok users' text).", _creator, True),
    "videos": ("video", "A video record (fenced: contains TikTok users' text).", _video, True),
    "campaigns": ("campaign", "A campaign record with its first 50 direct items.", _campaign, False),
    "payout-structures": (
        "payout_structure",
        "A payout structure: current rule, version history, current assignments.",
        _payout_structure,
        False,
    ),
    "payout-accruals": ("payout_accrual", "A payout accrual with its inputs_snapshot.", _payout_accrual, False),
    "payout-payments": (
        "payout_payment",
        "A payout payment with its payout_payment_lines and payout_adjustments.",
        _payout_payment,
        False,
    ),
}


def _entity_reader(load: Loader) -> Callable[..., Awaitable[str]]:
    async def read(id: str, ctx: Context[Any]) -> str:
        return await _read(ctx, lambda u: load(u, id))

    return read


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

    for segment, (name, description, load, untrusted) in _ENTITY_READERS.items():
        server.resource(
            f"trackagoat://{segment}/{{id}}",
            name=name,
            mime_type="text/plain" if untrusted else "application/json",
            description=description,
        )(_entity_reader(load))

    @server.resource(
        "trackagoat://context/{entity_type}/{id}",
        name="context",
        mime_type="application/json",
        description="Description chain, readmes and caveats of an entity (same as get_agent_context).",
    )
    async def context(entity_type: str, id: str, ctx: Context[Any]) -> str:
        return await _read(ctx, lambda u: agent_context(u.session, u.caller, entity_type, id, now=u.now))
