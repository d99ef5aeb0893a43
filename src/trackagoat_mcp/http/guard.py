"""`Guard`: the ASGI middleware in front of every MCP endpoint (`/mcp`, `/sse`, `/messages/`).

In order, each check answering before anything later runs (and before any body is read):

1. DNS-rebinding protection, on every path including the public ones (`/healthz`): the `Host` header must
   be loopback or one of `TRACKAGOAT_ALLOWED_HOSTS` (else 421), and an `Origin`, when a browser sends one,
   must be `http(s)://` one of those hosts (else 403). Both are parsed strictly (`host_allowed`).
2. The failed-authentication throttle: a client address that sent `TRACKAGOAT_AUTH_FAILURES_PER_MINUTE`
   invalid keys in the last minute gets 429 with `Retry-After` for any key, before the key is looked up,
   so guessing costs the store nothing. Other addresses are unaffected.
3. Authentication: `Authorization: Bearer tga_…` naming a valid, unrevoked key (else 401 with
   `WWW-Authenticate: Bearer realm="trackagoat-mcp"`, plus `error="invalid_token"` when a key was sent).
4. The key's rate limit and its organization's (all its keys together), else 429 with `Retry-After`.

Then the request carries the key the way the SDK's own bearer middleware would leave it (`scope["user"]`
as an `AuthenticatedUser`, `scope["auth"]`, and the `get_access_token()` context variable), so session
ownership and `server.auth.request_caller` work unchanged. The SDK transports re-check Host/Origin and
cap the body size (413) themselves. Error bodies are small JSON objects `{"error", "error_description"}`
that never echo the presented key; nothing here logs headers. Under `/api/v1` the same refusals use the REST
envelope and codes instead (`invalid_api_key`, `rate_limit_exceeded` with `meta.retryAfter`, …).
"""

from __future__ import annotations

import json
import re
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
    "auth_throttled": "rate_limit_exceeded",
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


_AUTHORITY_RE = re.compile(r"^(?P<name>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?$")
"""A `Host` value: a DNS name, IPv4 or bracketed IPv6 address, then optionally `:` and 1-5 digits, nothing else."""
_ORIGIN_RE = re.compile(r"^(?P<scheme>https?)://(?P<authority>[^/?#]*)$")


def host_allowed(value: str, patterns: Collection[str]) -> bool:
    """Whether `value` (a `Host`, or an `Origin` when the patterns carry a scheme) is one of `patterns`.

    The value is parsed strictly first: a name, an optional port of digits and nothing more (no userinfo,
    path or second colon), so `localhost:80@evil.com` or `127.0.0.1:evil.com` never match a `localhost:*`
    pattern. A pattern `name:*` matches `name` with any port; a pattern without a port, only no port.
    """
    value = value.lower()
    prefix = ""
    origin = _ORIGIN_RE.match(value)
    if origin is not None:
        prefix, value = f"{origin['scheme']}://", origin["authority"]
    authority = _AUTHORITY_RE.match(value)
    if authority is None:
        return False
    name, port = authority["name"], authority["port"]
    exact = f"{prefix}{name}" if port is None else f"{prefix}{name}:{port}"
    return exact in patterns or (port is not None and f"{prefix}{name}:*" in patterns)


def _error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


class Guard:
    """Host/Origin checks, the failed-authentication throttle, bearer keys and rate limits (see the module docstring).

    Paths in `public_paths` (`/healthz`) pass the Host/Origin check only; every other path needs a key.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        limiter: RateLimiter,
        org_limiter: RateLimiter | None = None,
        failures: RateLimiter | None = None,
        allowed_hosts: Collection[str] = (),
        public_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.limiter = limiter
        self.org_limiter = org_limiter or RateLimiter(0)
        self.failures = failures or RateLimiter(0)
        self.public_paths = frozenset(public_paths)
        self.host_patterns = allowed_host_patterns(allowed_hosts)
        self.origin_patterns = allowed_origins(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._check_origin(headers)
        if refusal is None and scope["path"] in self.public_paths:
            await self.app(scope, receive, send)
            return
        if refusal is None:
            client = scope.get("client")
            refusal, user = await self._authenticate(headers, client[0] if client else "unknown")
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

    async def _authenticate(
        self, headers: Headers, address: str
    ) -> tuple[JSONResponse | None, AuthenticatedUser | None]:
        raw = headers.get("authorization")
        if not raw:
            return _unauthorized(
                None, "Send Authorization: Bearer tga_... with a key from `trackagoat-mcp keys create`."
            ), None
        throttled = self.failures.wait(address)
        if throttled is not None:
            return _too_many(
                "auth_throttled",
                f"Address {address!r} sent {self.failures.limit} invalid keys in the last minute; check the key "
                f"and retry in {throttled} s.",
                throttled,
            ), None
        scheme, _, key = raw.partition(" ")
        key = key.strip()
        well_formed = scheme.lower() == "bearer" and key.startswith("tga_") and len(key) == 68
        access = await self.verifier.verify_token(key) if well_formed else None
        if access is None:
            self.failures.hit(address)
            description = (
                "This API key is not valid or has been revoked; create one with `trackagoat-mcp keys create`."
                if well_formed
                else "The Authorization header must be 'Bearer tga_' followed by 64 lowercase hex digits."
            )
            return _unauthorized("invalid_token", description), None
        org = access.client_id.partition(":")[0]
        key_wait, org_wait = self.limiter.wait(access.client_id), self.org_limiter.wait(org)
        if key_wait is not None:
            return _too_many(
                "rate_limited",
                f"This key made {self.limiter.limit} requests in the last minute, its limit; retry in {key_wait} s.",
                key_wait,
            ), None
        if org_wait is not None:
            return _too_many(
                "rate_limited",
                f"The keys of organization {org!r} made {self.org_limiter.limit} requests in the last minute, its "
                f"limit (TRACKAGOAT_ORG_RATE_LIMIT_PER_MINUTE); retry in {org_wait} s.",
                org_wait,
            ), None
        self.limiter.hit(access.client_id)
        self.org_limiter.hit(org)
        return None, AuthenticatedUser(access)


def _too_many(error: str, description: str, retry_after: int) -> JSONResponse:
    return _error(429, error, description, headers={"Retry-After": str(retry_after)})


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
