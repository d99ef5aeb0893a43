"""The payment tools through a real MCP client: retries with one key, the reuse error, voids, balances, notes."""

from __future__ import annotations

import uuid

import pytest
from mcp import Client

from tests.conftest import make_server
from tests.domain._support import count_rows
from tests.payouts.payments_support import Program, add_accrual, seed_program
from tests.server.conftest import error_text, is_compact_json, ok, text_of
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import PayoutPayment, PayoutPaymentLine
from trackagoat_mcp.db.session import Database

PAYMENT_TOOLS = {
    "create_payout_payment",
    "list_payout_payments",
    "get_payout_payment",
    "void_payout_payment",
    "get_payout_balance",
}


@pytest.fixture
async def program(db: Database, clock: FrozenClock, acme) -> Program:
    return await seed_program(db, clock, acme)


def _client(db: Database, clock: FrozenClock, program: Program) -> Client:
    return Client(make_server(db, clock, program.caller, toolsets=frozenset({"payouts", "notes"})))


async def test_pay_everything_owed_in_one_call_and_a_retry_with_the_same_key_changes_nothing(db, clock, program):
    for cents in (1_000, 2_500):
        await add_accrual(db, program, program.alice, cents)
    key = str(uuid.uuid4())
    arguments = {
        "project_id": str(program.project),
        "creator_id": str(program.alice),
        "method_id": str(program.venmo),
        "auto_apply_outstanding": True,
        "idempotency_key": key,
    }
    async with _client(db, clock, program) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        first = await client.call_tool("create_payout_payment", arguments)
        retry = await client.call_tool("create_payout_payment", arguments)
        reused = await client.call_tool("create_payout_payment", {**arguments, "total_amount_cents": 5_000})
        balance = ok(await client.call_tool("get_payout_balance", {"creator_id": str(program.alice)}))

    assert PAYMENT_TOOLS <= set(tools)
    hints = tools["create_payout_payment"].annotations
    assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (False, False, True)
    assert "idempotency_key" in tools["create_payout_payment"].input_schema["required"]
    assert is_compact_json(text_of(first))
    paid, replay = ok(first), ok(retry)
    assert (paid["total_amount_cents"], paid["method_name_snapshot"], len(paid["payout_payment_lines"])) == (
        3_500,
        "Venmo",
        2,
    )
    assert (paid["replayed"], replay["replayed"], replay["id"]) == (False, True, paid["id"])
    assert error_text(reused).startswith("Error executing tool create_payout_payment: [idempotency_key_reused] ")
    assert await count_rows(db, PayoutPayment) == 1 and await count_rows(db, PayoutPaymentLine) == 2
    assert (balance["owed_cents"], balance["net_cents"], balance["earned_accrual_count"]) == (0, 0, 0)


async def test_void_through_mcp_makes_the_money_owed_again_and_notes_work_on_payments(db, clock, program):
    accrual_id = await add_accrual(db, program, program.alice, 4_000)
    async with _client(db, clock, program) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        paid = ok(
            await client.call_tool(
                "create_payout_payment",
                {
                    "project_id": str(program.project),
                    "creator_id": str(program.alice),
                    "method_id": str(program.venmo),
                    "lines": [{"accrual_id": str(accrual_id)}],
                    "total_amount_cents": 4_500,
                    "idempotency_key": "week-1-alice",
                },
            )
        )
        noted = ok(
            await client.call_tool(
                "write_readme",
                {"entity_type": "payout_payment", "entity_id": paid["id"], "readme": "Sent by Venmo, ref 123."},
            )
        )
        voided = ok(await client.call_tool("void_payout_payment", {"payment_id": paid["id"], "reason": "bounced"}))
        again = await client.call_tool("void_payout_payment", {"payment_id": paid["id"], "reason": "bounced"})
        listed = ok(
            await client.call_tool("list_payout_payments", {"creator_id": str(program.alice), "from": "2026-03-10"})
        )
        none_yet = ok(await client.call_tool("list_payout_payments", {"from": "2026-03-11"}))
        project = ok(await client.call_tool("get_payout_balance", {"project_id": str(program.project)}))

    hints = tools["void_payout_payment"].annotations
    assert (hints.read_only_hint, hints.destructive_hint) == (False, True)
    assert [a["kind"] for a in paid["payout_adjustments"]] == ["overpayment"]
    assert noted["readme"] == "Sent by Venmo, ref 123."
    assert (voided["status"], voided["void_reason"], voided["readme"]) == (
        "voided",
        "bounced",
        "Sent by Venmo, ref 123.",
    )
    assert "[already_voided]" in error_text(again)
    assert [(p["id"], p["status"], p["total_amount_cents"]) for p in listed["items"]] == [(paid["id"], "voided", 4_500)]
    assert listed["next_cursor"] is None and none_yet["items"] == []
    assert (project["owed_cents"], project["credit_cents"]) == (4_000, 0)
    assert [(c["tiktok_handle"], c["owed_cents"]) for c in project["creators"]] == [("alice", 4_000)]
