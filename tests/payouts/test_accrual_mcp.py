"""The payouts tools through a real MCP client: set up a structure, run accruals, read them; version a rule."""

from __future__ import annotations

from datetime import UTC, datetime

from mcp import Client

from tests.conftest import make_server
from tests.payouts.accrual_support import make_program
from tests.server.conftest import ADMIN_TOOLSETS, error_text, ok
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database


async def test_an_agent_creates_a_structure_assigns_a_creator_runs_accruals_and_lists_what_is_owed(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)  # Tue 2026-03-10 12:00 UTC
    alice = str(await program.creator("alice"))
    project = str(program.project)

    async with Client(make_server(db, clock, program.caller, toolsets=ADMIN_TOOLSETS)) as client:
        created = ok(
            await client.call_tool(
                "create_payout_structure",
                {
                    "project_id": project,
                    "name": "Weekly retainer",
                    "period": "weekly",
                    "amount_cents": 7000,
                    "criteria_type": "recurring",
                    "proration_mode": "daily",
                },
            )
        )
        structure = created["id"]
        assigned = ok(
            await client.call_tool(
                "assign_payout_structure",
                {"structure_id": structure, "creator_ids": [alice], "starts_on": "2026-02-25"},
            )
        )
        run = ok(await client.call_tool("run_accruals", {}))
        owed = ok(await client.call_tool("list_payout_accruals", {"creator_id": alice, "status": "earned"}))
        again = ok(await client.call_tool("run_accruals", {}))
        listed = ok(await client.call_tool("list_payout_structures", {"project_id": project}))
        resource = await client.read_resource(f"trackagoat://payout-structures/{structure}")
        bad = await client.call_tool(
            "create_payout_structure",
            {
                "project_id": project,
                "name": "Typo",
                "period": "weekly",
                "amount_cents": 100,
                "criteria_type": "view_threshold",
                "criteria_params": {"treshold_views": 1000},
            },
        )

    assert created["current_version"]["version"] == 1 and created["versions"][0]["amount_cents"] == 7000
    assert [r["outcome"] for r in assigned["results"]] == ["assigned"] and assigned["assignment_count"] == 1
    # Wed Feb 25 - Sun Mar 1: 5 of 7 days (5000); the whole week of Mar 2 (7000); the week of Mar 9 is open.
    assert (run["evaluated"], run["accrued"], run["accrued_cents"]) == (2, 2, 12_000)
    assert [(a["period_start_at"][:10], a["amount_cents"], a["status"]) for a in owed["items"]] == [
        ("2026-02-23", 5000, "earned"),
        ("2026-03-02", 7000, "earned"),
    ]
    assert again["evaluated"] == 0
    assert [(s["name"], s["assignment_count"], s["current_version"]) for s in listed["items"]] == [
        ("Weekly retainer", 1, 1)
    ]
    assert f'"id":"{structure}"' in resource.contents[0].text  # type: ignore[union-attr]
    text = error_text(bad)
    assert "[invalid_input]" in text and "['treshold_views']" in text and "threshold_views" in text


async def test_an_agent_changes_a_rule_and_gets_version_2_while_a_rename_keeps_version_1(
    db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    structure = str(await program.structure(criteria_type="cpm", amount_cents=250, at=datetime(2026, 3, 1, tzinfo=UTC)))

    async with Client(make_server(db, clock, program.caller)) as client:
        renamed = ok(await client.call_tool("update_payout_structure", {"structure_id": structure, "name": "CPM Q1"}))
        changed = ok(
            await client.call_tool(
                "update_payout_structure",
                {"structure_id": structure, "amount_cents": 300, "criteria_params": {"max_cents": 10_000}},
            )
        )
        repeated = ok(
            await client.call_tool(
                "update_payout_structure",
                {"structure_id": structure, "amount_cents": 300, "criteria_params": {"max_cents": 10_000}},
            )
        )
        got = ok(await client.call_tool("get_payout_structure", {"structure_id": structure}))
        switch = await client.call_tool(
            "update_payout_structure", {"structure_id": structure, "criteria_type": "view_threshold"}
        )

    assert (renamed["new_version_created"], renamed["structure"]["current_version"]["version"]) == (False, 1)
    assert changed["new_version_created"] is True and repeated["new_version_created"] is False
    assert got["name"] == "CPM Q1"
    assert [(v["version"], v["amount_cents"], v["criteria_params"]) for v in got["versions"]] == [
        (2, 300, {"max_cents": 10_000}),
        (1, 250, {}),
    ]
    assert got["current_version"]["version"] == 2
    assert "[invalid_input] criteria_params.threshold_views is required" in error_text(switch)
