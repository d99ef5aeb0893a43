"""Client-side validation of tool results: output schemas with nullable fields as type lists against `anyOf`.

The official SDK client validates every `structuredContent` against the tool's `outputSchema` with `jsonschema`
(a compiled validator per tool, `iter_errors` + `best_match`); this repeats exactly that for a `get_creator` result
and a default page of 50 `list_creators` items, each with its nullable fields null (never scraped) and filled
(scraped), and prints the CPU time per result of both forms of the same schema, measured in alternation.

    .venv/bin/python bench/output_schemas.py             # 40 rounds
    .venv/bin/python bench/output_schemas.py --rounds 10 # quick
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from jsonschema import exceptions
from jsonschema.validators import validator_for
from mcp.server.mcpserver.tools import Tool
from referencing import Registry

from trackagoat_mcp.server.tool_schemas import nullable_as_type_list
from trackagoat_mcp.server.tools import tracking

UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
WHEN = "2026-01-01T00:00:00Z"


def pydantic_output_schema(name: str) -> dict[str, Any]:
    """The output schema pydantic writes for the tool (nullable fields as `anyOf`), before our rewriting."""
    spec = next(spec for spec in tracking.group.specs if spec.name == name)
    schema = Tool.from_function(spec.fn, name=name).fn_metadata.output_schema
    assert schema is not None
    return schema


def sdk_check(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """What `ClientSession` does with each result: one compiled validator, `best_match(iter_errors(...))`."""
    validator = validator_for(schema)(schema, registry=Registry())
    return lambda document: exceptions.best_match(validator.iter_errors(document))


def creator(scraped: bool) -> dict[str, Any]:
    return {
        "id": UUID,
        "project_id": UUID,
        "tiktok_handle": "someone",
        "tiktok_user_id": "6800000000000000000" if scraped else None,
        "sec_uid": "MS4wLjABAAAA" if scraped else None,
        "display_name": "Some One" if scraped else None,
        "bio": "bio" if scraped else None,
        "avatar_url": "https://example.invalid/a.jpg" if scraped else None,
        "description": None,
        "readme": None,
        "metadata": {},
        "tracking_mode": "auto",
        "tracking_start_date": "2026-01-01",
        "follower_count": 1200 if scraped else None,
        "total_likes_count": 34000 if scraped else None,
        "video_count": 12 if scraped else None,
        "last_scraped_at": WHEN if scraped else None,
        "scrape_state": "ok",
        "is_active": True,
        "disabled_reason": None,
        "created_at": WHEN,
        "updated_at": WHEN,
    }


def summary(full: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "project_id", "tiktok_handle", "display_name", "tracking_mode", "follower_count")
    return {k: full[k] for k in (*keep, "scrape_state", "is_active", "last_scraped_at")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    cases = []
    for scraped in (False, True):
        state = "scraped" if scraped else "never scraped"
        cases.append((f"get_creator, {state}", "get_creator", creator(scraped), 200))
        page = {"items": [summary(creator(scraped))] * 50, "next_cursor": None}
        cases.append((f"list_creators page of 50, {state}", "list_creators", page, 10))
    print(f"{'result':<38} {'type list ms':>12} {'anyOf ms':>9} {'ratio':>6}")
    for label, tool, document, repeat in cases:
        schema = pydantic_output_schema(tool)
        checks = {"type list": sdk_check(nullable_as_type_list(schema)), "anyOf": sdk_check(schema)}
        assert all(check(document) is None for check in checks.values()), label
        best = dict.fromkeys(checks, float("inf"))
        for _ in range(args.rounds):
            for form, check in checks.items():
                start = time.process_time()
                for _ in range(repeat):
                    check(document)
                best[form] = min(best[form], (time.process_time() - start) / repeat)
        ratio = best["anyOf"] / best["type list"]
        print(f"{label:<38} {best['type list'] * 1e3:>12.3f} {best['anyOf'] * 1e3:>9.3f} {ratio:>5.2f}x")


if __name__ == "__main__":
    main()
