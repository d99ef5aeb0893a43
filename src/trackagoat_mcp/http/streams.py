"""`StreamCaps`: caps on legacy SSE streams (`/sse`) and clean answers for messages to closed ones (`/messages/`).

A `GET /sse` stream is one MCP session for as long as the connection stays open. It is admitted by the
`SessionBudget` (sharing the key's and organization's budget with Streamable HTTP sessions, plus its own
process cap `TRACKAGOAT_MAX_SSE_STREAMS`), else 429/503 with `Retry-After`, and released when the stream ends.

While it runs, the stream's session id is read from its first event (the transport's `endpoint` event,
`…?session_id=<hex>`), and the stream counts as closed from the moment the client disconnects, before the
SDK has finished tearing it down. A `POST /messages/?session_id=…` naming a stream that is not open (closed,
or never opened) gets 404 with a sentence here instead of reaching the SDK, which at that moment may accept
the message and then fail on the closed stream. A message that still races the close is dropped and logged.
"""

from __future__ import annotations

import logging
import re
import uuid

import anyio
from starlette.datastructures import QueryParams
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trackagoat_mcp.http.budget import Owner, SessionBudget, refusal_response

__all__ = ["STREAM_RETRY_SECONDS", "StreamCaps"]

logger = logging.getLogger(__name__)

STREAM_RETRY_SECONDS = 30
"""`Retry-After` of a refused stream: streams end when their clients leave, which nothing here can predict."""

_SESSION_ID_RE = re.compile(rb"session_id=([0-9a-f]{32})")
_ENDPOINT_SCAN_BYTES = 4096
_HOW = "close one of its SSE streams or Streamable HTTP sessions."


class StreamCaps:
    """ASGI middleware for `/sse` and `/messages/` (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, *, budget: SessionBudget, sse_path: str = "/sse", message_path: str = "/messages/"
    ) -> None:
        self.app = app
        self.budget = budget
        self.sse_path = sse_path
        self.message_path = message_path
        self._open: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = Owner.of(scope) if scope["type"] == "http" else None
        if owner is not None and scope["path"] == self.sse_path and scope["method"] == "GET":
            await self._stream(owner, scope, receive, send)
        elif owner is not None and scope["path"] == self.message_path and scope["method"] == "POST":
            await self._message(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _stream(self, owner: Owner, scope: Scope, receive: Receive, send: Send) -> None:
        full = self.budget.admit(owner, "sse")
        if full is not None:
            response = refusal_response(self.budget, full, "sse", owner, STREAM_RETRY_SECONDS, _HOW)
            await response(scope, receive, send)
            return
        session_id: str | None = None
        head = b""

        async def watch_receive() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect" and session_id is not None:
                self._open.discard(session_id)
            return message

        async def watch_send(message: Message) -> None:
            nonlocal session_id, head
            if session_id is None and message["type"] == "http.response.body" and len(head) < _ENDPOINT_SCAN_BYTES:
                head += message.get("body", b"")
                found = _SESSION_ID_RE.search(head)
                if found is not None:
                    session_id = found.group(1).decode()
                    self._open.add(session_id)
            await send(message)

        try:
            await self.app(scope, watch_receive, watch_send)
        finally:
            if session_id is not None:
                self._open.discard(session_id)
            self.budget.release(owner, "sse")

    async def _message(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = QueryParams(scope.get("query_string", b"")).get("session_id")
        try:
            session_id = uuid.UUID(hex=raw).hex if raw is not None else None
        except ValueError:
            session_id = None
        if session_id is None:
            await self.app(scope, receive, send)  # the SDK answers 400 for a missing or malformed id
            return
        if session_id not in self._open:
            await _closed(raw)(scope, receive, send)
            return
        started = False

        async def watch_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch_send)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            logger.info("A message for SSE stream %s arrived as the stream closed; it was dropped.", session_id)
            if not started:
                await _closed(raw)(scope, receive, send)


def _closed(session_id: str | None) -> JSONResponse:
    return JSONResponse(
        {
            "error": "stream_not_found",
            "error_description": f"No SSE stream with session_id {session_id!r} is open (it closed or never "
            "existed); open a new one with GET /sse and post to the endpoint it announces.",
        },
        status_code=404,
    )
