"""The JSON schemas a tool publishes: input schemas every client family reads, and compact output schemas.

Input schemas (`portable_input_schema`) are read by models through many converters, and several of them map JSON
Schema onto a dialect with one `type` per value (Gemini's OpenAPI subset, through LangChain for instance): they
raise on `null` inside `enum` and read `"type": ["integer", "null"]` as a string. So an input schema here:

* never has a list as `type` and never has `null` inside `enum`;
* leaves an optional argument whose default is null as its plain type, not in `required`, with no null branch:
  omitting it says the same, and the server still accepts an explicit null (its pydantic model is unchanged);
* keeps the null branch, as pydantic's `anyOf: [{type: T}, {type: null}]`, only where null means something omission
  does not: a required argument (`creator_id` null = an ad-hoc payment) or one whose default is not null
  (`is_active` default true, null = all);
* has `$ref`s replaced by the `$defs` they name, for clients that do not resolve references;
* has no pydantic `title` (it repeats the name) and no `"default": null` (absence from `required` says it);
* publishes no length bounds on ids, cursors and tokens (arguments named `*_id`, `*_ids`, `cursor`, `*_cursor`,
  `*_token`): they are
  opaque values a model copies from earlier results, the bounds tell it nothing, and on every id of every tool they
  cost about a twentieth of the catalogue a model reads each session. The server still enforces them (the
  pydantic model is unchanged), refusing an over-long id as `[invalid_input]`.

Every argument must declare a type (an argument of any JSON value converts to a string in those dialects): give a
free-form argument its type with pydantic's `WithJsonSchema`, e.g. `{"type": "object"}` for a metadata patch.

Output schemas are published with nullable fields written as `"type": ["string", "null"]` instead of pydantic's
`anyOf` of two schemas (`nullable_as_type_list`); they accept exactly the same documents. No model reads output
schemas, but clients validate every result against them, and the official SDK client does so with `jsonschema`,
which pays for each `anyOf` branch it tries, so a result full of nulls validates markedly faster against type lists
(figures: `bench/README.md`, "Figures behind rules in the code"). The MCP Inspector counts each type list as a
portability warning; they are kept for that price.
"""

from __future__ import annotations

from typing import Any

__all__ = ["nullable_as_type_list", "portable_input_schema"]

_NAME_MAPS = frozenset({"properties", "$defs", "patternProperties"})
"""Schema keywords whose values map names (not keywords) to schemas."""

_NULL = {"type": "null"}


def portable_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (pydantic's JSON schema of a tool's arguments) in the portable form of the module docstring."""
    defs = schema.get("$defs", {})
    inlined = _inline_refs({key: value for key, value in schema.items() if key != "$defs"}, defs, ())
    if _has_ref(inlined):
        inlined["$defs"] = defs  # a recursive model: its remaining references must still resolve
    result = _portable(inlined)
    assert isinstance(result, dict)
    return result


def _inline_refs(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    """`node` with each local `$ref` replaced by its definition, merged with the ref's own keywords (which win); a
    reference inside the definition it names (a recursive model) is left as it is."""
    if isinstance(node, list):
        return [_inline_refs(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    rest = {key: _inline_refs(value, defs, seen) for key, value in node.items() if key != "$ref"}
    ref = node.get("$ref")
    name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else None
    if name in defs and name not in seen:
        return {**_inline_refs(defs[name], defs, (*seen, name)), **rest}
    return rest if ref is None else {"$ref": ref, **rest}


def _has_ref(node: Any) -> bool:
    if isinstance(node, list):
        return any(_has_ref(item) for item in node)
    return isinstance(node, dict) and ("$ref" in node or any(_has_ref(value) for value in node.values()))


def _portable(node: Any, names: bool = False) -> Any:
    if isinstance(node, list):
        return [_portable(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {name: _portable(value) for name, value in node.items()}
    node = _null_enum_as_branch(node)
    required = set(node.get("required", [])) if isinstance(node.get("properties"), dict) else set()
    out: dict[str, Any] = {}
    for key, value in node.items():
        if (key == "title" and isinstance(value, str)) or (key == "default" and value is None):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {
                name: _portable(_published_property(name, prop, name in required)) for name, prop in value.items()
            }
        else:
            out[key] = _portable(value, names=key in _NAME_MAPS)
    return out


def _published_property(name: str, prop: Any, required: bool) -> Any:
    """One argument's schema as published: optional ones lose a meaningless null branch, opaque ones their bounds."""
    if not required:
        prop = _without_null_branch(_null_enum_as_branch(prop))
    return _without_length_bounds(prop) if _is_opaque(name) else prop


def _is_opaque(name: str) -> bool:
    """Ids, cursors and tokens: values a model copies from earlier results, never composes."""
    return name.endswith(("_id", "_ids", "_cursor", "_token")) or name == "cursor"


def _without_length_bounds(node: Any) -> Any:
    """`node` without `minLength`/`maxLength`, also in its list items and `anyOf` branches."""
    if isinstance(node, list):
        return [_without_length_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _without_length_bounds(value) if key in {"items", "anyOf"} else value
        for key, value in node.items()
        if key not in {"minLength", "maxLength"}
    }


_ENUM_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _null_enum_as_branch(node: Any) -> Any:
    """`{"enum": [..., null]}` (pydantic's `Literal[..., None]`) as an `anyOf` of the other members and null, the
    members' JSON type declared when they share one."""
    if not isinstance(node, dict) or not isinstance(node.get("enum"), list) or None not in node["enum"]:
        return node
    members = [member for member in node["enum"] if member is not None]
    choice: dict[str, Any] = {"enum": members}
    if len(kinds := {_ENUM_TYPES.get(type(member)) for member in members}) == 1 and None not in kinds:
        choice["type"] = kinds.pop()
    rest = {key: value for key, value in node.items() if key not in {"enum", "type"}}
    return {**rest, "anyOf": [choice, _NULL]}


def _without_null_branch(prop: Any) -> Any:
    """An optional property without its null branch when its default is null (absent or explicit): null then says
    what omitting the argument says. A property whose default is not null keeps it (null means something else)."""
    if not isinstance(prop, dict) or prop.get("default") is not None:
        return prop
    branches = prop.get("anyOf")
    if not isinstance(branches, list) or _NULL not in branches:
        return prop
    others = [branch for branch in branches if branch != _NULL]
    rest = {key: value for key, value in prop.items() if key not in {"anyOf", "default"}}
    if len(others) == 1 and isinstance(others[0], dict):
        return {**others[0], **rest}
    return {**rest, "anyOf": others}


# Keywords that only constrain values of their own type, so adding "null" to `type` leaves them meaning the same.
_TYPE_SPECIFIC = frozenset(
    {
        "type",
        "format",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "items",
        "minItems",
        "maxItems",
        "additionalProperties",
    }
)


def nullable_as_type_list(schema: Any) -> Any:
    """An equivalent JSON schema with every `anyOf: [{type: T, ...}, {type: null}]` written as `type: [T, "null"]`.

    Only branches whose keywords all apply to one type are merged (an `enum` or a `$ref` branch is kept as it
    is), so the rewritten schema accepts exactly the documents the original did.
    """
    if isinstance(schema, list):
        return [nullable_as_type_list(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    node = {key: nullable_as_type_list(value) for key, value in schema.items()}
    branches = node.get("anyOf")
    if isinstance(branches, list) and len(branches) == 2 and _NULL in branches:
        other = branches[0] if branches[1] == _NULL else branches[1]
        if (
            isinstance(other, dict)
            and isinstance(other.get("type"), str)
            and other["type"] != "null"
            and set(other) <= _TYPE_SPECIFIC
            and not set(other) & (set(node) - {"anyOf"})
        ):
            rest = {key: value for key, value in node.items() if key != "anyOf"}
            return {**other, "type": [other["type"], "null"], **rest}
        if (
            isinstance(other, dict)
            and isinstance(other.get("enum"), list)
            and set(other) <= {"enum", "type"}
            and not set(other) & (set(node) - {"anyOf"})
        ):
            # An optional choice: the enum gains null (JSON Schema compares enum members with the instance).
            rest = {key: value for key, value in node.items() if key != "anyOf"}
            merged = {"enum": [*other["enum"], None], **rest}
            if isinstance(other.get("type"), str):
                merged["type"] = [other["type"], "null"]
            return merged
    return node
