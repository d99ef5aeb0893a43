"""The REST envelope `{"data": …, "error": null|"sentence", "meta": null|{…}}` and the responses built from it.

Success: `data` holds the record (or the list of a page), `error` is null, `meta` is null or, for lists,
`{"nextCursor": …}` (null on the last page). Failure: `data` is null, `error` is one sentence naming the value and
what to do, and `meta.code` is the machine code (plus details such as `required`/`granted` or `retryAfter`).
Bodies are compact UTF-8 JSON, serialised once, so a stored response can be replayed byte for byte.
"""

from __future__ import annotations

import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from trackagoat_mcp.domain.pagination import Page

__all__ = [
    "Envelope",
    "ErrorEnvelope",
    "ErrorMeta",
    "ListMeta",
    "PageEnvelope",
    "body_of",
    "error_body",
    "failure",
    "json_response",
    "page_response",
    "success",
]

T = TypeVar("T")
JSON_TYPE = "application/json"


class ListMeta(BaseModel):
    """Pagination of a list: pass `nextCursor` back as `?cursor=` for the next page (null: this was the last)."""

    nextCursor: str | None


class ErrorMeta(BaseModel):
    """What went wrong, for programs: `code` always, more fields for some codes (`required`, `granted`, …)."""

    model_config = ConfigDict(extra="allow")

    code: str


class Envelope(BaseModel, Generic[T]):
    """A successful answer: the record in `data`."""

    data: T
    error: None = None
    meta: None = None


class PageEnvelope(BaseModel, Generic[T]):
    """A successful page of a list: the rows in `data`, the next cursor in `meta`."""

    data: list[T]
    error: None = None
    meta: ListMeta


class ErrorEnvelope(BaseModel):
    """A failed request: no data, one sentence in `error`, the machine code in `meta.code`."""

    data: None = None
    error: str = Field(description="One sentence naming the value at fault and what to do.")
    meta: ErrorMeta


def body_of(data: Any, meta: dict[str, Any] | None = None, error: str | None = None) -> str:
    """The compact JSON text of an envelope around `data` (a model, a list of models, or plain JSON values)."""
    return json.dumps({"data": _plain(data), "error": error, "meta": meta}, separators=(",", ":"), ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def json_response(text: str, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response carrying `text` exactly as given."""
    return Response(text.encode(), status_code=status_code, media_type=JSON_TYPE, headers=headers)


def success(data: Any, status_code: int = 200) -> Response:
    """An envelope with `data` and no meta."""
    return json_response(body_of(data), status_code)


def page_response(page: Page[Any]) -> Response:
    """A page of a list: its rows in `data`, `meta.nextCursor`."""
    return json_response(body_of(page.items, {"nextCursor": page.next_cursor}))


def error_body(code: str, message: str, **meta: Any) -> str:
    """The compact JSON text of a failure envelope."""
    return body_of(None, {"code": code, **meta}, message)


def failure(
    status_code: int, code: str, message: str, *, headers: dict[str, str] | None = None, **meta: Any
) -> Response:
    """A failure envelope with `meta.code` = `code` (and any further meta fields)."""
    return json_response(error_body(code, message, **meta), status_code, headers)
