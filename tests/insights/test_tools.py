"""The calendar, pools and alerts tools through a real mcp.Client, scopes included."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.conftest import make_server
from tests.insights._support import seed_alerts
from tests.server.conftest import ADMIN_TOOLSETS, error_text, ok
from trackagoat_mcp.domain import alerts
from trackagoat_mcp.domain.alerts import Thresholds
from trackagoat_mcp.domain.scope import Caller


async def test_an_agent_reads_the_calendar_and_pools_and_triages_alerts(db, clock, acme):
    caller, project = acme
    program = await seed_alerts(db, caller, project, clock.now())
    async with db.write() as session:
        await alerts.evaluate_org(session, caller.org_id, now=clock.now(), thresholds=Thresholds())
    async with Client(make_server(db, clock, caller, toolsets=ADMIN_TOOLSETS)) as client:
        calendar = ok(await client.call_tool("get_content_calendar", {"project_id": str(project)}))
        one = ok(await client.call_tool("get_content_calendar", {"creator_id": str(program.ids["lagging"])}))
        pools = ok(await client.call_tool("get_creator_pools", {"project_id": str(project)}))
        board = ok(await client.call_tool("get_leaderboard", {"project_id": str(project), "pools": True}))
        listed = ok(await client.call_tool("manage_alerts", {"status": "open"}))
        missed = next(a for a in listed["items"] if a["kind"] == "goal_missed")
        acked = ok(await client.call_tool("manage_alerts", {"action": "acknowledge", "alert_ids": [missed["id"]]}))
        done = ok(await client.call_tool("manage_alerts", {"action": "resolve", "alert_ids": [missed["id"]]}))
        after = ok(await client.call_tool("manage_alerts", {}))
        hook = ok(
            await client.call_tool("manage_alerts", {"action": "set_webhook", "url": "https://hooks.example.com/t"})
        )
        shown = ok(await client.call_tool("manage_alerts", {"action": "list"}))
        bad = error_text(await client.call_tool("manage_alerts", {"action": "resolve", "alert_ids": ["nope"]}))
    assert [i["tiktok_handle"] for i in calendar["items"]] == ["blocked", "lagging", "spammer", "steady"]
    assert one["scope"] == "creator" and one["items"][0]["gaps"][0]["days"] == 7
    assert [p["key"] for p in pools["pools"]] == ["unknown"]  # nobody has a follower count in this program
    assert all(item["pool"] == "unknown" for item in board["items"])
    assert len(listed["items"]) == 6 and listed["webhook"]["url"] is None
    assert (acked["items"][0]["status"], done["items"][0]["status"]) == ("acknowledged", "resolved")
    assert missed["id"] not in [a["id"] for a in after["items"]]
    assert hook["webhook"]["secret"].startswith("whsec_") and shown["webhook"]["secret"] is None
    assert "[invalid_input]" in bad or "[not_found]" in bad


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # no backend difference to see
async def test_the_webhook_needs_an_admin_key_and_read_only_keys_do_not_see_the_alerts_tool(db, clock, acme):
    caller, _ = acme
    writer = Caller(caller.org_id, frozenset({"write"}))
    reader = Caller(caller.org_id, frozenset({"read"}))
    async with Client(make_server(db, clock, writer)) as client:
        refused = error_text(
            await client.call_tool("manage_alerts", {"action": "set_webhook", "url": "https://hooks.example.com/t"})
        )
        private = error_text(await client.call_tool("manage_alerts", {"action": "set_webhook"}))
    async with Client(make_server(db, clock, reader)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert "[insufficient_scope]" in refused and "admin" in refused
    assert "needs url" in private
    assert {"get_content_calendar", "get_creator_pools"} <= names and "manage_alerts" not in names
