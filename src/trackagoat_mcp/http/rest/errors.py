"""How every failure of `/api/v1` becomes an envelope with a status and `meta.code` (never a traceback).

| raised                                   | status | meta.code                                                  |
|------------------------------------------|--------|------------------------------------------------------------|
| request validation (FastAPI/pydantic)    | 400    | invalid_query, invalid_body or invalid_params (where)      |
| InvalidInput                             | 400    | its own code (invalid_cursor, invalid_url, …); a generic   |
|                                          |        | one reads invalid_query on GET, invalid_body otherwise     |
| Forbidden                                | 403    | insufficient_scope, with `required` and `granted`          |
| NotFound, unknown route                  | 404    | not_found                                                  |
| method not allowed                       | 405    | method_not_allowed                                         |
| Conflict                                 | 409    | its code (handle_taken, campaign_cycle, idempotency_…, …)  |
| RateLimited (TikTok)                     | 503    | rate_limited, with `retryAfter` when known                 |
| other UpstreamError (TikTok failed)      | 502    | its code (blocked, unavailable, redirect_refused, …)       |
| StoreUnavailable                         | 503    | store_unavailable                                          |
| anything else                            | 500    | internal_error (logged with its traceback, never sent)     |
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from trackagoat_mcp.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    StoreUnavailable,
    TrackagoatError,
    UpstreamError,
)
from trackagoat_mcp.http.rest.envelope import failure

__all__ = ["install_error_handlers", "status_of"]

logger = logging.getLogger(__name__)

_WHERE = {"query": "invalid_query", "body": "invalid_body", "path": "invalid_params", "header": "invalid_params"}


def status_of(exc: TrackagoatError) -> int:
    """The HTTP status of a domain error."""
    if isinstance(exc, InvalidInput):
        return 400
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, StoreUnavailable | RateLimited):
        return 503
    if isinstance(exc, UpstreamError):
        return 502
    return 500


def domain_failure(request: Request, exc: TrackagoatError) -> Response:
    """The envelope of a domain error (see the module docstring)."""
    status = status_of(exc)
    meta: dict[str, Any] = {}
    code = exc.code
    if isinstance(exc, InvalidInput) and code == "invalid_input":
        code = "invalid_query" if request.method == "GET" else "invalid_body"
    if isinstance(exc, Forbidden):
        meta = {"required": exc.required, "granted": exc.granted}
    headers = None
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        meta["retryAfter"] = max(1, round(exc.retry_after))
        headers = {"Retry-After": str(meta["retryAfter"])}
    if status == 500:
        logger.error("REST %s %s failed with %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return failure(500, "internal_error", "The server failed to answer this request; try again later.")
    return failure(status, code, exc.message, headers=headers, **meta)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc[1:]) or str(loc[0])


def validation_failure(_request: Request, exc: RequestValidationError) -> Response:
    """400 naming each bad parameter or field, coded by where it was (query, body, path)."""
    errors = list(exc.errors())
    where = str(errors[0]["loc"][0]) if errors and errors[0].get("loc") else "body"
    parts = []
    for error in errors[:10]:
        loc = tuple(error.get("loc", ()))
        name = _field(loc) if loc else "the body"
        if error.get("type") == "missing" and loc and loc[0] == "header":
            parts.append(f"the header {name!r} is required")
        elif error.get("type") == "extra_forbidden":
            parts.append(f"{loc[0] if loc else 'body'} field {name!r} is not accepted (remove it)")
        else:
            parts.append(f"{name!r}: {error.get('msg', 'invalid')}")
    place = {
        "query": "query parameters are",
        "body": "request body is",
        "path": "path parameters are",
        "header": "headers are",
    }.get(where, "request is")
    message = f"The {place} not valid: " + "; ".join(parts) + ". Fix them as described and send the request again."
    return failure(400, _WHERE.get(where, "invalid_body"), message)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def http_failure(request: Request, exc: HTTPException) -> Response:
    """Starlette's own refusals (unknown route, wrong method, a malformed JSON body) as envelopes."""
    if exc.status_code == 404:
        return failure(404, "not_found", f"There is no route {request.url.path!r}; see /api/v1/openapi.json.")
    if exc.status_code == 405:
        return failure(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {request.url.path!r}; see /api/v1/openapi.json for its methods.",
            headers={"Allow": ", ".join(_allowed_methods(request))},
        )
    return failure(exc.status_code, "http_error", f"{exc.detail}.")


def unexpected_failure(request: Request, exc: Exception) -> Response:
    """500 `internal_error`; the traceback goes to the log only."""
    logger.exception("REST %s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
    return failure(500, "internal_error", "The server failed to answer this request; try again later.")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers of the module docstring on `app`."""
    app.add_exception_handler(TrackagoatError, domain_failure)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_failure)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, http_failure)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected_failure)
