"""Walking the server's surface generically: which calls to make with one organization's ids, and how to read
what comes back. Shared by the isolation walk and the injection-hygiene suite."""

from __future__ import annotations

import json
import re
from typing import Any

from mcp.types import CallToolResult, Tool

from tests.reliability.hostile_values import ENTITY_KINDS, IdPool, canonical_arguments, kind_of
from tests.reliability.worlds import Program

NOTE_KINDS = (*ENTITY_KINDS, "payout_structure", "payout_method", "payout_accrual", "payout_payment", "goal")
"""Values tried for a free-text `entity_type` argument (tools refuse the ones they do not serve)."""
FENCE_TAG = re.compile(r"untrusted-data-[0-9a-f]+")


def rendered(result: CallToolResult) -> str:
    """Everything a client receives for a tool call: the text blocks and the structured content."""
    texts = " ".join(getattr(c, "text", "") for c in result.content)
    return texts + json.dumps(result.structured_content, ensure_ascii=False)


def masked(text: str, *ids: str) -> str:
    """`text` with each of `ids` and every fence's random tag replaced by placeholders, for comparing answers."""
    for value in ids:
        text = text.replace(value, "<ID>")
    return FENCE_TAG.sub("untrusted-data-X", text)


def enum_values(prop: dict[str, Any], schema: dict[str, Any]) -> list[Any]:
    """The values an argument's schema enumerates (through `anyOf` and `$ref`), or [] if it is not an enum."""
    for branch in [prop, *prop.get("anyOf", [])]:
        ref = branch.get("$ref")
        node = schema.get("$defs", {}).get(ref.rsplit("/", 1)[-1], {}) if ref else branch
        if "enum" in node:
            return list(node["enum"])
    return []


def is_read(tool: Tool) -> bool:
    """Whether the tool says it only reads (`readOnlyHint`)."""
    return bool(tool.annotations and tool.annotations.read_only_hint)


def own_pool(program: Program) -> IdPool:
    """An `IdPool` of `program`'s ids (no foreign ones)."""
    return IdPool({kind: [str(value)] for kind, value in program.ids.items()}, {})


def read_calls(tool: Tool, program: Program) -> list[dict[str, Any]]:
    """Argument sets for a read tool, all with `program`'s ids: the required arguments alone, plus each optional
    id argument, plus each value of each enum argument (`entity_type` values move `entity_id` along)."""
    schema = tool.input_schema
    props: dict[str, Any] = schema.get("properties", {})
    base = canonical_arguments(schema, own_pool(program))
    calls = [base]
    for name in props:
        kind = kind_of(name)
        if name.endswith("_id") and name not in base and kind in program.ids:
            calls.append({**base, name: str(program[kind])})
        for value in enum_values(props[name], schema):
            args = {**base, name: value}
            if name == "entity_type" and value in program.ids and "entity_id" in props:
                args["entity_id"] = str(program[value])
            calls.append(args)
    return calls
