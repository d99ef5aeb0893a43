"""A person confirms the exact effect before money moves: elicitation in both protocol eras, or a confirmation token.

Every call goes through a real `mcp.Client` over the in-memory transport, on SQLite and PostgreSQL. The elicitation
callback plays the person: it records what it was shown and answers accept, decline or cancel.
"""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import ElicitRequestParams, ElicitResult

from tests.conftest import make_server
from tests.domain._support import count_rows
from tests.payouts.payments_support import Program, add_accrual, audit, pay, seed_program
from tests.server.conftest import add_creator, dump_store, error_text, ok
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import IdempotencyKey, PayoutAssignment, PayoutPayment
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts.confirmations import TOKEN_TTL
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller

SHARED = "0123456789abcdef0123456789abcdef"
"""The replicas' shared key (TRACKAGOAT_REQUEST_STATE_KEYS), which confirmation tokens are signed with."""
ERAS = [pytest.param("auto", id="2026-07-28"), pytest.param("legacy", id="2025-11-25")]


@pytest.fixture
async def program(db: Database, clock: FrozenClock, acme) -> Program:
    return await seed_program(db, clock, acme)


class Person:
    """An elicitation callback: answers every question with `action` (and `approve`), keeping what it was shown."""

    def __init__(self, action: str = "accept", approve: bool = True) -> None:
        self.action = action
        self.approve = approve
        self.shown: list[str] = []

    async def __call__(self, _ctx: Any, params: ElicitRequestParams) -> ElicitResult:
        self.shown.append(params.message)
        assert params.requested_schema["properties"]["approve"]["type"] == "boolean"  # type: ignore[union-attr]
        content = {"approve": self.approve} if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)  # type: ignore[arg-type]


def _client(db: Database, clock: FrozenClock, caller: Caller, mode: str = "auto", **kwargs: Any) -> Client:
    setting = kwargs.pop("confirmation", "elicit")
    server = make_server(
        db, clock, caller, toolsets=frozenset({"payouts"}), money_confirmation=setting, request_state_keys=(SHARED,)
    )
    return Client(server, mode=mode, **kwargs)


def _payment(program: Program, **changes: Any) -> dict[str, Any]:
    return {
        "project_id": str(program.project),
        "creator_id": str(program.alice),
        "method_id": str(program.venmo),
        "auto_apply_outstanding": True,
        "idempotency_key": "pay-alice-march",
        **changes,
    }


# --- elicitation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ERAS)
async def test_an_approved_payment_shows_its_exact_effect_and_is_written_exactly_once(db, clock, program, mode):
    first = await add_accrual(db, program, program.alice, 1_000)
    await add_accrual(db, program, program.alice, 2_550)
    person = Person()
    async with _client(db, clock, program.caller, mode, elicitation_callback=person) as client:
        paid = ok(await client.call_tool("create_payout_payment", _payment(program, total_amount_cents=4_000)))
        retry = ok(await client.call_tool("create_payout_payment", _payment(program, total_amount_cents=4_000)))

    (shown,) = person.shown  # asked once; the retry replays the stored payment without asking
    assert "Record a payment of 4000 cents ($40.00) to @alice by Venmo." in shown
    assert "- Weekly retainer 2026-01-05..2026-01-11: 1000 cents ($10.00)" in shown
    assert "- Weekly retainer 2026-01-12..2026-01-18: 2550 cents ($25.50)" in shown
    assert "Overpayment held as credit: 450 cents ($4.50)" in shown
    assert paid["total_amount_cents"] == 4_000 and paid["replayed"] is False
    assert str(first) in {line["accrual_id"] for line in paid["payout_payment_lines"]}
    assert (retry["id"], retry["replayed"]) == (paid["id"], True)
    assert await count_rows(db, PayoutPayment) == 1
    assert (await audit(db, program.caller.org_id)).credit[program.alice] == 450


async def test_the_question_names_the_credit_spent_and_the_write_off(db, clock, program):
    await pay(db, clock, program, program.alice, total_amount_cents=400)  # an advance: 400 cents of credit
    await add_accrual(db, program, program.alice, 3_000)
    person = Person()
    arguments = _payment(program, total_amount_cents=2_000, settle_in_full=True, paid_at="2026-03-09T10:00:00")
    async with _client(db, clock, program.caller, elicitation_callback=person) as client:
        paid = ok(await client.call_tool("create_payout_payment", arguments))

    (shown,) = person.shown
    assert "Record a payment of 2000 cents ($20.00) to @alice by Venmo." in shown
    assert "Credit spent: 400 cents ($4.00)" in shown
    assert "Written off (settled in full for less): 600 cents ($6.00)" in shown
    assert "Paid at 2026-03-09T10:00:00+00:00" in shown  # the organization's timezone is UTC
    assert sorted(a["kind"] for a in paid["payout_adjustments"]) == ["credit_applied", "underpayment"]


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize(
    ("action", "approve", "code"),
    [
        ("decline", True, "confirmation_declined"),
        ("cancel", True, "confirmation_cancelled"),
        ("accept", False, "confirmation_declined"),
    ],
)
async def test_a_declined_or_cancelled_confirmation_writes_nothing_and_says_so(
    db, clock, program, mode, action, approve, code
):
    await add_accrual(db, program, program.alice, 1_000)
    before = await dump_store(db)
    person = Person(action, approve)
    async with _client(db, clock, program.caller, mode, elicitation_callback=person) as client:
        text = error_text(await client.call_tool("create_payout_payment", _payment(program)))

    assert text.startswith(f"Error executing tool create_payout_payment: [{code}] ")
    assert "nothing was written" in text
    assert len(person.shown) == 1
    assert await dump_store(db) == before


@pytest.mark.parametrize("mode", ERAS)
async def test_void_reject_and_assign_each_ask_with_their_effect_before_writing(db, clock, program, mode):
    paid_accrual = await add_accrual(db, program, program.alice, 3_000)
    rejected = await add_accrual(db, program, program.alice, 700)
    newcomer = await _creator(db, clock, program, "carol")
    person = Person()
    async with _client(db, clock, program.caller, mode, elicitation_callback=person) as client:
        paid = ok(
            await client.call_tool(
                "create_payout_payment",
                _payment(program, auto_apply_outstanding=False, lines=[{"accrual_id": str(paid_accrual)}]),
            )
        )
        voided = ok(await client.call_tool("void_payout_payment", {"payment_id": paid["id"], "reason": "bounced"}))
        reject = {"accrual_id": str(rejected), "action": "reject", "reason": "posted after the deadline"}
        rejected_out = ok(await client.call_tool("update_payout_accrual", reject))
        restored = ok(
            await client.call_tool("update_payout_accrual", {**reject, "action": "restore", "reason": "appealed"})
        )
        assigned = ok(
            await client.call_tool(
                "assign_payout_structure",
                {"structure_id": str(program.structure), "creator_ids": [str(newcomer)], "starts_on": "2026-03-02"},
            )
        )
        again = ok(
            await client.call_tool(
                "assign_payout_structure",
                {"structure_id": str(program.structure), "creator_ids": [str(newcomer)], "starts_on": "2026-03-02"},
            )
        )

    assert voided["status"] == "voided" and rejected_out["status"] == "rejected" and restored["status"] == "earned"
    assert [r["outcome"] for r in assigned["results"]] == ["assigned"]
    assert [r["outcome"] for r in again["results"]] == ["already_assigned"]
    # Asked for the payment, the void, the reject and the new assignment; never for a restore or a no-op.
    pay, void, reject_q, assign = person.shown
    assert "Record a payment of 3000 cents ($30.00) to @alice by Venmo." in pay
    assert f"Void payment {paid['id']} of 3000 cents ($30.00) to @alice by Venmo" in void
    assert "- owed again: Weekly retainer 2026-01-05..2026-01-11: 3000 cents ($30.00)" in void
    assert "Reason: bounced" in void
    assert "Reject the accrual of @alice under Weekly retainer (version 1): it stops being owed." in reject_q
    assert "Reason: posted after the deadline" in reject_q
    assert "Assign 1 creator(s) to 'Weekly retainer'" in assign and "- @carol" in assign
    assert "Back-dated: periods from 2026-03-02 on" in assign
    assert await count_rows(db, PayoutAssignment) == 1


@pytest.mark.parametrize("mode", ERAS)
async def test_a_ledger_that_changes_while_the_person_reads_never_gets_the_old_approval(db, clock, program, mode):
    await add_accrual(db, program, program.alice, 1_000)
    person = Person()
    answer = person.__call__

    async def earns_meanwhile(context: Any, params: ElicitRequestParams) -> ElicitResult:
        if not person.shown:  # while the first question is open, the accrual job records another week
            await add_accrual(db, program, program.alice, 2_000)
        return await answer(context, params)

    async with _client(db, clock, program.caller, mode, elicitation_callback=earns_meanwhile) as client:
        result = await client.call_tool("create_payout_payment", _payment(program))

    assert "1000 cents ($10.00)" in person.shown[0]
    if mode == "legacy":
        # 2025 era: the answer arrives inside the call; the write sees another effect than the one approved.
        assert "[confirmation_stale]" in error_text(result) and "nothing was written" in error_text(result)
        assert await count_rows(db, PayoutPayment) == 0
    else:
        # 2026-07-28: the retried call works the payment out again; a different question is asked again, and
        # only the one the person approved last is written.
        assert len(person.shown) == 2 and "3000 cents ($30.00)" in person.shown[1]
        assert ok(result)["total_amount_cents"] == 3_000
        assert await count_rows(db, PayoutPayment) == 1


async def test_a_client_without_elicitation_gets_the_token_flow_in_elicit_mode(db, clock, program):
    await add_accrual(db, program, program.alice, 1_000)
    async with _client(db, clock, program.caller) as client:
        result = await client.call_tool("create_payout_payment", _payment(program))

    text = error_text(result)
    assert text.startswith("Error executing tool create_payout_payment: [confirmation_required] Nothing was written.")
    assert "Record a payment of 1000 cents ($10.00) to @alice by Venmo." in text
    assert result.structured_content is not None
    assert result.structured_content["confirmation_token"] in text
    assert result.structured_content["effect"]["total_cents"] == 1_000
    assert await count_rows(db, PayoutPayment) == 0


# --- tokens --------------------------------------------------------------------------------------------------


async def _preview(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    assert "[confirmation_required]" in error_text(result)
    assert result.structured_content is not None
    token: str = result.structured_content["confirmation_token"]
    return token


async def test_a_token_confirms_once_and_the_same_idempotency_key_then_replays(db, clock, program):
    await add_accrual(db, program, program.alice, 1_000)
    await add_accrual(db, program, program.alice, 2_500)
    async with _client(db, clock, program.caller, confirmation="token") as client:
        before = await dump_store(db)
        token = await _preview(client, "create_payout_payment", _payment(program))
        assert await dump_store(db) == before
        paid = ok(await client.call_tool("create_payout_payment", _payment(program, confirmation_token=token)))
        replay = ok(await client.call_tool("create_payout_payment", _payment(program, confirmation_token=token)))
        plain_retry = ok(await client.call_tool("create_payout_payment", _payment(program)))

    assert (paid["total_amount_cents"], paid["replayed"]) == (3_500, False)
    assert (replay["id"], replay["replayed"]) == (paid["id"], True)
    assert (plain_retry["id"], plain_retry["replayed"]) == (paid["id"], True)
    assert await count_rows(db, PayoutPayment) == 1


async def test_an_expired_token_writes_nothing(db, clock, program):
    await add_accrual(db, program, program.alice, 1_000)
    async with _client(db, clock, program.caller, confirmation="token") as client:
        token = await _preview(client, "create_payout_payment", _payment(program))
        clock.advance(TOKEN_TTL)
        text = error_text(await client.call_tool("create_payout_payment", _payment(program, confirmation_token=token)))

    assert "[confirmation_expired]" in text and "nothing was written" in text
    assert await count_rows(db, PayoutPayment) == 0


async def test_a_token_works_only_for_the_key_that_asked(db, clock, program, globex):
    await add_accrual(db, program, program.alice, 1_000)
    asker = Caller(program.caller.org_id, frozenset(ALL_SCOPES), key_id=uuid.uuid4())
    other = Caller(program.caller.org_id, frozenset(ALL_SCOPES), key_id=uuid.uuid4())
    async with _client(db, clock, asker, confirmation="token") as client:
        token = await _preview(client, "create_payout_payment", _payment(program))
    async with _client(db, clock, other, confirmation="token") as client:
        text = error_text(await client.call_tool("create_payout_payment", _payment(program, confirmation_token=token)))
        forged = error_text(
            await client.call_tool("create_payout_payment", _payment(program, confirmation_token=token[:-4] + "AAAA"))
        )

    async with _client(db, clock, globex[0], confirmation="token") as client:
        elsewhere = error_text(
            await client.call_tool("create_payout_payment", _payment(program, confirmation_token=token))
        )

    assert "[confirmation_wrong_key]" in text
    assert "[confirmation_invalid]" in forged
    assert "[not_found]" in elsewhere  # another organization cannot even see what the token was for
    assert await count_rows(db, PayoutPayment) == 0


async def test_a_token_refuses_changed_arguments_and_a_changed_ledger(db, clock, program):
    await add_accrual(db, program, program.alice, 1_000)
    async with _client(db, clock, program.caller, confirmation="token") as client:
        token = await _preview(client, "create_payout_payment", _payment(program))
        changed = error_text(
            await client.call_tool(
                "create_payout_payment", _payment(program, total_amount_cents=999_999, confirmation_token=token)
            )
        )
        await add_accrual(db, program, program.alice, 5_000)  # auto-apply would now pay this one too
        before = await dump_store(db)
        stale = error_text(await client.call_tool("create_payout_payment", _payment(program, confirmation_token=token)))
        after = await dump_store(db)

    assert "[confirmation_arguments_changed]" in changed
    assert "[confirmation_stale]" in stale and "nothing was written" in stale
    assert after == before
    assert await count_rows(db, PayoutPayment) == 0


async def test_a_spent_token_cannot_be_replayed(db, clock, program):
    accrual_id = await add_accrual(db, program, program.alice, 1_000)
    reject = {"accrual_id": str(accrual_id), "action": "reject", "reason": "duplicate"}
    async with _client(db, clock, program.caller, confirmation="token") as client:
        token = await _preview(client, "update_payout_accrual", reject)
        rejected = ok(await client.call_tool("update_payout_accrual", {**reject, "confirmation_token": token}))
        ok(await client.call_tool("update_payout_accrual", {**reject, "action": "restore", "reason": "oops"}))
        before = await dump_store(db)
        replay = error_text(await client.call_tool("update_payout_accrual", {**reject, "confirmation_token": token}))
        after = await dump_store(db)

    assert rejected["status"] == "rejected"
    assert "[confirmation_used]" in replay
    assert after == before


async def test_two_calls_racing_with_one_token_write_once(db, clock, program):
    paid = await pay(db, clock, program, program.alice, total_amount_cents=900)
    void = {"payment_id": str(paid.id), "reason": "sent twice"}
    async with _client(db, clock, program.caller, confirmation="token") as client:
        token = await _preview(client, "void_payout_payment", void)
    results: list[Any] = []

    async def confirm() -> None:
        async with _client(db, clock, program.caller, confirmation="token") as client:
            results.append(await client.call_tool("void_payout_payment", {**void, "confirmation_token": token}))

    async with anyio.create_task_group() as group:
        group.start_soon(confirm)
        group.start_soon(confirm)

    done = [r for r in results if not r.is_error]
    refused = [error_text(r) for r in results if r.is_error]
    assert len(done) == 1 and ok(done[0])["status"] == "voided"
    assert len(refused) == 1 and ("[confirmation_used]" in refused[0] or "[already_voided]" in refused[0]), refused
    assert await count_rows(db, IdempotencyKey) == 2  # the payment's own key and the one spent token


async def _creator(db: Database, clock: FrozenClock, program: Program, handle: str) -> uuid.UUID:
    return await add_creator(db, clock, program.caller, program.project, handle)


def test_the_setting_reads_elicit_token_or_off_and_refuses_anything_else():
    from trackagoat_mcp.config import load_settings
    from trackagoat_mcp.errors import ConfigError

    base = {"TRACKAGOAT_DATABASE_URL": "sqlite+aiosqlite:///unused.db"}
    assert load_settings(base).money_confirmation == "elicit"
    assert load_settings({**base, "TRACKAGOAT_MONEY_CONFIRMATION": " Token "}).money_confirmation == "token"
    with pytest.raises(ConfigError, match="TRACKAGOAT_MONEY_CONFIRMATION 'ask'"):
        load_settings({**base, "TRACKAGOAT_MONEY_CONFIRMATION": "ask"})
