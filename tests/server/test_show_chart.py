"""`show_chart` through a real `mcp.Client`, on SQLite and PostgreSQL: every kind of chart comes back as its figures
(structuredContent, with the Vega-Lite spec), a PNG of the stated size for hosts without Apps, and the link to the
chart App, whose `ui://` resource reads as the self-contained page with the MCP Apps MIME type."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult, ImageContent, TextContent

from tests.conftest import make_org, make_server
from tests.insights._support import seed_calendar
from tests.reliability.worlds import Program, seed_program
from tests.server.conftest import ADMIN_TOOLSETS, dump_store, error_text, ok, unfence
from trackagoat_mcp.server.apps.chart_app import APP_MIME_TYPE, CHART_APP_URI
from trackagoat_mcp.server.charts.render import PNG_SIGNATURE, png_size

CHARTS = [
    ("views_over_time", "project", {"from": "2026-02-20"}),
    ("views_over_time", "video", {"metric": "likes", "granularity": "week", "mode": "cumulative"}),
    ("leaderboard", "project", {"rank": "videos"}),
    ("campaign_progress", "campaign", {}),
    ("payout_ledger", "creator", {}),
    ("program_health", "project", {}),
    ("content_calendar", "campaign", {}),
]


def chart_args(program: Program, kind: str, entity_type: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "entity_type": entity_type, "entity_id": str(program[entity_type]), **extra}


def png_of(result: CallToolResult) -> bytes:
    [image] = [block for block in result.content if isinstance(block, ImageContent)]
    assert image.mime_type == "image/png"
    return base64.b64decode(image.data)


async def test_every_kind_of_chart_comes_with_its_figures_a_png_of_the_stated_size_and_the_app_link(db, clock):
    program = await seed_program(db, clock, await make_org(db, clock, "Acme"), "acme")
    async with Client(make_server(db, clock, program.caller, toolsets=ADMIN_TOOLSETS)) as client:
        [tool] = [t for t in (await client.list_tools()).tools if t.name == "show_chart"]
        assert tool.meta is not None and tool.meta["ui"]["resourceUri"] == CHART_APP_URI
        for kind, entity_type, extra in CHARTS:
            result = await client.call_tool("show_chart", chart_args(program, kind, entity_type, **extra))
            chart = ok(result)
            assert result.meta is not None and result.meta["ui"]["resourceUri"] == CHART_APP_URI, kind

            png = png_of(result)
            assert png.startswith(PNG_SIGNATURE), kind
            spec = chart["vega_lite"]
            assert (
                png_size(png) == (chart["image"]["width"], chart["image"]["height"]) == (spec["width"], spec["height"])
            )
            assert chart["image"]["bytes"] == len(png)

            rows = spec["datasets"]["rows"]
            assert chart["points"] == len(rows) > 0, kind
            assert chart["kind"] == kind and chart["app"] == CHART_APP_URI and chart["series"]

            # The text a model reads holds the figures, not the drawing instructions.
            [text] = [block for block in result.content if isinstance(block, TextContent)]
            assert "vega_lite" not in text.text and "$schema" not in text.text
            shown = unfence(text.text).data if "<untrusted-data-" in text.text else json.loads(text.text)
            assert shown["title"] == chart["title"] and shown["data"] == chart["data"], kind

        [listed] = [r for r in (await client.list_resources()).resources if str(r.uri) == CHART_APP_URI]
        assert listed.mime_type == APP_MIME_TYPE
        [page] = (await client.read_resource(CHART_APP_URI)).contents
        assert page.mime_type == APP_MIME_TYPE
        html = page.text  # type: ignore[union-attr]
        assert html.startswith("<!doctype html>") and 'http-equiv="Content-Security-Policy"' in html
        assert "<script src" not in html and "<link" not in html, "the App must load nothing from anywhere"


async def test_buckets_without_data_and_partial_ones_are_drawn_as_such(db, clock):
    program = await seed_program(db, clock, await make_org(db, clock, "Acme"), "acme")
    async with Client(make_server(db, clock, program.caller)) as client:
        chart = ok(
            await client.call_tool(
                "show_chart", chart_args(program, "views_over_time", "video", **{"from": "2026-02-25"})
            )
        )
    buckets = chart["data"]["buckets"]
    rows = chart["vega_lite"]["datasets"]["rows"]
    assert [row["start"] for row in rows] == buckets["start"]
    expected = [
        "no data" if value is None else "partial" if partial else "complete"
        for value, partial in zip(buckets["value"], buckets["partial"], strict=True)
    ]
    assert [row["status"] for row in rows] == expected
    assert {"no data", "partial", "complete"} <= set(expected), expected
    assert chart["series"] == ["complete", "partial", "no data"]


async def test_the_payout_ledger_draws_each_accrual_payment_and_adjustment_with_its_amount(db, clock):
    program = await seed_program(db, clock, await make_org(db, clock, "Acme"), "acme", amount_cents=5_000)
    async with Client(make_server(db, clock, program.caller)) as client:
        chart = ok(await client.call_tool("show_chart", chart_args(program, "payout_ledger", "creator")))
    drawn = sorted((row["record"], row["series"], row["amount"]) for row in chart["vega_lite"]["datasets"]["rows"])
    assert drawn == [
        ("accrual", "earned (owed)", 50.0),
        ("accrual", "paid", 50.0),
        ("adjustment", "overpayment", 0.01),
        ("payment", "payment", 50.01),
    ]
    assert chart["data"]["accrual_cents_by_status"] == {"earned": 5_000, "paid": 5_000, "rejected": 0, "voided": 0}
    assert chart["data"]["payments_cents"] == 5_001
    assert chart["series"] == ["earned (owed)", "paid", "payment", "overpayment"]


async def test_a_chart_of_the_wrong_subject_or_of_another_organization_is_refused_and_changes_nothing(db, clock):
    program = await seed_program(db, clock, await make_org(db, clock, "Acme"), "acme")
    other = await seed_program(db, clock, await make_org(db, clock, "Globex"), "globex")
    before = await dump_store(db)
    async with Client(make_server(db, clock, program.caller)) as client:
        wrong = error_text(await client.call_tool("show_chart", chart_args(program, "payout_ledger", "project")))
        foreign = error_text(await client.call_tool("show_chart", chart_args(other, "leaderboard", "project")))
        metric = error_text(
            await client.call_tool("show_chart", chart_args(program, "leaderboard", "project", metric="followers"))
        )
    assert wrong.startswith("Error executing tool show_chart: [invalid_input] kind 'payout_ledger' charts a creator")
    assert "[not_found]" in foreign
    assert "[invalid_input]" in metric and "'followers'" in metric
    assert await dump_store(db) == before


@pytest.mark.parametrize(("mode", "version"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")])
async def test_the_chart_its_image_and_its_app_link_reach_clients_of_both_protocol_eras(db, clock, mode, version):
    program = await seed_program(db, clock, await make_org(db, clock, "Acme"), "acme")
    async with Client(make_server(db, clock, program.caller), mode=mode) as client:
        assert client.protocol_version == version
        [tool] = [t for t in (await client.list_tools()).tools if t.name == "show_chart"]
        result = await client.call_tool("show_chart", chart_args(program, "program_health", "project"))
        [page] = (await client.read_resource(CHART_APP_URI)).contents
    assert tool.meta is not None and tool.meta["ui"]["resourceUri"] == CHART_APP_URI
    assert result.meta is not None and result.meta["ui"]["resourceUri"] == CHART_APP_URI
    assert png_size(png_of(result)) == (ok(result)["image"]["width"], ok(result)["image"]["height"])
    assert page.mime_type == APP_MIME_TYPE


async def test_the_content_calendar_draws_each_creators_days_from_the_calendar_with_its_marks(db, clock, acme):
    caller, project = acme
    program = await seed_calendar(db, caller, project, clock.now())
    async with Client(make_server(db, clock, caller)) as client:
        args = {"kind": "content_calendar", "entity_type": "project", "entity_id": str(project)}
        result = await client.call_tool("show_chart", args)
        chart = ok(result)
        calendars = {
            handle: ok(await client.call_tool("get_content_calendar", {"creator_id": str(program.ids[handle])}))
            for handle in ("lagging", "spammer", "steady")
        }
        one = ok(
            await client.call_tool(
                "show_chart",
                {"kind": "content_calendar", "entity_type": "creator", "entity_id": str(program.ids["lagging"])},
            )
        )
        video = error_text(
            await client.call_tool("show_chart", {**args, "entity_type": "video", "entity_id": str(program.project)})
        )
    spec = chart["vega_lite"]
    assert png_size(png_of(result)) == (chart["image"]["width"], chart["image"]["height"]) == (720, spec["height"])
    rows = spec["datasets"]["rows"]
    cells = [row for row in rows if row["record"] == "day"]
    assert len(cells) == 3 * 31 and chart["points"] == len(rows)
    # Each creator's row of cells is its own calendar's day columns, day by day.
    for handle, calendar in calendars.items():
        [item] = calendar["items"]
        mine = [row for row in cells if row["creator"] == f"@{handle}"]
        assert [row["day"] for row in mine] == [f"2026-03-{d:02d}" for d in range(1, 32)]
        for state in ("counted", "pending", "excluded"):
            assert [row[state] for row in mine] == item["days"][state], (handle, state)
        [drawn] = [i for i in chart["data"]["items"] if i["tiktok_handle"] == handle]
        assert drawn["days"] == item["days"] and drawn["still_due"] == item["still_due"]
    marks = sorted(
        (row["creator"], row["day"], row["marker"], row["count"]) for row in rows if row["record"] == "marker"
    )
    assert marks == [
        ("@spammer", "2026-03-08", "over-posting", 1),
        ("@steady", "2026-03-04", "pending", 1),
        ("@steady", "2026-03-05", "excluded", 1),
    ]
    assert chart["series"] == ["counted posts", "pending", "excluded", "over-posting"]
    # Still due: steady 2, lagging 3, spammer 2 (its described 2 a week).
    assert spec["title"]["subtitle"].endswith("7 posts still due this period (3 creators with a cadence)")
    assert one["title"] == "Content calendar of @lagging"
    assert one["vega_lite"]["title"]["subtitle"].endswith("; 3 posts still due this period")
    lagging = [row["counted"] for row in one["vega_lite"]["datasets"]["rows"]]
    assert lagging == calendars["lagging"]["items"][0]["days"]["counted"] and sum(lagging) == 1
    assert "[invalid_input] kind 'content_calendar' charts a creator, project or campaign" in video
