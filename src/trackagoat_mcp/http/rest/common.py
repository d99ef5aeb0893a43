"""Argument types every resource module shares: strict query and body models, ids, pages, the write helpers.

Query and body models forbid unknown fields, so a misspelled parameter is a 400 naming it (`invalid_query` /
`invalid_body`), the same strictness as the MCP tools' arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from trackagoat_mcp.clock import EARLIEST_DAY, LATEST_DAY, check_instant
from trackagoat_mcp.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT
from trackagoat_mcp.domain.scope import Caller, get_org
from trackagoat_mcp.errors import InvalidInput
from trackagoat_mcp.http.rest.deps import RestState
from trackagoat_mcp.http.rest.envelope import ErrorEnvelope
from trackagoat_mcp.server.registry import unstorable_text

__all__ = ["ERRORS", "Body", "Day", "Id", "ListQuery", "Moment", "Patch", "Query", "at_least_one", "in_org_time"]

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso(pattern: re.Pattern[str], example: str) -> Any:
    """Accept only ISO 8601 text (pydantic alone would also read `0` as 1970-01-01, a Unix time)."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and pattern.match(value):
            return value
        raise ValueError(f"must be ISO 8601 text like {example!r}")

    return BeforeValidator(check)


def _in_calendar(value: date) -> date:
    """The calendar every date and time lies in, as at the MCP boundary (`clock.EARLIEST_DAY`..`LATEST_DAY`)."""
    if not EARLIEST_DAY <= (value.date() if isinstance(value, datetime) else value) <= LATEST_DAY:
        raise ValueError(f"must lie between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}")
    return value


Day = Annotated[date, _iso(_DAY, "2026-03-01"), AfterValidator(_in_calendar)]
"""A calendar day written YYYY-MM-DD, 1970-01-01 to 2100-12-31."""
Moment = Annotated[datetime, _iso(_MOMENT, "2026-03-01T12:00:00Z"), AfterValidator(_in_calendar)]
"""A time written in ISO 8601, 1970 to 2100; without an offset the route reads it in the organization's timezone
(`in_org_time`), as the MCP tools do."""


async def in_org_time(state: RestState, caller: Caller, value: datetime | None, name: str) -> datetime | None:
    """`value` as an aware UTC instant, a time without an offset read in the caller's organization's timezone."""
    if value is None:
        return None
    if value.tzinfo is not None:
        return check_instant(name, value, "UTC")
    async with state.db.read() as session:
        return check_instant(name, value, (await get_org(session, caller)).timezone)


Id = Annotated[str, Path(min_length=1, max_length=64, description="The record's id (a UUID).")]


def _storable(data: Any) -> Any:
    """Refuse text no store can hold (NUL, lone surrogates), as the MCP boundary does (`unstorable_text`)."""
    found = unstorable_text(data)
    if found is not None:
        where, what = found
        raise ValueError(f"{where or 'a value'} contains {what}, which cannot be stored; remove it")
    return data


class Query(BaseModel):
    """Query parameters: unknown names are refused, and so is text no store can hold."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        return _storable(data)


class ListQuery(Query):
    """A page of a list: `limit` rows (1-100, default 50) after `cursor` (a previous page's `meta.nextCursor`)."""

    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
    cursor: Annotated[str | None, Field(max_length=2000, description="meta.nextCursor of the previous page.")] = None


class Body(BaseModel):
    """A JSON request body: unknown fields are refused, and so is text no store can hold."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        return _storable(data)


class Patch(Body):
    """A PATCH body: unknown fields are refused, at least one field must be sent (`minProperties: 1`), and the
    fields named in `not_null` (published without `null`) refuse an explicit null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _refuse_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in cls.not_null:
                if name in data and data[name] is None:
                    raise ValueError(f"{name} cannot be null; leave it out to keep the current value")
        return data


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
