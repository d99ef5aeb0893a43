"""A generated walk over every read tool and every resource, as organization A, while organization B holds
distinctive data: nothing B owns ever shows up, and B's ids behave exactly like ids that do not exist.

Organization B's program (see `worlds.seed_program`) uses names, handles and numbers found nowhere else (view
count 987654321, 876543219 followers, 765432109 cents, the `zqxj` prefix). The walk derives everything from
`tools/list` and `resources/templates/list`:

* which argument takes which entity comes from its name (`creator_id` -> creator, `structure_id` -> payout
  structure, `entity_type`/`entity_id` -> each entity kind, ...; see `hostile_values.kind_of`);
* every read tool is called with A's ids: once with its required arguments, once per optional id argument,
  once per value of each enum argument; none of the answers may contain any of B's ids, texts or numbers, and
  every read tool must answer at least one of those calls successfully (so the walk is not vacuous);
* every id argument of every tool is given B's id of its kind and then a random UUID: the two answers must be
  the same once the ids are masked, a required id of a read tool must give `[not_found]`, and a write tool's
  refused call must leave the store as it was (`worlds.StoreWatch`);
* every resource template is read with A's ids (no trace of B) and with B's ids (the same error as an unknown id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from mcp import Client, MCPError
from mcp.types import Tool

from tests.conftest import make_org, make_server
from tests.reliability.hostile_values import IdPool, canonical_arguments, kind_of
from tests.reliability.walking import NOTE_KINDS, enum_values, is_read, masked, read_calls, rendered
from tests.reliability.worlds import Program, StoreWatch, org_row_ids, seed_program
from tests.server.conftest import ADMIN_TOOLSETS
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database

UNREACHABLE_TIKTOK = "http://127.0.0.1:9"


@dataclass
class Walk:
    a: Program
    b: Program
    secrets: list[str]
    server: Any

    def pool(self) -> IdPool:
        return IdPool({k: [str(v)] for k, v in self.a.ids.items()}, {k: [str(v)] for k, v in self.b.ids.items()})

    def leaks(self, text: str, *echoed: str) -> list[str]:
        """B's tokens in `text`, except the `echoed` ones (an error may quote the id the caller sent)."""
        return [token for token in self.secrets if token in text and token not in echoed]


async def seed_walk(db: Database, clock: FrozenClock) -> Walk:
    a = await seed_program(db, clock, await make_org(db, clock, "Acme"), "acme")
    b = await seed_program(
        db,
        clock,
        await make_org(db, clock, "Zqxj Holdings"),
        "zqxj",
        views=987_654_321,
        followers=876_543_219,
        amount_cents=765_432_109,
    )
    secrets = sorted(
        ({*b.id_strings(), *await org_row_ids(db, b.caller.org_id), *b.texts, *map(str, b.numbers), "Zqxj Holdings"})
        - {*a.id_strings(), *a.texts, *map(str, a.numbers)}
    )
    server = make_server(db, clock, a.caller, toolsets=ADMIN_TOOLSETS, tiktok_base_url=UNREACHABLE_TIKTOK)
    return Walk(a, b, secrets, server)


@dataclass(frozen=True)
class IdCase:
    arg: str
    kind: str
    args: dict[str, Any]


def id_cases(tool: Tool, walk: Walk) -> list[IdCase]:
    """For each id argument: the call with A's valid arguments, the argument left for B's id or a random one."""
    schema = tool.input_schema
    props: dict[str, Any] = schema.get("properties", {})
    base = canonical_arguments(schema, walk.pool())
    cases = []
    for name in props:
        if not name.endswith(("_id", "_ids")):
            continue
        kind = kind_of(name)
        if kind is None:
            enum = enum_values(props.get("entity_type", {}), schema) or list(NOTE_KINDS)
            for entity in enum:
                stem = kind_of(f"{entity}_id")
                if stem in walk.b.ids:
                    cases.append(IdCase(name, stem, {**base, "entity_type": entity}))
        elif kind in walk.b.ids:
            cases.append(IdCase(name, kind, dict(base)))
    return cases


def with_id(case: IdCase, value: str) -> dict[str, Any]:
    return {**case.args, case.arg: [value] if case.arg.endswith("_ids") else value}


async def test_no_read_tool_shows_organization_a_anything_of_organization_b(db, clock):
    walk = await seed_walk(db, clock)
    problems: list[str] = []
    async with Client(walk.server) as client:
        tools = [t for t in (await client.list_tools()).tools if is_read(t)]
        assert tools
        for tool in tools:
            successes = 0
            for args in read_calls(tool, walk.a):
                result = await client.call_tool(tool.name, args)
                successes += not result.is_error
                leaked = walk.leaks(rendered(result))
                if leaked:
                    problems.append(f"{tool.name}({args}) shows B's {leaked}")
            if not successes:
                problems.append(f"{tool.name}: no call with A's ids succeeded, so the walk proves nothing for it")

    assert not problems, "\n".join(problems)


async def test_b_ids_in_any_tool_behave_exactly_like_unknown_ids(db, db_url, clock):
    walk = await seed_walk(db, clock)
    problems: list[str] = []
    watch = StoreWatch(db, db_url)
    async with Client(walk.server) as client:
        tools = (await client.list_tools()).tools
        covered = 0
        for tool in tools:
            for case in id_cases(tool, walk):
                foreign, missing = str(walk.b[case.kind]), str(uuid.uuid4())
                await watch.before_call()
                got_foreign = await client.call_tool(tool.name, with_id(case, foreign))
                got_missing = await client.call_tool(tool.name, with_id(case, missing))
                label = f"{tool.name}({case.arg}: {case.kind})"
                covered += 1
                foreign_text, missing_text = (
                    masked(rendered(got_foreign), foreign),
                    masked(rendered(got_missing), missing),
                )
                if foreign_text != missing_text:
                    problems.append(f"{label}:\n  B's id: {foreign_text[:300]}\n  unknown: {missing_text[:300]}")
                leaked = walk.leaks(rendered(got_foreign), foreign)
                if leaked:
                    problems.append(f"{label}: the answer to B's id shows B's {leaked}")
                required = case.arg in tool.input_schema.get("required", [])
                if is_read(tool) and required and "[not_found]" not in missing_text:
                    problems.append(f"{label}: an unknown id is not a not_found error: {missing_text[:300]}")
                changes = await watch.changes() if got_foreign.is_error and got_missing.is_error else []
                if changes:
                    problems.append(f"{label}: refused B's id yet changed the store: {changes}")
        assert covered
    await watch.close()

    assert not problems, "\n".join(problems)


def _template_kind(template: str) -> str | None:
    segment = template.removeprefix("trackagoat://").split("/", 1)[0]
    return kind_of(segment.removesuffix("s").replace("-", "_") + "_id")


async def read_text(client: Client, uri: str) -> tuple[str | None, str]:
    """(the resource text or None, the error message) for `uri`."""
    try:
        result = await client.read_resource(uri)
    except MCPError as exc:
        return None, f"{exc.code} {exc.message}"
    return " ".join(getattr(c, "text", "") for c in result.contents), ""


async def test_every_resource_shows_a_only_its_own_data_and_b_ids_read_as_unknown(db, clock):
    walk = await seed_walk(db, clock)
    problems: list[str] = []
    async with Client(walk.server) as client:
        static = [str(r.uri) for r in (await client.list_resources()).resources]
        templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
        assert templates
        for uri in static:
            text, error = await read_text(client, uri)
            if walk.leaks(text or error):
                problems.append(f"{uri} shows B's {walk.leaks(text or error)}")
        for template in templates:
            kinds = [_template_kind(template)] if "{entity_type}" not in template else list(NOTE_KINDS)
            for kind_name in kinds:
                kind = kind_of(f"{kind_name}_id") if kind_name else None
                if kind not in walk.a.ids:
                    problems.append(f"{template}: cannot tell which entity {kind_name!r} stands for")
                    continue
                uri = template.replace("{entity_type}", str(kind_name))
                own_text, own_error = await read_text(client, uri.replace("{id}", str(walk.a[kind])))
                foreign, missing = str(walk.b[kind]), str(uuid.uuid4())
                foreign_text, foreign_error = await read_text(client, uri.replace("{id}", foreign))
                _, missing_error = await read_text(client, uri.replace("{id}", missing))
                leaked = walk.leaks(own_text or own_error) + walk.leaks(foreign_text or foreign_error, foreign)
                if leaked:
                    problems.append(f"{uri} shows B's {leaked}")
                if foreign_text is not None or masked(foreign_error, foreign) != masked(missing_error, missing):
                    problems.append(f"{uri}: B's id gave {foreign_text or foreign_error!r}, unknown {missing_error!r}")
                if "{entity_type}" not in template and own_text is None:
                    problems.append(f"{uri} with A's own id failed: {own_error}")

    assert not problems, "\n".join(problems)
