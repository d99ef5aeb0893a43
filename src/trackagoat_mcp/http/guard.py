"""`Guard`: the ASGI middleware in front of every MCP endpoint (`/mcp`, `/sse`, `/messages/`).

In order, each check answering before anything later runs (and before any body is read):

1. DNS-rebinding protection: the `Host` header must be loopback or one of `TRACKAGOAT_ALLOWED_HOSTS`
   (else 421), and an `Origin`, when a browser sends one, must be `http(s)://` one of those hosts (else 403).
2. Authentication: `Authorization: Bearer tga_…` naming a valid, unrevoked key (else 401 with
   `WWW-Authenticate: Bearer realm="trackagoat-mcp"`, plus `error="invalid_token"` when a key was sent).
3. The key's rate limit (else 429 with `Retry-After`).

Then the request carries the key the way the SDK's own bearer middleware would leave it (`scope["user"]`
as an `AuthenticatedUser`, `scope["auth"]`, and the `get_access_token()` context variable), so session
ownership and `server.auth.request_caller` work unchanged. The SDK transports re-check Host/Origin and
cap the body size (413) themselves. Error bodies are small JSON objects `{"error", "error_description"}`
that never echo the presented key; nothing here logs headers. Under `/api/v1` the same refusals use the REST
envelope and codes instead (`invalid_api_key`, `rate_limit_exceeded` with `meta.retryAfter`, …).
"""

from __future__ import annotations

import json
from collections.abc import Collection

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import TokenVerifier
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from trackagoat_mcp.http.limits import RateLimiter
from trackagoat_mcp.http.rest.envelope import failure

__all__ = ["LOOPBACK_HOSTS", "REALM", "REST_PREFIX", "Guard", "allowed_origins", "host_allowed"]

REALM = "trackagoat-mcp"
LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")
REST_PREFIX = "/api/v1"
_REST_CODES = {
    "unauthorized": "invalid_api_key",
    "invalid_token": "invalid_api_key",
    "rate_limited": "rate_limit_exceeded",
}


def _patterns(host: str) -> list[str]:
    """`example.com` matches itself on any port; `example.com:8443` and `example.com:*` match as written."""
    bare = host.rsplit(":", 1)[0] if not host.endswith("]") and ":" in host else host
    return [host] if bare != host else [host, f"{host}:*"]


def allowed_host_patterns(extra_hosts: Collection[str]) -> list[str]:
    """Every accepted `Host` pattern: loopback on any port plus the configured hosts."""
    return [p for host in (*LOOPBACK_HOSTS, *extra_hosts) for p in _patterns(host)]


def allowed_origins(extra_hosts: Collection[str]) -> list[str]:
    """Every accepted `Origin` pattern: `http://` and `https://` in front of each accepted host pattern."""
    return [f"{scheme}://{p}" for p in allowed_host_patterns(extra_hosts) for scheme in ("http", "https")]


def host_allowed(value: str, patterns: Collection[str]) -> bool:
    """Whether `value` equals a pattern or matches a `base:*` pattern (the SDK's matching rule)."""
    value = value.lower()
    return value in patterns or any(p.endswith(":*") and value.startswith(p[:-1]) for p in patterns)


def _error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


class Guard:
    """Host/Origin checks, bearer-key authentication and the per-key rate limit (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        limiter: RateLimiter,
        allowed_hosts: Collection[str] = (),
        exempt_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.limiter = limiter
        self.exempt_paths = frozenset(exempt_paths)
        self.host_patterns = allowed_host_patterns(allowed_hosts)
        self.origin_patterns = allowed_origins(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._check_origin(headers)
        if refusal is None:
            refusal, user = await self._authenticate(headers)
        if refusal is not None:
            path = scope["path"]
            rest = path == REST_PREFIX or path.startswith(REST_PREFIX + "/")
            await (_rest_refusal(refusal) if rest else refusal)(scope, receive, send)
            return
        assert user is not None
        scope["user"] = user
        scope["auth"] = AuthCredentials(user.scopes)
        token = auth_context_var.set(user)
        try:
            await self.app(scope, receive, send)
        finally:
            auth_context_var.reset(token)

    def _check_origin(self, headers: Headers) -> JSONResponse | None:
        host = headers.get("host", "")
        if not host_allowed(host, self.host_patterns):
            return _error(
                421,
                "misdirected_request",
                f"Host {host!r} is not served here; if this server sits behind a proxy under that name, "
                "add it to TRACKAGOAT_ALLOWED_HOSTS.",
            )
        origin = headers.get("origin")
        if origin is not None and not host_allowed(origin, self.origin_patterns):
            return _error(
                403, "forbidden_origin", f"Requests from the web page origin {origin!r} are not accepted here."
            )
        return None

    async def _authenticate(self, headers: Headers) -> tuple[JSONResponse | None, AuthenticatedUser | None]:
        raw = headers.get("authorization")
        if not raw:
            return _unauthorized(
                None, "Send Authorization: Bearer tga_... with a key from `trackagoat-mcp keys create`."
            ), None
        scheme, _, key = raw.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key.startswith("tga_") or len(key) != 68:
            return _unauthorized(
                "invalid_token", "The Authorization header must be 'Bearer tga_' followed by 64 lowercase hex digits."
            ), None
        access = await self.verifier.verify_token(key)
        if access is None:
            return _unauthorized(
                "invalid_token",
                "This API key is not valid or has been revoked; create one with `trackagoat-mcp keys create`.",
            ), None
        retry_after = self.limiter.hit(access.client_id)
        if retry_after is not None:
            return _error(
                429,
                "rate_limited",
                f"This key made {self.limiter.limit} requests in the last minute, its limit; retry in {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            ), None
        return None, AuthenticatedUser(access)


def _rest_refusal(refusal: JSONResponse) -> Response:
    """The same refusal in the REST envelope: `meta.code` in trackagoat's names, `meta.retryAfter` on 429."""
    plain = json.loads(bytes(refusal.body))
    code = _REST_CODES.get(plain["error"], plain["error"])
    headers = {k: v for k, v in refusal.headers.items() if k.lower() in ("retry-after", "www-authenticate")}
    meta = {"retryAfter": int(headers["retry-after"])} if "retry-after" in headers else {}
    return failure(refusal.status_code, code, plain["error_description"], headers=headers, **meta)


def _unauthorized(error: str | None, description: str) -> JSONResponse:
    challenge = f'Bearer realm="{REALM}"'
    if error is not None:
        challenge += f', error="{error}", error_description="{description}"'
    return _error(401, error or "unauthorized", description, headers={"WWW-Authenticate": challenge})
