"""Every tool, called with generated and hostile arguments, answers with a result or a readable tool error.

For each tool `tools/list` shows an admin caller (every toolset), arguments are built from the tool's own
`inputSchema` (see `hostile_values.py`) against a store holding two organizations' programs, and each call goes
through a real in-memory `mcp.Client` under `anyio.fail_after`. Two generators:

* hypothesis draws whole argument objects: well-formed ones (so calls reach deep into the domain), ones with
  one hostile value, and chaotic ones (several hostile values, unknown keys, a required key missing);
* a deterministic sweep puts every catalog value (unicode edge cases, injection text, ~1 MB strings, numbers
  at and past the 64-bit edges, NaN, nesting 120+ deep, wrong types; for date and time arguments the ends of the
  calendar with extreme offsets, times without an offset, a time where a date is expected and the reverse) into
  every argument of a plain valid call;
* every argument name a slip away from a declared one, and names no tool declares, are sent with a plain valid
  call and must be refused naming them (never ignored);
* every list's real cursor is decoded, each sort value replaced (64-bit overflow, NUL, lone surrogate, a time at
  the end of the calendar or without an offset, wrong types) and re-encoded.

Each call must:

* come back (no hang) as a `CallToolResult`, never a protocol exception;
* be a success, or an `is_error` result whose text is `Error executing tool <name>: [code] sentence`; never the
  SDK's raw argument-validation report, never the bare `Error executing tool <name>` of a crash, and never a
  traceback;
* when it failed, leave the store as it was: a `dump_store` before the call equals one after it (taken only
  when something may have been written, see `worlds.StoreWatch`).

The store is SQLite and shared by the whole module (successful hostile writes stay, which only makes later
inputs stranger). `TRACKAGOAT_HOSTILE_EXAMPLES` sets the hypothesis examples per tool (default 15,
derandomized so CI runs repeat exactly); for a long exploratory run:

    TRACKAGOAT_HOSTILE_EXAMPLES=500 .venv/bin/pytest tests/reliability/test_hostile_input.py
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult, Tool

from tests.conftest import START, _pg_truncate, make_org
from tests.reliability.hostile_values import (
    HUGE_OBJECT,
    LONE_SURROGATES,
    MEGABYTE_STRING,
    UNKNOWN_KEYS,
    IdPool,
    canonical_arguments,
    mutated_cursors,
    near_misses,
    sweep_values,
    tool_arguments,
)
from tests.reliability.worlds import Program, StoreWatch, seed_program
from tests.server.conftest import ADMIN_TOOLSETS
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import ALL_TOOLSETS, Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import projects
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess
from trackagoat_mcp.server.app import build_server
from trackagoat_mcp.server.registry import build_tools
from trackagoat_mcp.server.toolsets import TOOL_GROUPS
from trackagoat_mcp.tiktok.sim import SimAccount, SimulatedTikTok, SimVideo

EXAMPLES = int(os.environ.get("TRACKAGOAT_HOSTILE_EXAMPLES", "15"))
CALL_SECONDS = 20.0

# Tool names known when the tests are collected (every toolset, nothing hidden); the calls use the tools
# `tools/list` returns, and the first test checks the two agree.
SPECS = build_tools(TOOL_GROUPS, toolsets=frozenset(ALL_TOOLSETS), read_only=False)[1]
DECLARED_TOOLS = [spec.name for spec in SPECS]

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")


def acceptable_error(tool: str, text: str) -> bool:
    """Whether `text` is a tool error a model can read: `[code] sentence`."""
    prefix = f"Error executing tool {tool}: "
    return text.startswith(prefix) and bool(re.match(r"\[[a-z][a-z0-9_]*\] \S", text[len(prefix) :]))


@dataclass
class Arena:
    """A seeded two-organization store, a connected admin client for the first, and store-change detection."""

    client: Client
    tools: dict[str, Tool]
    ids: IdPool
    watch: StoreWatch


@asynccontextmanager
async def open_arena(url: str, clock: FrozenClock) -> AsyncIterator[Arena]:
    """Seed two organizations into the (empty, migrated) store at `url` and connect an admin client for one.

    `scrape_now` reaches a simulated TikTok (in-process, unpaced) that knows both organizations' creators.
    """
    db = Database.connect(url)
    try:
        own: Program = await seed_program(db, clock, await make_org(db, clock, "Acme"), "acme")
        # A second program of the same organization, so every list has a second page for the cursor walk.
        async with db.write() as session:
            second = await projects.create_project(session, own.caller, name="Acme second program", now=clock.now())
        await seed_program(db, clock, (own.caller, second.id), "acmetwo")
        other: Program = await seed_program(db, clock, await make_org(db, clock, "Globex"), "globex")
        sim = SimulatedTikTok(clock=clock)
        for program in (own, other):
            sim.add_account(SimAccount(program.handle, videos=[SimVideo.posted(START - timedelta(hours=3))]))
        settings = Settings(database_url="sqlite://", toolsets=ADMIN_TOOLSETS, scrape_rate=1000.0)
        tiktok = TikTokAccess(settings, transport=httpx2.ASGITransport(app=sim.app))
        server = build_server(settings, db=db, clock=clock, caller=own.caller, tiktok=tiktok)
        ids = IdPool(
            {kind: [str(value)] for kind, value in own.ids.items()},
            {kind: [str(value)] for kind, value in other.ids.items()},
        )
        watch = StoreWatch(db, url)
        try:
            async with Client(server) as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}
                yield Arena(client, tools, ids, watch)
        finally:
            await watch.close()
            await tiktok.aclose()
    finally:
        await db.dispose()


def _portal_arena(url: str) -> Iterator[tuple[BlockingPortal, Arena]]:
    """Run `open_arena` on an event loop in a helper thread, so that plain (sync) hypothesis tests can drive it."""
    with (
        start_blocking_portal("asyncio") as portal,
        portal.wrap_async_context_manager(open_arena(url, FrozenClock(START))) as arena,
    ):
        yield portal, arena


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[tuple[BlockingPortal, Arena]]:
    """One seeded SQLite store and client for the whole module (seeding per tool would cost more than the calls)."""
    path = tmp_path_factory.mktemp("hostile") / "store.db"
    shutil.copy(sqlite_template, path)
    yield from _portal_arena(f"sqlite+aiosqlite:///{path}")


def shown(args: dict[str, Any]) -> str:
    short = {k: (v[:60] + f"…({len(v):,} chars)" if isinstance(v, str) and len(v) > 60 else v) for k, v in args.items()}
    return str(short)[:500]


async def call_and_check(
    arena: Arena, tool: str, args: dict[str, Any], expect: Callable[[CallToolResult, str], str | None] | None = None
) -> str | None:
    """Make one call; returns what broke a promise (see the module docstring), or what `expect` says of the result
    and its text, or None."""
    await arena.watch.before_call()
    try:
        with anyio.fail_after(CALL_SECONDS):
            result = await arena.client.call_tool(tool, args)
    except TimeoutError:
        return f"{tool}({shown(args)}): no answer within {CALL_SECONDS} s"
    except Exception as exc:  # a protocol-level failure is exactly what this suite looks for
        return f"{tool}({shown(args)}): protocol exception {type(exc).__name__}: {exc}"
    if not isinstance(result, CallToolResult):
        return f"{tool}({shown(args)}): answered {type(result).__name__}, not a CallToolResult"
    answer = " ".join(getattr(c, "text", "") for c in result.content)
    if TRACEBACK.search(answer):
        return f"{tool}({shown(args)}): a traceback in the result: {answer[:300]}"
    if expect is not None and (unmet := expect(result, answer)) is not None:
        return f"{tool}({shown(args)}): {unmet}"
    if not result.is_error:
        return None
    if not acceptable_error(tool, answer):
        return f"{tool}({shown(args)}): not a readable tool error: {answer[:300]!r}"
    changes = await arena.watch.changes()
    if changes:
        return f"{tool}({shown(args)}): failed ({answer[:150]}) yet changed the store: {changes}"
    return None


def test_the_suite_covers_every_tool_the_server_lists(arena: tuple[BlockingPortal, Arena]) -> None:
    assert list(arena[1].tools) == DECLARED_TOOLS


@pytest.mark.parametrize("tool", DECLARED_TOOLS)
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_generated_arguments_get_a_result_or_a_readable_error_and_a_refusal_changes_nothing(
    arena: tuple[BlockingPortal, Arena], tool: str, data: st.DataObject
) -> None:
    portal, state = arena
    args = data.draw(tool_arguments(state.tools[tool].input_schema, state.ids), label="arguments")
    problem = portal.call(call_and_check, state, tool, args)
    assert problem is None, problem


def sweep(
    portal: BlockingPortal, arena: Arena, tool: str, values: Callable[[str, dict[str, Any]], list[Any]]
) -> list[str]:
    """Put each of `values(name, schema)` into each argument of a plain valid call of `tool`; the broken promises."""
    schema = arena.tools[tool].input_schema
    base = canonical_arguments(schema, arena.ids)
    problems = []
    for name, prop in schema.get("properties", {}).items():
        for value in values(name, prop):
            problem = portal.call(call_and_check, arena, tool, {**base, name: value})
            if problem:
                problems.append(problem)
    return problems


@pytest.mark.parametrize("tool", DECLARED_TOOLS)
def test_every_catalog_value_in_every_argument_gets_a_result_or_a_readable_error(
    arena: tuple[BlockingPortal, Arena], tool: str
) -> None:
    portal, state = arena
    schema = state.tools[tool].input_schema
    problems = sweep(portal, state, tool, lambda name, prop: sweep_values(name, prop, schema))
    assert not problems, "\n".join(problems)


def refused_naming(name: str) -> Callable[[CallToolResult, str], str | None]:
    """An `expect` for a call holding the undeclared argument `name`: refused, naming it."""

    def check(result: CallToolResult, answer: str) -> str | None:
        if not result.is_error or "[invalid_input]" not in answer or repr(name[:80]) not in answer:
            return f"undeclared argument {name[:40]!r} was not refused by name: {answer[:200]!r}"
        return None

    return check


@pytest.mark.parametrize("tool", DECLARED_TOOLS)
def test_undeclared_and_misspelled_argument_names_are_refused_by_name(
    arena: tuple[BlockingPortal, Arena], tool: str
) -> None:
    portal, state = arena
    schema = state.tools[tool].input_schema
    base = canonical_arguments(schema, state.ids)
    names = [*near_misses(list(schema.get("properties", {}))), *(key for key in UNKNOWN_KEYS if key)]
    problems = [portal.call(call_and_check, state, tool, {**base, name: 1}, refused_naming(name)) for name in names]
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)


CURSOR_TOOLS = [spec.name for spec in SPECS if "cursor" in inspect.signature(spec.fn).parameters]


@pytest.mark.parametrize("tool", CURSOR_TOOLS)
def test_a_real_cursor_decoded_mutated_and_reencoded_gets_a_result_or_a_readable_error(
    arena: tuple[BlockingPortal, Arena], tool: str
) -> None:
    portal, state = arena
    schema = state.tools[tool].input_schema
    base = canonical_arguments(schema, state.ids) | ({"limit": 1} if "limit" in schema["properties"] else {})
    first = portal.call(state.client.call_tool, tool, base)
    cursor = (first.structured_content or {}).get("next_cursor")
    if not cursor:
        pytest.skip(f"{tool} has a single page in the arena; nothing to mutate")
    problems = [portal.call(call_and_check, state, tool, {**base, "cursor": bad}) for bad in mutated_cursors(cursor)]
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)


def _text_values(schema: dict[str, Any], values: list[str]) -> Callable[[str, dict[str, Any]], list[Any]]:
    """`values` for text arguments, and `{"note": value}` for JSON-object arguments (metadata patches)."""

    def pick(name: str, prop: dict[str, Any]) -> list[Any]:
        catalog = sweep_values(name, prop, schema)
        texts = values if MEGABYTE_STRING in catalog else []
        objects = [{"note": value} for value in values] if any(v is HUGE_OBJECT for v in catalog) else []
        return [*texts, *objects]

    return pick


def test_lone_surrogates_are_refused_with_a_readable_error(arena: tuple[BlockingPortal, Arena]) -> None:
    portal, state = arena
    problems = []
    for tool, spec in state.tools.items():
        problems += sweep(portal, state, tool, _text_values(spec.input_schema, LONE_SURROGATES))
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def pg_arena(postgres_database: str) -> Iterator[tuple[BlockingPortal, Arena]]:
    """The same arena on the session's scratch PostgreSQL database (emptied first)."""
    anyio.run(_pg_truncate, postgres_database)
    yield from _portal_arena(postgres_database)


@pytest.mark.postgres
def test_nul_characters_in_text_are_stored_or_refused_with_a_readable_error_on_postgres(
    pg_arena: tuple[BlockingPortal, Arena],
) -> None:
    portal, state = pg_arena
    problems = []
    for tool, spec in state.tools.items():
        problems += sweep(portal, state, tool, _text_values(spec.input_schema, ["nul\x00inside"]))
    assert not problems, "\n".join(problems)
