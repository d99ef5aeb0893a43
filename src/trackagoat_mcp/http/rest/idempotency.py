"""`Idempotency-Key` on creating POSTs: claim the key, do the work, store the exact response with it.

A route that creates calls `begin()` first. Without the header it gets a `Slot` that stores nothing. With it, the key
is claimed for (organization, key) with the request's fingerprint (method, path and canonical JSON body); a finished
earlier request with the same key and request answers at once with its stored status and body bytes (header
`Idempotent-Replayed: true`), and a different request with the key gets 409 `idempotency_key_reused`, a concurrent
one 409 `idempotency_key_in_use` (`domain/request_keys.py`). The route then does its work inside `slot.guard()`,
which releases the claim if the work fails, and answers with `slot.respond(session, …)`, which stores the response
in the work's own transaction: the work and its stored response commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import Header
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from trackagoat_mcp.domain import request_keys
from trackagoat_mcp.domain.request_keys import Held, Stored
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.http.rest.deps import RestState
from trackagoat_mcp.http.rest.envelope import body_of, json_response

__all__ = ["HEADER", "REPLAYED_HEADER", "IdempotencyKey", "RequiredIdempotencyKey", "Slot", "begin"]

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        max_length=255,
        description="A new UUID per request; repeat it only to retry the same request (kept for good).",
    ),
]
"""The header a creating route declares (so OpenAPI shows it); `begin()` reads it from the request."""

RequiredIdempotencyKey = Annotated[
    str,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=255,
        description="Required: a new UUID per request, repeated only to retry it; it is also the record's own key.",
    ),
]
"""The header of a route that must not run without one (payments)."""


@dataclass
class Slot:
    """The claim of one creating request (`held` None: no key was sent) or the stored answer to replay."""

    state: RestState
    held: Held | None
    replay: Response | None = None

    @property
    def key(self) -> str | None:
        """The request's idempotency key, if it sent one."""
        return self.held.key if self.held is not None else None

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Release the claim when the work fails, so a corrected retry with the same key runs afresh."""
        try:
            yield
        except BaseException:
            if self.held is not None:
                with anyio.CancelScope(shield=True):
                    await request_keys.release(self.state.db, self.held)
            raise

    async def respond(self, session: AsyncSession, data: Any, status_code: int = 201) -> Response:
        """The envelope of `data`, stored with the key (in `session`'s transaction) when one was sent."""
        text = body_of(data)
        if self.held is not None:
            await request_keys.finish(
                session, self.held, status_code=status_code, body=text, now=self.state.clock.now()
            )
        return json_response(text, status_code)


def _canonical(body: bytes) -> bytes:
    """The body as sorted compact JSON, so the same request sent with other spacing is still the same request."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return body


async def begin(request: Request, state: RestState, caller: Caller) -> Slot:
    """Claim the request's `Idempotency-Key` (if any); see the module docstring."""
    key = request.headers.get(HEADER)
    if key is None:
        return Slot(state, None)
    route = f"{request.method} {request.url.path}"
    fingerprint = request_keys.request_fingerprint(route, _canonical(await request.body()))
    outcome = await request_keys.claim(
        state.db, org_id=caller.org_id, key=key, route=route, fingerprint=fingerprint, now=state.clock.now()
    )
    if isinstance(outcome, Stored):
        replay = json_response(outcome.body, outcome.status_code, {REPLAYED_HEADER: "true"})
        return Slot(state, None, replay)
    return Slot(state, outcome)
