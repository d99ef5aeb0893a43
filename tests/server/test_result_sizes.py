"""Every tool's text result stays within 20,000 characters at its widest arguments on a large program (issue 12).

The program (`worlds.seed_program` + `worlds.grow_program`): 107 creators with handles, names and bios at TikTok's
caps; 300 videos with 4,000-character captions and a snapshot a day since posting (a year for the oldest); a
campaign holding creators, 100 videos and 60 sub-campaigns with 200-character names; three goals per creator; a
daily structure changed 14 times, a monthly cpm one whose accruals list dozens of videos and a weekly one, the
accrual job run (about 400 accruals); 60 API keys, 20 payout methods, stale creators and an outage's job runs.

The calls come from `tools/list`, so a tool added later is covered without writing anything: required
arguments take the program's ids (`hostile_values.canonical_arguments`), every integer with a maximum takes it
(the largest `limit`), every boolean is true (`include_inputs`, `include_archived`, ...), strings of write tools
are as long as their schema allows up to 2,000 characters, and each read tool is called once more per value of
each enum argument (granularity day, kind videos, ...). `widest` adds what the schemas cannot say: the longest
date ranges each tool accepts. Write tools run after every read, destructive ones last; `scrape_now` meets an
unreachable TikTok, so only its failure report is measured.

The notes of a record (description 10,000, readme 20,000, metadata 16 KiB) are short in the first pass; a second
pass on a copy of the store with every note at its cap (over 46,000 characters a record) checks that the text
shortens them (`fencing.respond`) and still fits.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import Tool

from tests.conftest import make_org, make_server
from tests.reliability.hostile_values import IdPool, _resolve, canonical_arguments
from tests.reliability.walking import enum_values, is_read
from tests.reliability.worlds import Program, grow_program, long_text, seed_program
from tests.server.conftest import ADMIN_TOOLSETS, describe
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Campaign, Creator, PayoutStructure, Project, Video, VideoComment
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import notes
from trackagoat_mcp.domain.analytics import MAX_BUCKETS
from trackagoat_mcp.domain.calendar import MAX_DAYS as CALENDAR_DAYS
from trackagoat_mcp.domain.sentiment import comparative_score
from trackagoat_mcp.domain.stats import MAX_RANGE_DAYS
from trackagoat_mcp.tiktok.comments import MAX_TEXT

BUDGET = 20_000
UNREACHABLE_TIKTOK = "http://127.0.0.1:9"
WRITE_TEXT_MAX = 2_000
"""Strings of write tools are filled up to this (names and reasons reach their caps; see the module docstring)."""


def widest(clock: FrozenClock) -> dict[str, dict[str, Any]]:
    """Per tool, the arguments no schema can state: the longest ranges each accepts, the subject of a preview."""
    today = clock.now().date()
    longest = {"from": str(today - timedelta(days=MAX_RANGE_DAYS - 1)), "to": str(today)}
    return {
        "get_analytics": {"from": str(today - timedelta(days=MAX_BUCKETS - 1)), "to": str(today)},  # 400 days
        "get_leaderboard": longest,
        "get_campaign_stats": longest,
        "get_sentiment_radar": {"from": str(today - timedelta(days=MAX_BUCKETS - 1)), "to": str(today)},
        "preview_accruals": {"until": (clock.now() + timedelta(days=92)).isoformat()},
        "get_content_calendar": {"from": str(today - timedelta(days=CALENDAR_DAYS - 1)), "to": str(today)},
        "get_creator_pools": longest,
    }


SUBJECT_ONE_OF = {
    "preview_accruals": "project_id",
    "get_payout_balance": "project_id",
    "get_content_calendar": "project_id",
    "get_sentiment_radar": "project_id",
    "list_comments": "project_id",
}
"""Tools that need one of several optional ids: the widest subject is the project."""


def widest_calls(tool: Tool, program: Program, clock: FrozenClock, *, enums: bool = True) -> list[dict[str, Any]]:
    """The argument sets to try for `tool` (see the module docstring); `enums=False`: the widest call alone."""
    schema = tool.input_schema
    props: dict[str, Any] = schema.get("properties", {})
    pool = IdPool({kind: [str(value)] for kind, value in program.ids.items()}, {})
    base = canonical_arguments(schema, pool)
    for name, prop in props.items():
        node = _resolve(prop, schema)
        types = node.get("type") if isinstance(node.get("type"), list) else [node.get("type")]
        if name in base:
            plain_text = "string" in types and "enum" not in node and "format" not in node
            if not is_read(tool) and plain_text and not name.endswith(("_id", "_type", "_key")):
                base[name] = long_text(name, min(node.get("maxLength", WRITE_TEXT_MAX), WRITE_TEXT_MAX))
            continue
        if "integer" in types and "maximum" in node:
            base[name] = node["maximum"]
        elif "boolean" in types:
            base[name] = True
        elif not is_read(tool) and types == ["string", "null"] and not name.endswith(("_id", "cursor")):
            if "format" not in node and "maxLength" in node:
                base[name] = long_text(name, min(node["maxLength"], WRITE_TEXT_MAX))
    if tool.name in SUBJECT_ONE_OF:
        base[SUBJECT_ONE_OF[tool.name]] = str(program["project"])
    base |= widest(clock).get(tool.name, {})
    calls = [base]
    if not is_read(tool) or not enums:
        return calls
    for name, prop in props.items():
        for value in enum_values(prop, schema):
            if value is None or base.get(name) == value:
                continue
            args = {**base, name: value}
            if name == "entity_type" and "entity_id" in props and value in program.ids:
                args["entity_id"] = str(program[value])
            calls.append(args)
    return calls


async def seed_large(db: Database, clock: FrozenClock) -> Program:
    program = await seed_program(db, clock, await make_org(db, clock, "Acme"), "acme")
    await grow_program(db, clock, program)
    await add_long_comments(db, clock, program)
    return program


async def add_long_comments(db: Database, clock: FrozenClock, program: Program) -> None:
    """150 comments at the longest text kept (`tiktok.comments.MAX_TEXT`) under one video, so that the comment
    stream's pages must shorten."""
    async with db.write() as session:
        video = await session.get_one(Video, program["video"])
        for i in range(150):
            text = long_text("comment", MAX_TEXT)
            session.add(
                VideoComment(
                    org_id=video.org_id,
                    project_id=video.project_id,
                    video_id=video.id,
                    cid=str(1_000 + i),
                    text=text,
                    commenter=f"fan_{i}",
                    posted_at=clock.now() - timedelta(hours=i),
                    score=comparative_score(text),
                )
            )


async def measure(
    db: Database, clock: FrozenClock, program: Program, *, enums: bool = True
) -> tuple[dict[str, tuple[int, str]], set[str]]:
    """Per tool, its largest text result (characters, and the arguments in brief); and the read tools that never
    answered without an error."""
    largest: dict[str, tuple[int, str]] = {}
    failing: set[str] = set()
    server = make_server(db, clock, program.caller, toolsets=ADMIN_TOOLSETS, tiktok_base_url=UNREACHABLE_TIKTOK)
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
        writes = sorted((t for t in tools if not is_read(t)), key=lambda t: bool(t.annotations.destructive_hint))
        for tool in [*(t for t in tools if is_read(t)), *writes]:
            answered = False
            for args in widest_calls(tool, program, clock, enums=enums):
                result = await client.call_tool(tool.name, args)
                size = sum(len(getattr(block, "text", "")) for block in result.content)
                answered = answered or not result.is_error
                brief = json.dumps({k: v if len(str(v)) < 40 else "…" for k, v in args.items()})
                if size > largest.get(tool.name, (-1, ""))[0]:
                    largest[tool.name] = (size, brief)
            if is_read(tool) and not answered:
                failing.add(tool.name)
    return largest, failing


NOTE_CAPS = {
    "description": notes.DESCRIPTION_MAX_CHARS,
    "readme": notes.README_MAX_CHARS,
    "metadata": notes.METADATA_MAX_BYTES,
}


async def fill_notes_to_their_caps(db: Database, clock: FrozenClock, program: Program) -> None:
    async with db.write() as session:
        for model, kind in ((Project, "project"), (Creator, "creator"), (Video, "video"), (Campaign, "campaign")):
            row = await session.get(model, program[kind])
            row.readme = long_text("readme", NOTE_CAPS["readme"])
            row.meta = {"notes": long_text("metadata", NOTE_CAPS["metadata"] - 20)}
        structure = await session.get(PayoutStructure, program["structure"])
        structure.readme = long_text("readme", NOTE_CAPS["readme"])
    for kind in ("project", "creator", "video", "campaign"):
        await describe(db, clock, program.caller.org_id, kind, program[kind], long_text("do", NOTE_CAPS["description"]))


def copy_store(db_url: str, to: Path) -> str:
    """A copy of the SQLite store at `db_url` (WAL included, through SQLite's backup API), as a URL."""
    source = sqlite3.connect(db_url.removeprefix("sqlite+aiosqlite:///"))
    target = sqlite3.connect(to)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return f"sqlite+aiosqlite:///{to}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # sizes do not depend on the backend
async def test_every_tool_answers_within_20000_characters_at_its_widest_arguments_even_with_notes_at_their_caps(
    db, db_url, clock, tmp_path
):
    program = await seed_large(db, clock)
    twin = Database.connect(copy_store(db_url, tmp_path / "twin.db"))  # the same program, for the second pass
    try:
        largest, failing = await measure(db, clock, program)

        assert not failing, f"read tools that refused their widest arguments: {sorted(failing)}"
        over = {name: sized for name, sized in largest.items() if sized[0] > BUDGET}
        assert not over, f"text results over {BUDGET:,} characters: {over}"
        assert len(largest) >= 50  # every listed tool was called

        await fill_notes_to_their_caps(twin, clock, program)
        largest, _ = await measure(twin, clock, program, enums=False)  # notes do not depend on the enums
        over = {name: sized for name, sized in largest.items() if sized[0] > BUDGET}
        assert not over, f"text results over {BUDGET:,} characters with notes at their caps: {over}"
    finally:
        await twin.dispose()


def test_a_record_over_the_budget_shortens_the_agents_notes_before_the_peoples_description() -> None:
    from pydantic import BaseModel

    from trackagoat_mcp.server.fencing import respond

    class Record(BaseModel):
        id: str
        description: str
        readme: str
        metadata: dict[str, Any]

    record = Record(id="x", description="d" * 9_000, readme="r" * 20_000, metadata={"notes": "m" * 16_000})
    result = respond(record)
    text = result.content[0].text  # type: ignore[union-attr]

    assert len(text) <= BUDGET
    assert "d" * 9_000 in text  # the people's instructions stay whole while the notes make room
    assert "shortened here: 20,000 characters in all" in text and "structuredContent" in text
    assert result.structured_content == record.model_dump(mode="json")


def test_a_result_whose_list_is_too_long_keeps_the_items_that_fit_and_says_how_many_are_left_out() -> None:
    from pydantic import BaseModel

    from trackagoat_mcp.server.fencing import respond

    class Line(BaseModel):
        accrual_id: str
        applied_amount_cents: int
        structure_name: str

    class Payment(BaseModel):
        id: str
        payout_payment_lines: list[Line]

    payment = Payment(
        id="p",
        payout_payment_lines=[
            Line(accrual_id=f"a{i:04d}", applied_amount_cents=i, structure_name="s" * 150) for i in range(500)
        ],
    )
    result = respond(payment)
    text = result.content[0].text  # type: ignore[union-attr]

    assert len(text) <= BUDGET
    assert '"accrual_id":"a0000"' in text
    assert "more of 500 items not shown in this text" in text
    assert len(result.structured_content["payout_payment_lines"]) == 500  # type: ignore[index]
