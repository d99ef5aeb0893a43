"""Every tool result fits what a model reads in one go: at most `TEXT_BUDGET` characters of text.

Most results are bounded by their shape (a record, at most N rows of a known size). A page whose rows grow with
third-party text or with what a structure recorded (videos' captions, accruals' inputs) is shortened instead of
cut: `fit_page` runs the tool again with a smaller `limit` when its text is over the budget, so the page ends
on a whole row and its `next_cursor` continues right after it. A page is never emptied: one row always comes
back, however long.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from mcp.types import CallToolResult

__all__ = ["PAGED", "TEXT_BUDGET", "fit_page", "fit_page_of", "text_size"]

TEXT_BUDGET = 20_000
_MARGIN = 0.9
"""Aim a little under the budget when shortening: rows differ in size, and each retry costs a query."""

Adapter = Callable[..., Awaitable[CallToolResult]]

PAGED: ContextVar[bool] = ContextVar("trackagoat_paged", default=False)
"""True while a `fit_page` adapter runs: its page is shortened by rows (so `next_cursor` continues after the last
row shown), not by cutting the list in the text (`fencing.respond`'s last resort for results that cannot page)."""


def text_size(result: CallToolResult) -> int:
    """Characters of a result's text blocks (what most clients show the model)."""
    return sum(len(getattr(block, "text", "")) for block in result.content)


def fit_page_of(rows_key: str) -> Callable[[Adapter], Adapter]:
    """A decorator for a tool adapter taking `limit` and answering a page of rows in `rows_key`, so that its text
    fits `TEXT_BUDGET`.

    When a page's text is over the budget, the adapter runs again with a `limit` estimated from the row sizes
    (at least 1, fewer than the rows shown), until it fits or holds one row.
    """

    def decorate(adapter: Adapter) -> Adapter:
        if "limit" not in inspect.signature(adapter).parameters:
            raise TypeError(f"{adapter.__name__} takes no limit, so its pages cannot be shortened")

        @functools.wraps(adapter)
        async def wrapper(*args: Any, **kwargs: Any) -> CallToolResult:
            paged = PAGED.set(True)
            try:
                result = await adapter(*args, **kwargs)
                while True:
                    rows = len((result.structured_content or {}).get(rows_key, []))
                    size = text_size(result)
                    if size <= TEXT_BUDGET or rows <= 1 or result.is_error:
                        return result
                    kwargs["limit"] = max(1, min(rows - 1, int(rows * TEXT_BUDGET * _MARGIN / size)))
                    result = await adapter(*args, **kwargs)
            finally:
                PAGED.reset(paged)

        return wrapper

    return decorate


fit_page = fit_page_of("items")
"""`fit_page_of` for the usual page (`items`, `next_cursor`)."""
