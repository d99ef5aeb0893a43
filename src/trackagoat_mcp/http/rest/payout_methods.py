"""`/payout-methods`: list, get, create (Idempotency-Key), patch, delete; the payouts tools' domain calls.

Defaults keep their names and cannot be deleted (409 `default_method`); a method some payment used cannot be
deleted either (409 `method_in_use`): disable it with `PATCH {"is_active": false}`. `icon_url` is an http(s) URL
(trackagoat's `icon_path` points into its own upload storage, which a self-hosted server does not have).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.requests import Request
from starlette.responses import Response

from trackagoat_mcp.domain import notes
from trackagoat_mcp.domain.payouts import methods
from trackagoat_mcp.domain.payouts.methods import PayoutMethodOut
from trackagoat_mcp.http.rest.common import Body, Id, ListQuery, Patch, at_least_one
from trackagoat_mcp.http.rest.deps import CallerDep, StateDep
from trackagoat_mcp.http.rest.envelope import Envelope, PageEnvelope, page_response, success
from trackagoat_mcp.http.rest.idempotency import IdempotencyKey, begin

router = APIRouter(tags=["payouts"])

Name = Annotated[str, Field(min_length=1, max_length=100)]
Icon = Annotated[str | None, Field(max_length=2000, description="An http(s) URL; null clears it.")]


class MethodQuery(ListQuery):
    """Filters of the payout method list."""

    include_disabled: bool = False


class MethodIn(Body):
    """A custom payout method."""

    name: Name
    icon_url: Icon = None
    metadata: dict[str, Any] | None = None
    readme: Annotated[str | None, Field(max_length=20_000)] = None


class MethodPatch(Patch):
    """Fields to change (at least one)."""

    not_null = ("name", "is_active")

    name: Name | SkipJsonSchema[None] = None
    is_active: bool | SkipJsonSchema[None] = None
    icon_url: Icon = None
    metadata: Annotated[dict[str, Any] | None, Field(description="Merged (RFC 7396).")] = None
    readme: Annotated[str | None, Field(max_length=20_000)] = None


class DeletedMethod(BaseModel):
    """The deleted payout method."""

    deleted_method_id: uuid.UUID
    name: str


async def _notes(session: Any, state: StateDep, caller: CallerDep, method_id: Any, sent: dict[str, Any]) -> None:
    now = state.clock.now()
    if "readme" in sent:
        await notes.write_readme(session, caller, "payout_method", method_id, sent["readme"], now=now)
    if sent.get("metadata") is not None:
        await notes.write_metadata(session, caller, "payout_method", method_id, sent["metadata"], mode="merge", now=now)


@router.get("/payout-methods", response_model=PageEnvelope[PayoutMethodOut])
async def list_methods(state: StateDep, caller: CallerDep, q: Annotated[MethodQuery, Query()]) -> Response:
    """The organization's payout methods by name (`include_disabled` adds disabled ones)."""
    async with state.db.read() as session:
        page = await methods.list_methods(
            session, caller, include_inactive=q.include_disabled, limit=q.limit, cursor=q.cursor
        )
    return page_response(page)


@router.get("/payout-methods/{method_id}", response_model=Envelope[PayoutMethodOut])
async def get_method(state: StateDep, caller: CallerDep, method_id: Id) -> Response:
    """One payout method."""
    async with state.db.read() as session:
        return success(PayoutMethodOut.of(await methods.get_method_row(session, caller, method_id)))


@router.post("/payout-methods", status_code=201, response_model=Envelope[PayoutMethodOut])
async def create_method(
    request: Request, state: StateDep, caller: CallerDep, body: MethodIn, _key: IdempotencyKey = None
) -> Response:
    """Create a custom payout method (409 when the name is taken, ignoring case)."""
    slot = await begin(request, state, caller)
    if slot.replay is not None:
        return slot.replay
    async with slot.guard(), state.db.write() as session:
        created = await methods.create_method(
            session, caller, name=body.name, icon_url=body.icon_url, now=state.clock.now()
        )
        await _notes(session, state, caller, created.id, body.model_dump(exclude_unset=True))
        row = await methods.get_method_row(session, caller, created.id)
        return await slot.respond(session, PayoutMethodOut.of(row))


@router.patch("/payout-methods/{method_id}", response_model=Envelope[PayoutMethodOut])
async def update_method(state: StateDep, caller: CallerDep, method_id: Id, body: MethodPatch) -> Response:
    """Rename (custom only), enable/disable, set or clear the icon, notes."""
    sent = at_least_one(body, "payout method")
    async with state.db.write() as session:
        if {"name", "is_active", "icon_url"} & set(sent):
            icon = {"icon_url": sent["icon_url"]} if "icon_url" in sent else {}
            await methods.update_method(
                session, caller, method_id, now=state.clock.now(), name=body.name, is_active=body.is_active, **icon
            )
        await _notes(session, state, caller, method_id, sent)
        return success(PayoutMethodOut.of(await methods.get_method_row(session, caller, method_id)))


@router.delete("/payout-methods/{method_id}", response_model=Envelope[DeletedMethod])
async def delete_method(state: StateDep, caller: CallerDep, method_id: Id) -> Response:
    """Delete a custom method no payment used (409 `default_method`, `method_in_use`)."""
    async with state.db.write() as session:
        deleted = await methods.delete_method(session, caller, method_id)
    return success(DeletedMethod(deleted_method_id=deleted.id, name=deleted.name))
