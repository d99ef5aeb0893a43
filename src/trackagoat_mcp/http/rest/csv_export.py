"""`?format=csv` of a list route: every page's rows as one CSV, columns in the record model's field order.

Values are written as the JSON envelope carries them (ISO 8601 times, integer cents); nested objects and lists are
their compact JSON text. The export reads page after page of the same domain list (the route asks for 100 rows
each) up to `CSV_MAX_ROWS`, and refuses (400) a filter matching more, so one request stays bounded.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from trackagoat_mcp.domain.pagination import Page
from trackagoat_mcp.errors import InvalidInput

__all__ = ["CSV_MAX_ROWS", "CSV_RESPONSE", "csv_response"]

CSV_MAX_ROWS = 10_000
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "With ?format=csv: the rows as CSV."}
}


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else value


async def csv_response(
    name: str, model: type[BaseModel], page: Callable[[str | None], Awaitable[Page[Any]]]
) -> Response:
    """All rows of the list `page(cursor)` reads, as `text/csv` named `name.csv`."""
    out = io.StringIO()
    columns = [field.alias or key for key, field in model.model_fields.items()]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    cursor: str | None = None
    rows = 0
    while True:
        current = await page(cursor)
        for item in current.items:
            writer.writerow({k: _cell(v) for k, v in item.model_dump(mode="json", by_alias=True).items()})
        rows += len(current.items)
        if rows > CSV_MAX_ROWS:
            raise InvalidInput(
                f"This export matches more than {CSV_MAX_ROWS:,} rows; narrow it (project_id, creator_id, dates).",
                code="invalid_query",
            )
        cursor = current.next_cursor
        if cursor is None:
            break
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
