"""`build_rest_app(state)`: the REST API, mounted at `/api/v1` of the HTTP app (SPEC §7).

A FastAPI app: its routes are thin adapters over the domain functions and record models the MCP tools use, and
`/api/v1/openapi.json` (OpenAPI 3.1) is generated from those same pydantic models. It sits behind `Guard` (Host and
Origin checks, bearer key, the per-key rate limit shared with `/mcp`); here it adds the scope a method needs
(`read` for GET, `write` otherwise), the body limit (413) and the error envelopes (`http/rest/errors.py`).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trackagoat_mcp import __version__
from trackagoat_mcp.http.rest import (
    aggregate,
    analytics,
    campaigns,
    creators,
    goals,
    insights,
    payout_methods,
    payout_structures,
    payouts,
    projects,
    radar,
    retired,
    schema,
    videos,
)
from trackagoat_mcp.http.rest.common import ERRORS
from trackagoat_mcp.http.rest.deps import RestState, require_method_scope
from trackagoat_mcp.http.rest.envelope import failure
from trackagoat_mcp.http.rest.errors import install_error_handlers

__all__ = ["PREFIX", "BodyLimit", "build_rest_app", "rest_aware_not_found"]

PREFIX = "/api/v1"

DESCRIPTION = """\
The trackagoat REST API of a self-hosted trackagoat-mcp server: the same data, rules and records as its MCP tools.
Authenticate with `Authorization: Bearer tga_…`. Every answer is `{"data", "error", "meta"}`; lists page with
`?limit=` (1-100, default 50) and `?cursor=` (the previous page's `meta.nextCursor`). Creating POSTs accept an
`Idempotency-Key` header."""


class BodyLimit:
    """Refuse request bodies above `max_bytes` with 413 `payload_too_large`, by header or as they stream in."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = failure(
            413,
            "payload_too_large",
            f"The request body is larger than {self.max_bytes:,} bytes; send less per request (for example fewer "
            "entries per bulk call).",
        )
        await response(scope, receive, send)


async def rest_aware_not_found(request: Request, _exc: Exception) -> Response:
    """The outer app's 404: the REST envelope under `/api/v1` (a path the mount cannot take, such as one holding a
    newline), Starlette's plain text elsewhere."""
    if request.url.path.startswith(PREFIX):
        return failure(404, "not_found", f"There is no route {request.url.path!r}; see {PREFIX}/openapi.json.")
    return PlainTextResponse("Not Found", status_code=404)


class _TooLarge(Exception):
    """The body outgrew the limit while streaming in."""


def build_rest_app(state: RestState, *, max_body_bytes: int) -> ASGIApp:
    """The `/api/v1` app over `state` (mount it at `/api/v1`, behind `Guard`)."""
    app = FastAPI(
        title="trackagoat REST API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses=dict(ERRORS),
        dependencies=[Depends(require_method_scope)],
    )
    app.state.rest = state
    install_error_handlers(app)
    for module in (
        projects,
        creators,
        videos,
        campaigns,
        goals,
        analytics,
        aggregate,
        insights,
        radar,
        payout_methods,
        payout_structures,
        payouts,
        schema,
        retired,
    ):
        app.include_router(module.router)
    return BodyLimit(app, max_bytes=max_body_bytes)
