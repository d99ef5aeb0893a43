"""`SessionBudget`: how many MCP sessions each key, each organization and the whole process hold open.

A session is a Streamable HTTP session (`Mcp-Session-Id`) or a legacy SSE stream. Both count toward the
same per-key budget (`TRACKAGOAT_SESSIONS_PER_KEY`) and per-organization budget
(`TRACKAGOAT_SESSIONS_PER_ORG`), so the keys an organization mints share its budget and no tenant can fill
what the others share. Each transport also has its own cap for the whole process (`TRACKAGOAT_MAX_SESSIONS`,
`TRACKAGOAT_MAX_SSE_STREAMS`), which bounds memory and, for SSE, open connections.

`admit` decides before anything is opened and counts the session when it admits it; the caller calls
`release` exactly once when that session ends (or when opening it failed). Past a key's or an
organization's budget the answer is 429, past the process cap 503, both with `Retry-After` and a sentence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.responses import JSONResponse
from starlette.types import Scope

__all__ = ["Kind", "Owner", "SessionBudget", "refusal_response"]

Kind = Literal["session", "sse"]
"""A Streamable HTTP session or a legacy SSE stream."""

_NAMES: dict[Kind, str] = {"session": "Streamable HTTP sessions", "sse": "SSE streams"}
_PROCESS_SETTINGS: dict[Kind, str] = {"session": "TRACKAGOAT_MAX_SESSIONS", "sse": "TRACKAGOAT_MAX_SSE_STREAMS"}


@dataclass(frozen=True)
class Owner:
    """The key a request authenticated with and its organization (from the `AccessToken` client id)."""

    key: str
    org: str

    @classmethod
    def of(cls, scope: Scope) -> Owner | None:
        """The owner `Guard` left on the request, or None when it carries no key."""
        user = scope.get("user")
        if not isinstance(user, AuthenticatedUser):
            return None
        org, _, key = user.access_token.client_id.partition(":")
        return cls(key=key or org, org=org)


class SessionBudget:
    """Counts of open sessions per key, per organization and per kind; see the module docstring."""

    def __init__(self, *, per_key: int, per_org: int, per_process: Mapping[Kind, int]) -> None:
        self.per_key = per_key
        self.per_org = per_org
        self.per_process = dict(per_process)
        self._keys: Counter[str] = Counter()
        self._orgs: Counter[str] = Counter()
        self._kinds: Counter[Kind] = Counter()

    def open_count(self, kind: Kind) -> int:
        """How many sessions of `kind` are open in this process."""
        return self._kinds[kind]

    def admit(self, owner: Owner, kind: Kind) -> Literal["key", "org", "process"] | None:
        """Count a new session of `owner` and return None, or return which budget is full (counting nothing)."""
        if self._kinds[kind] >= self.per_process[kind]:
            return "process"
        if self._keys[owner.key] >= self.per_key:
            return "key"
        if self._orgs[owner.org] >= self.per_org:
            return "org"
        self._keys[owner.key] += 1
        self._orgs[owner.org] += 1
        self._kinds[kind] += 1
        return None

    def release(self, owner: Owner, kind: Kind) -> None:
        """Forget one session of `owner` (call once per admitted session)."""
        for counter, name in ((self._keys, owner.key), (self._orgs, owner.org)):
            counter[name] -= 1
            if counter[name] <= 0:
                del counter[name]
        self._kinds[kind] -= 1


def refusal_response(
    budget: SessionBudget, full: Literal["key", "org", "process"], kind: Kind, owner: Owner, retry_after: int, how: str
) -> JSONResponse:
    """The 429 (key or organization budget) or 503 (process cap) answer, with `Retry-After` and a sentence.

    `how` says how the client frees a session of this kind (ends with a period).
    """
    retry = max(1, retry_after)
    if full == "process" and budget.per_process[kind] == 0:
        status, error = 503, "server_busy"
        description = f"This server accepts no {_NAMES[kind]} ({_PROCESS_SETTINGS[kind]} is 0); use /mcp instead."
    elif full == "process":
        status, error = 503, "server_busy"
        cap = budget.per_process[kind]
        description = (
            f"This server holds {cap} open {_NAMES[kind]}, its limit ({_PROCESS_SETTINGS[kind]}); retry in {retry} s."
        )
    elif full == "key":
        status, error = 429, "too_many_sessions"
        description = (
            f"This key holds {budget.per_key} open MCP sessions, its limit (TRACKAGOAT_SESSIONS_PER_KEY); "
            f"{how} Or retry in {retry} s."
        )
    else:
        status, error = 429, "too_many_sessions"
        description = (
            f"The keys of organization {owner.org!r} hold {budget.per_org} open MCP sessions, its limit "
            f"(TRACKAGOAT_SESSIONS_PER_ORG); {how} Or retry in {retry} s."
        )
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers={"Retry-After": str(retry)}
    )
