"""Another organization's ids behave exactly like ids that do not exist, for every id argument of every tool.

The cases are generated from `tools/list`: every argument that carries an id (names ending in `_id`, lists
named `*_ids`, and the `item_id`s inside item lists such as `set_campaign_items.add`) is tried with a real
entity of the other organization and with a random UUID. A new tool or argument is covered automatically;
one whose other required arguments this file cannot fill makes the test fail until it learns them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from mcp import Client

from tests.conftest import make_server
from tests.server.conftest import (
    ADMIN_TOOLSETS,
    ALL_TOOLS,
    World,
    acme_and_globex_worlds,
    dump_store,
    mask,
    text_of,
)

ENTITY_KINDS = ("project", "creator", "video", "campaign")
OTHER_KINDS = ("goal", "alert")
"""Id arguments that are not entity_type entities (`key_id` is the API key's)."""


@dataclass(frozen=True)
class Case:
    tool: str
    arg: str
    kind: str
    build: Any  # (id string) -> arguments

    def __str__(self) -> str:
        return f"{self.tool}({self.arg}: {self.kind})"


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(root["$defs"][ref.rsplit("/", 1)[1]], root)
    return schema


def _variants(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema, root)
    return [_resolve(s, root) for s in schema.get("anyOf", [schema])]


def _kind_of(arg: str) -> list[str]:
    stem = arg.removesuffix("_ids").removesuffix("_id")
    if stem == "entity":
        return list(ENTITY_KINDS)
    if stem == "key":
        return ["api_key"]
    if stem in OTHER_KINDS:
        return [stem]
    if stem in ("structure", "method", "accrual", "payment"):
        return [stem]
    assert stem in ENTITY_KINDS, f"an id argument of unknown kind: {arg}"
    return [stem]


def _filler(tool: str, own: World, entity_kind: str) -> dict[str, Any]:
    """Valid values, from the caller's own organization, for arguments other than the id under test."""
    return {
        "project_id": str(own.project),
        "creator_id": str(own.creator),
        "video_id": str(own.pending_video),
        "campaign_id": str(own.campaign),
        "entity_type": entity_kind,
        "name": "renamed by the other organization",
        "handles": ["intruder"],
        "urls": ["https://www.tiktok.com/@intruder/video/7300000000000000000"],
        "readme": "written by the other organization",
        "patch": {"written_by": "the other organization"},
        "description": "instructions from the other organization",
        "structure_id": str(own.of("structure")),
        "method_id": str(own.of("method")),
        "accrual_id": str(own.of("accrual")),
        "payment_id": str(own.of("payment")),
        "idempotency_key": "isolation-key",
        "auto_apply_outstanding": True,
        "creator_ids": [str(own.creator)],
        "amount_cents": 100,
        "criteria_type": "recurring",
        "kind": "views_over_time",
        "reason": "written by the other organization",
        "action": {
            "update_payout_accrual": "void",
            "manage_api_keys": "revoke",
            "review_videos": "include",
            "set_video_tracking": "list_excluded" if entity_kind == "project" else "exclude",
        }.get(tool),
        "goal_id": str(own.of("goal")),
        "metric": "posts",
        "period": "weekly",
        "target_value": 5,
    }


# Optional arguments without which a call is refused before any id is looked up (nothing to do at all).
OPTIONAL_NEEDED = {"create_payout_payment": ("auto_apply_outstanding",)}


def generate_cases(tools: list[Any], own: World) -> list[Case]:
    cases: list[Case] = []
    for tool in tools:
        schema = tool.input_schema
        properties = schema.get("properties", {})
        required = schema.get("required", [])

        def base(kind: str, skip: str, _tool: Any = tool, _required: list[str] = required) -> dict[str, Any]:
            fill = _filler(_tool.name, own, kind)
            args = {}
            for name in [*_required, *OPTIONAL_NEEDED.get(_tool.name, ())]:
                if name == skip:
                    continue
                assert name in fill and fill[name] is not None, f"{_tool.name}: no valid value known for {name!r}"
                args[name] = fill[name]
            return args

        for arg, prop in properties.items():
            variants = _variants(prop, schema)
            if arg.endswith("_id"):
                kinds = _kind_of(arg)
                entity_type = properties.get("entity_type")
                if entity_type is not None:
                    enum = next((v["enum"] for v in _variants(entity_type, schema) if "enum" in v), None)
                    kinds = [k for k in kinds if enum is None or k in enum]
                for kind in kinds:
                    cases.append(Case(tool.name, arg, kind, lambda value, k=kind, a=arg, b=base: {**b(k, a), a: value}))
            elif arg.endswith("_ids"):
                (kind,) = _kind_of(arg)
                cases.append(Case(tool.name, arg, kind, lambda value, k=kind, a=arg, b=base: {**b(k, a), a: [value]}))
            else:
                for v in variants:
                    items = _resolve(v.get("items", {}), schema) if v.get("type") == "array" else {}
                    item_props = items.get("properties", {})
                    if {"item_type", "item_id"} <= set(item_props):
                        enum = next(s["enum"] for s in _variants(item_props["item_type"], schema) if "enum" in s)
                        for kind in enum:
                            cases.append(
                                Case(
                                    tool.name,
                                    f"{arg}[].item_id",
                                    kind,
                                    lambda value, k=kind, a=arg, b=base: {
                                        **b(k, a),
                                        a: [{"item_type": k, "item_id": value}],
                                    },
                                )
                            )
    return cases


ID_TOOLS = sorted(
    ALL_TOOLS
    - {"list_payout_methods", "create_payout_method", "run_accruals"}
    - {"get_schema", "list_projects", "create_project"}
)


async def _seeded_client_cases(db: Any, clock: Any) -> tuple[World, World, Any]:
    victim, own = await acme_and_globex_worlds(db, clock)
    return victim, own, make_server(db, clock, own.caller, toolsets=ADMIN_TOOLSETS)


async def test_isolation_cases_cover_every_tool_and_id_argument_the_server_lists(db, clock):
    _, own, server = await _seeded_client_cases(db, clock)
    async with Client(server) as client:
        cases = generate_cases((await client.list_tools()).tools, own)

    assert {c.tool for c in cases} == set(ID_TOOLS)
    covered = {(c.tool, c.arg, c.kind) for c in cases}
    assert {
        ("get_creator", "creator_id", "creator"),
        ("get_video", "video_id", "video"),
        ("list_videos", "campaign_id", "campaign"),
        ("review_videos", "video_ids", "video"),
        ("set_campaign_items", "add[].item_id", "video"),
        ("set_campaign_items", "remove[].item_id", "campaign"),
        ("manage_api_keys", "key_id", "api_key"),
        ("add_creators", "project_id", "project"),
    } <= covered
    for tool in ("get_agent_context", "write_readme", "write_metadata", "set_description"):
        assert {k for t, a, k in covered if t == tool and a == "entity_id"} == set(ENTITY_KINDS), tool


@pytest.mark.parametrize("tool", ID_TOOLS)
async def test_a_foreign_id_behaves_exactly_like_a_missing_one(db, clock, tool):
    victim, own, server = await _seeded_client_cases(db, clock)
    failures: list[str] = []

    async with Client(server) as client:
        cases = generate_cases([t for t in (await client.list_tools()).tools if t.name == tool], own)
        assert cases, f"{tool} is listed with no id argument"
        for case in cases:
            foreign, missing = str(victim.of(case.kind)), str(uuid.uuid4())
            removing = case.arg.startswith("remove[]")
            # Removing a non-member succeeds and touches the caller's own campaign; leave that row out of the diff.
            skip = frozenset({own.campaign}) if removing else frozenset()
            before = await dump_store(db, skip_ids=skip)
            got_foreign = await client.call_tool(case.tool, case.build(foreign))
            got_missing = await client.call_tool(case.tool, case.build(missing))
            after = await dump_store(db, skip_ids=skip)

            foreign_text, missing_text = mask(text_of(got_foreign), foreign), mask(text_of(got_missing), missing)
            if removing:
                if got_foreign.is_error or got_missing.is_error:
                    failures.append(f"{case}: removing a non-member should change nothing, got {foreign_text[:200]}")
            elif not (got_foreign.is_error and got_missing.is_error):
                failures.append(
                    f"{case}: foreign is_error={got_foreign.is_error}, missing is_error={got_missing.is_error}: "
                    f"{foreign_text[:200]}"
                )
            elif f"Error executing tool {tool}: [not_found] " not in missing_text:
                failures.append(f"{case}: a missing id is not a not_found error: {missing_text[:300]}")
            if foreign_text != missing_text:
                failures.append(
                    f"{case}: texts differ:\n  foreign: {foreign_text[:300]}\n  missing: {missing_text[:300]}"
                )
            if after != before:
                failures.append(f"{case}: the store changed")

    assert not failures, "\n".join(failures)


async def test_foreign_ids_are_not_found_by_name_in_the_error(db, clock):
    victim, own = await acme_and_globex_worlds(db, clock)
    async with Client(make_server(db, clock, own.caller)) as client:
        result = await client.call_tool("get_creator", {"creator_id": str(victim.creator)})

    text = text_of(result)
    assert result.is_error
    assert f"[not_found] No creator with id '{victim.creator}' exists in this organization" in text
    assert "acme" not in text.lower()
