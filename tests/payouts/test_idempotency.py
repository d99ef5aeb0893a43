"""Idempotency keys: the three outcomes of SPEC §5, under retries, a 50-caller race and a crashed process."""

from __future__ import annotations

import uuid
from datetime import timedelta

import anyio
import pytest
from sqlalchemy import select

from tests.domain._support import count_rows
from tests.payouts.payments_support import Program, add_accrual, audit, pay, seed_program
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import IdempotencyKey, PayoutAdjustment, PayoutPayment, PayoutPaymentLine
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts import idempotency
from trackagoat_mcp.domain.payouts.payments import OPERATION, LineRequest, PaymentRequest, create_payout_payment
from trackagoat_mcp.errors import Conflict


@pytest.fixture
async def program(db: Database, clock: FrozenClock, acme) -> Program:
    return await seed_program(db, clock, acme)


async def _rows(db: Database) -> tuple[int, int, int]:
    return (
        await count_rows(db, PayoutPayment),
        await count_rows(db, PayoutPaymentLine),
        await count_rows(db, PayoutAdjustment),
    )


async def test_the_same_key_with_the_same_request_returns_the_first_payment_and_writes_nothing(db, clock, program):
    a = await add_accrual(db, program, program.alice, 3_000)
    first = await pay(
        db, clock, program, program.alice, key="pay-alice-w1", lines=[(a, None)], total_amount_cents=3_500
    )
    before = await _rows(db)
    clock.advance(timedelta(hours=2))  # a retry much later, after the lease, still replays

    again = await pay(
        db, clock, program, program.alice, key="pay-alice-w1", lines=[(a, None)], total_amount_cents=3_500
    )

    assert (first.replayed, again.replayed) == (False, True)
    assert again.model_dump(exclude={"replayed"}) == first.model_dump(exclude={"replayed"})
    respelled = PaymentRequest(  # ids in another spelling are the same request
        project_id=str(program.project).upper(),
        creator_id=f" {program.alice} ",
        method_id=str(program.venmo).upper(),
        idempotency_key="pay-alice-w1",
        lines=(LineRequest(str(a).upper()),),
        total_amount_cents=3_500,
    )
    assert (await create_payout_payment(db, program.caller, respelled, now=clock.now())).id == first.id
    assert await _rows(db) == before == (1, 1, 1)


async def test_the_same_key_with_a_different_request_is_refused_as_reused(db, clock, program):
    await pay(db, clock, program, program.alice, key="k1", total_amount_cents=100)
    before = await _rows(db)

    for changed in ({"total_amount_cents": 101}, {"total_amount_cents": 100, "method": "PayPal"}):
        with pytest.raises(Conflict) as reused:
            await pay(db, clock, program, program.alice, key="k1", **changed)
        assert reused.value.code == "idempotency_key_reused"
        assert "'k1'" in reused.value.message and "new key" in reused.value.message
    assert await _rows(db) == before


async def test_keys_belong_to_one_organization(db, clock, program, globex):
    other = await seed_program(db, clock, globex, handles=("carol",))

    mine = await pay(db, clock, program, program.alice, key="shared-key", total_amount_cents=100)
    theirs = await pay(db, clock, other, other.creators["carol"], key="shared-key", total_amount_cents=100)

    assert mine.id != theirs.id and not theirs.replayed
    assert await count_rows(db, IdempotencyKey) == 2


async def test_fifty_concurrent_calls_with_one_key_create_exactly_one_payment(db, clock, program):
    for cents in (1_000, 2_000, 3_000):
        await add_accrual(db, program, program.alice, cents)
    outcomes: list[object] = []

    async def attempt() -> None:
        try:
            outcomes.append(await pay(db, clock, program, program.alice, key="race", auto_apply_outstanding=True))
        except Conflict as exc:
            outcomes.append(exc.code)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for _ in range(50):
                group.start_soon(attempt)

    payments = [o for o in outcomes if not isinstance(o, str)]
    refusals = [o for o in outcomes if isinstance(o, str)]
    assert len(outcomes) == 50 and set(refusals) <= {"idempotency_key_in_use"}
    assert len({p.id for p in payments}) == 1  # type: ignore[attr-defined]
    assert sum(not p.replayed for p in payments) == 1  # type: ignore[attr-defined]
    assert await _rows(db) == (1, 3, 0)
    ledger = await audit(db, program.caller.org_id)
    assert ledger.owed == {}


async def test_a_key_left_in_progress_by_a_crashed_process_is_taken_over_after_its_lease(db, clock, program):
    a = await add_accrual(db, program, program.alice, 2_000)
    request = PaymentRequest(
        project_id=str(program.project),
        creator_id=str(program.alice),
        method_id=str(program.venmo),
        idempotency_key="crash",
        lines=(LineRequest(str(a)),),
    )
    # A process claims the key and dies before its work transaction commits.
    crashed = await idempotency.claim(
        db,
        org_id=program.caller.org_id,
        operation=OPERATION,
        key="crash",
        fingerprint=request.fingerprint(),
        now=clock.now(),
    )

    with pytest.raises(Conflict) as running:
        await pay(db, clock, program, program.alice, key="crash", lines=[(a, None)])
    assert running.value.code == "idempotency_key_in_use"

    clock.advance(idempotency.LEASE + timedelta(seconds=1))
    retried = await pay(db, clock, program, program.alice, key="crash", lines=[(a, None)])
    assert not retried.replayed and retried.total_amount_cents == 2_000

    # Had the first process only been slow, it can no longer commit: its lease is gone.
    async with db.write() as session:
        with pytest.raises(Conflict) as late:
            await idempotency.finish(session, crashed, key="crash", resource_id=uuid.uuid4(), now=clock.now())
    assert late.value.code == "idempotency_key_in_use"
    again = await pay(db, clock, program, program.alice, key="crash", lines=[(a, None)])
    assert (again.id, again.replayed) == (retried.id, True)
    assert await _rows(db) == (1, 1, 0)


async def test_a_refused_request_frees_its_key_for_a_corrected_retry(db, clock, program):
    a = await add_accrual(db, program, program.alice, 1_000)

    with pytest.raises(Conflict) as too_much:
        await pay(db, clock, program, program.alice, key="fix-me", lines=[(a, 5_000)])
    assert too_much.value.code == "exceeds_outstanding"
    assert await count_rows(db, IdempotencyKey) == 0

    fixed = await pay(db, clock, program, program.alice, key="fix-me", lines=[(a, 1_000)])
    async with db.read() as session:
        key = (await session.scalars(select(IdempotencyKey))).one()
    assert (key.state, key.resource_id, key.locked_until, key.operation) == ("done", fixed.id, None, OPERATION)
    assert len(key.fingerprint) == 64


async def test_a_claim_lost_to_a_takeover_is_not_released_by_its_first_owner(db, clock, program):
    first = await idempotency.claim(
        db, org_id=program.caller.org_id, operation=OPERATION, key="k", fingerprint="f" * 64, now=clock.now()
    )
    later = clock.now() + idempotency.LEASE * 2
    second = await idempotency.claim(
        db, org_id=program.caller.org_id, operation=OPERATION, key="k", fingerprint="f" * 64, now=later
    )

    await idempotency.release(db, first)

    assert second.lease != first.lease and not second.replay
    assert await count_rows(db, IdempotencyKey) == 1
    await idempotency.release(db, second)
    assert await count_rows(db, IdempotencyKey) == 0
