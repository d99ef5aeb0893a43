"""`SessionCaps`: the per-key, per-organization and process caps on Streamable HTTP sessions at `/mcp`.

The SDK's session manager caps only the whole process (`max_sessions`, one pool for every tenant) and does
not say when a session ends, so this middleware keeps its own ledger of the sessions it saw open, from the
HTTP traffic the manager itself acts on:

* A handshake-era request without `Mcp-Session-Id` asks the manager for a session. It is admitted by the
  `SessionBudget` first (else 429/503 with `Retry-After`), counted while it is served, and the session is
  recorded when the answer is below 400 and carries an `Mcp-Session-Id` (the manager's own rule).
* A session ends when its owner's `DELETE` is answered 2xx, when a request of its owner is answered 404
  (the manager no longer knows it: it expired or crashed), or when it has had no request in flight for
  `idle_seconds`. That last rule is the manager's idle timeout, measured here from when our wrapper saw the
  request finish, which is after the manager did: the ledger never forgets a session before the manager.
  The same value is given to the manager as `session_idle_timeout`.

Requests naming another version (the 2026-07-28 era) are stateless: they open nothing and pass untouched.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trackagoat_mcp.http.budget import Owner, SessionBudget, refusal_response

__all__ = ["SessionCaps"]

_HOW = "end one (DELETE /mcp with its Mcp-Session-Id, or close the client that opened it)."


@dataclass
class _Session:
    owner: Owner
    idle_since: float
    in_flight: int = 0


class SessionCaps:
    """ASGI middleware counting the Streamable HTTP sessions of each key and organization (module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        budget: SessionBudget,
        idle_seconds: float,
        path: str = "/mcp",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.budget = budget
        self.idle_seconds = idle_seconds
        self.path = path
        self._monotonic = monotonic
        self._sessions: dict[str, _Session] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = Owner.of(scope) if scope["type"] == "http" and scope["path"] == self.path else None
        if owner is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        version = headers.get("mcp-protocol-version")
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            await self.app(scope, receive, send)
            return
        session_id = headers.get("mcp-session-id")
        if session_id is None:
            await self._open(owner, scope, receive, send)
        else:
            await self._use(owner, session_id, scope, receive, send)

    async def _open(self, owner: Owner, scope: Scope, receive: Receive, send: Send) -> None:
        self._expire()
        full = self.budget.admit(owner, "session")
        if full is not None:
            retry = self._retry_after(owner, full)
            await refusal_response(self.budget, full, "session", owner, retry, _HOW)(scope, receive, send)
            return
        answer = _Answer(send)
        try:
            await self.app(scope, receive, answer)
        finally:
            if answer.status is not None and answer.status < 400 and answer.session_id is not None:
                self._sessions[answer.session_id] = _Session(owner, idle_since=self._monotonic())
            else:
                self.budget.release(owner, "session")

    async def _use(self, owner: Owner, session_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        session = self._sessions.get(session_id)
        if session is None or session.owner != owner:
            await self.app(scope, receive, send)  # the manager answers 404 for unknown and foreign sessions
            return
        session.in_flight += 1
        answer = _Answer(send)
        try:
            await self.app(scope, receive, answer)
        finally:
            session.in_flight -= 1
            session.idle_since = self._monotonic()
            deleted = scope["method"] == "DELETE" and answer.status is not None and 200 <= answer.status < 300
            if deleted or answer.status == 404:
                self._forget(session_id)

    def _forget(self, session_id: str) -> None:
        session = self._sessions.pop(session_id, None)
        if session is not None:
            self.budget.release(session.owner, "session")

    def _expire(self) -> None:
        """Forget the sessions the manager has closed for idleness (no request in flight for `idle_seconds`)."""
        cutoff = self._monotonic() - self.idle_seconds
        for session_id in [s for s, v in self._sessions.items() if v.in_flight == 0 and v.idle_since <= cutoff]:
            self._forget(session_id)

    def _retry_after(self, owner: Owner, full: str) -> int:
        """Seconds until the first idle session that counts toward the full budget expires (else a whole timeout)."""
        now = self._monotonic()
        counts: Callable[[Owner], bool] = {
            "process": lambda other: True,
            "key": lambda other: other.key == owner.key,
            "org": lambda other: other.org == owner.org,
        }[full]
        expiries = [
            s.idle_since + self.idle_seconds - now
            for s in self._sessions.values()
            if s.in_flight == 0 and counts(s.owner)
        ]
        return math.ceil(min(expiries, default=self.idle_seconds))


class _Answer:
    """A `send` that passes every message on and remembers the status and `Mcp-Session-Id` of the answer."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None
        self.session_id: str | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.session_id = Headers(raw=message.get("headers", [])).get("mcp-session-id")
        await self._send(message)
