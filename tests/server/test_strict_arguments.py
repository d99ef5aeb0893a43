"""The tool boundary is strict and total: unknown names, invalid values, times without an offset and dates at the
ends of the calendar each get one documented answer, never a crash and never a quiet change of meaning."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from mcp import Client

from tests.conftest import make_org, make_server
from tests.server.conftest import (
    ADMIN_TOOLSETS,
    acme_world,
    call_and_keep_store,
    dump_store,
    error_text,
    ok,
    seed_world,
)

EXTREMES = ["0001-01-01", "9999-12-31"]
EXTREME_TIMES = [
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59",
    "9999-12-31T23:59:59-23:59",
    "1969-12-31T23:59:59Z",
    "2101-01-01T00:00:00+00:00",
]


async def refused(db: Any, client: Client, tool: str, args: dict[str, Any]) -> str:
    return await call_and_keep_store(db, client, tool, args, "invalid_input")


async def test_an_unknown_argument_is_refused_with_the_nearest_valid_name_instead_of_being_ignored(db, clock, acme):
    caller, project_id = acme
    async with Client(make_server(db, clock, caller)) as client:
        text = await refused(db, client, "get_leaderboard", {"project_id": str(project_id), "entity": "videos"})
        typo = await refused(db, client, "get_leaderboard", {"project_id": str(project_id), "order_bye": "likes"})
        python_name = await refused(
            db, client, "get_analytics", {"entity_type": "project", "entity_id": "x", "from_": "2026-01-01"}
        )

    assert "'entity'" in text and "kind" in text and "project_id" in text, text
    assert "'order_bye' (nearest: 'order_by')" in typo, typo
    assert "'from_' (nearest: 'from')" in python_name, python_name


async def test_an_invalid_value_is_a_sentence_naming_the_argument_and_the_value(db, clock, acme):
    caller, project_id = acme
    async with Client(make_server(db, clock, caller)) as client:
        text = await refused(db, client, "get_leaderboard", {"project_id": str(project_id), "limit": 500})
        missing = await refused(db, client, "get_leaderboard", {})

    assert "argument 'limit' = 500" in text and "100" in text and "validation error" not in text, text
    assert "argument 'project_id' is required" in missing, missing


@pytest.mark.parametrize("timezone", ["America/New_York", "Asia/Kolkata"])
async def test_a_time_without_an_offset_is_read_in_the_organizations_timezone(db, clock, timezone):
    org = await make_org(db, clock, "Zoned", timezone=timezone)
    world = await seed_world(db, clock, org, "zoned")
    local = datetime(2026, 3, 20, 9, 30)
    offset = local.replace(tzinfo=__import__("zoneinfo").ZoneInfo(timezone)).isoformat()
    async with Client(make_server(db, clock, world.caller, toolsets=ADMIN_TOOLSETS)) as client:
        naive = ok(
            await client.call_tool("preview_accruals", {"creator_id": str(world.creator), "until": local.isoformat()})
        )
        aware = ok(await client.call_tool("preview_accruals", {"creator_id": str(world.creator), "until": offset}))
        campaign = ok(
            await client.call_tool(
                "create_campaign",
                {"project_id": str(world.project), "name": "Zoned push", "target_at": local.isoformat()},
            )
        )

    assert naive == aware
    assert datetime.fromisoformat(campaign["target_at"]) == datetime.fromisoformat(offset)
    assert datetime.fromisoformat(campaign["target_at"]).astimezone(UTC) != local.replace(tzinfo=UTC)


DATE_ARGUMENTS = [
    ("get_analytics", {"entity_type": "project", "entity_id": "{project}"}, "from"),
    ("get_analytics", {"entity_type": "project", "entity_id": "{project}"}, "to"),
    ("get_leaderboard", {"project_id": "{project}"}, "from"),
    ("get_leaderboard", {"project_id": "{project}"}, "to"),
    ("get_campaign_stats", {"campaign_id": "{campaign}"}, "from"),
    ("get_campaign_stats", {"campaign_id": "{campaign}"}, "to"),
    ("list_videos", {}, "posted_from"),
    ("list_videos", {}, "posted_to"),
    ("list_payout_accruals", {}, "period_from"),
    ("list_payout_accruals", {}, "period_to"),
    ("assign_payout_structure", {"structure_id": "{structure}", "creator_ids": ["{creator}"]}, "ends_on"),
    ("assign_payout_structure", {"structure_id": "{structure}", "creator_ids": ["{creator}"]}, "starts_on"),
    ("get_goal_compliance", {"project_id": "{project}"}, "reference_date"),
]
TIME_ARGUMENTS = [
    ("create_campaign", {"project_id": "{project}", "name": "Edge"}, "target_at"),
    ("preview_accruals", {"creator_id": "{creator}"}, "until"),
    ("run_accruals", {}, "at"),
    (
        "create_payout_payment",
        {
            "project_id": "{project}",
            "creator_id": "{creator}",
            "method_id": "{method}",
            "idempotency_key": "edge-of-time",
            "total_amount_cents": 100,
        },
        "paid_at",
    ),
]


def filled(value: Any, ids: dict[str, str]) -> Any:
    """`value` with every "{kind}" string replaced by that id."""
    if isinstance(value, dict):
        return {key: filled(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [filled(item, ids) for item in value]
    return value.format(**ids) if isinstance(value, str) else value


async def test_dates_and_times_at_the_ends_of_the_calendar_are_refused_naming_the_argument_and_the_range(db, clock):
    world = await acme_world(db, clock, "edge")
    ids = {
        "project": str(world.project),
        "campaign": str(world.campaign),
        "creator": str(world.creator),
        "structure": str(world.ids["structure"]),
        "method": str(world.ids["method"]),
    }
    async with Client(make_server(db, clock, world.caller, toolsets=ADMIN_TOOLSETS)) as client:
        for tool, base, name in DATE_ARGUMENTS:
            for value in [*EXTREMES, *EXTREME_TIMES[:2]]:
                text = await refused(db, client, tool, {**filled(base, ids), name: value})
                assert name in text and ("1970-01-01 to 2100-12-31" in text or "date" in text), (tool, value, text)
        for tool, base, name in TIME_ARGUMENTS:
            for value in [*EXTREME_TIMES, *EXTREMES]:
                text = await refused(db, client, tool, {**filled(base, ids), name: value})
                assert name in text and "1970-01-01 to 2100-12-31" in text, (tool, value, text)


def reencoded(cursor: str, mutate: Any) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    kind, order, values = json.loads(base64.urlsafe_b64decode(padded))
    raw = json.dumps([kind, order, mutate(values)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_a_decoded_cursor_is_validated_as_strictly_as_an_argument(db, clock):
    world = await acme_world(db, clock, "paged")
    async with Client(make_server(db, clock, world.caller)) as client:
        first = ok(await client.call_tool("list_videos", {"order": "views_desc", "limit": 1}))
        cursor = first["next_cursor"]
        assert cursor
        forged = [
            reencoded(cursor, lambda values: [2**63, *values[1:]]),
            reencoded(cursor, lambda values: [-(2**70), *values[1:]]),
            reencoded(cursor, lambda values: [values[0], f"{values[1]}\x00"]),
            reencoded(cursor, lambda values: [values[0], "\ud800"]),
        ]
        for bad in forged:
            before = await dump_store(db)
            text = error_text(await client.call_tool("list_videos", {"order": "views_desc", "limit": 1, "cursor": bad}))
            assert text.startswith("Error executing tool list_videos: [invalid_cursor] "), text
            assert await dump_store(db) == before
