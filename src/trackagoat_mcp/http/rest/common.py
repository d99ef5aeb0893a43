"""Argument types every resource module shares: strict query and body models, ids, pages, the write helpers.

Query and body models forbid unknown fields, so a misspelled parameter is a 400 naming it (`invalid_query` /
`invalid_body`), the same strictness as the MCP tools' arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from trackagoat_mcp.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT
from trackagoat_mcp.errors import InvalidInput
from trackagoat_mcp.http.rest.envelope import ErrorEnvelope

__all__ = ["ERRORS", "Body", "Id", "ListQuery", "Query", "at_least_one"]

Id = Annotated[str, Path(min_length=1, max_length=64, description="The record's id (a UUID).")]


class Query(BaseModel):
    """Query parameters: unknown names are refused."""

    model_config = ConfigDict(extra="forbid")


class ListQuery(Query):
    """A page of a list: `limit` rows (1-100, default 50) after `cursor` (a previous page's `meta.nextCursor`)."""

    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
    cursor: Annotated[str | None, Field(max_length=2000, description="meta.nextCursor of the previous page.")] = None


class Body(BaseModel):
    """A JSON request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


def at_least_one(body: BaseModel, what: str) -> dict[str, Any]:
    """The fields the client actually sent; refuses an empty PATCH with a sentence listing the fields it may send."""
    sent = body.model_dump(exclude_unset=True)
    if not sent:
        fields = ", ".join(type(body).model_fields)
        raise InvalidInput(f"This {what} update changes nothing; send at least one of: {fields}.", code="invalid_body")
    return sent


_ERROR = {"model": ErrorEnvelope}
ERRORS: Mapping[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": "invalid_query, invalid_body or invalid_params (and specific codes)"},
    401: {**_ERROR, "description": "invalid_api_key"},
    403: {**_ERROR, "description": "insufficient_scope (meta required, granted) or forbidden_origin"},
    404: {**_ERROR, "description": "not_found (also for another organization's ids)"},
    405: {**_ERROR, "description": "method_not_allowed"},
    409: {**_ERROR, "description": "a conflict with the current state (meta.code names it)"},
    413: {**_ERROR, "description": "payload_too_large"},
    421: {**_ERROR, "description": "misdirected_request (Host not served here)"},
    429: {**_ERROR, "description": "rate_limit_exceeded (Retry-After, meta.retryAfter)"},
    500: {**_ERROR, "description": "internal_error"},
    502: {**_ERROR, "description": "TikTok failed (upstream codes)"},
    503: {**_ERROR, "description": "store_unavailable or rate_limited upstream"},
}
"""The error answers every route may give, for the OpenAPI document."""
