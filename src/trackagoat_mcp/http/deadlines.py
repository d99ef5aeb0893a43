"""Read deadlines: a client may not hold a connection open by sending a request slowly.

uvicorn closes a connection that stays idle after a response (`timeout_keep_alive`) but has no deadline
for the request itself: a client that sends its headers a byte at a time, or never finishes its body, holds
the connection (and, with enough of them, the process's file descriptors) for as long as it likes.

* Headers: `header_deadline_protocol(seconds)` is uvicorn's h11 protocol with one more rule: a request's
  headers must be complete within `seconds` of the connection opening or of the previous response
  finishing, else the connection is closed. It is passed to uvicorn as its `http` protocol class.
* Body: `BodyDeadline` is ASGI middleware that reads a request's body (at most `max_bytes`, else 413)
  within `seconds` of its headers, else answers 408, and closes the connection either way; the app then
  gets the body whole.

Both answer only the slow request's own connection; long responses (SSE streams, slow tool calls) are not
limited, since the deadlines end once the request has arrived.
"""

from __future__ import annotations

import asyncio  # noqa: TID251 - uvicorn's protocol classes are asyncio protocols, timers included

import anyio
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from trackagoat_mcp.http.guard import REST_PREFIX
from trackagoat_mcp.http.rest.envelope import failure

__all__ = ["BodyDeadline", "header_deadline_protocol"]


def header_deadline_protocol(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol closing connections whose request headers take longer than `seconds`."""

    class HeaderDeadlineProtocol(H11Protocol):
        header_timeout = seconds
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._request_in_progress():
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._request_in_progress():  # a pipelined request was already parsed
                self._disarm()
            elif not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _request_in_progress(self) -> bool:
            return self.cycle is not None and not self.cycle.response_complete

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing() and not self._request_in_progress():
                self.transport.close()

    return HeaderDeadlineProtocol


class BodyDeadline:
    """ASGI middleware: a request body must arrive whole within `seconds` and `max_bytes` (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, seconds: float, max_bytes: int) -> None:
        self.app = app
        self.seconds = seconds
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        with anyio.move_on_after(self.seconds) as deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # the client left; there is no one to answer
                chunk: bytes = message.get("body", b"")
                size += len(chunk)
                if size > self.max_bytes:
                    await _closing(
                        scope,
                        413,
                        "payload_too_large",
                        f"The request body is over {self.max_bytes} bytes, the limit; send a smaller request.",
                    )(scope, receive, send)
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            await _closing(
                scope,
                408,
                "request_timeout",
                f"The request body did not arrive within {self.seconds:g} s; send it at once, as one request.",
            )(scope, receive, send)
            return
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _has_body(headers: Headers) -> bool:
    return "transfer-encoding" in headers or headers.get("content-length", "0") not in ("", "0")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands out `body` in one message, then whatever the connection says next."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _closing(scope: Scope, status: int, error: str, description: str) -> Response:
    """The refusal, closing the connection: in the REST envelope under `/api/v1`, else as the MCP routes answer."""
    headers: dict[str, str] = {"Connection": "close"}
    path: str = scope["path"]
    if path == REST_PREFIX or path.startswith(REST_PREFIX + "/"):
        return failure(status, error, description, headers=headers)
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)
