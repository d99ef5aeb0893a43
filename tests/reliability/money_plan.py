"""A scripted run of payments and voids for the crash tests, and a process that runs it until it is killed.

`seed_ledger` gives an organization four creators with six weekly accruals each; `PLAN` is what a finance team
might do to them in one sitting: full, partial and auto-applied payments, an advance (credit) spent by a later
payment, an overpayment that is voided, a `settle_in_full` write-off, a void refused because its credit was spent,
and an ad-hoc payment. Every payment has its own idempotency key, so running the plan again after a crash is the
retry a client makes: steps that committed replay, the one in flight is taken over once its key's lease ran out.

`ledger_dump` describes an organization's ledger by names (creator handle, week, idempotency key) instead of ids,
so the ledger of an organization that crashed and retried can be compared with one that ran the plan undisturbed.

Run as a module this file is the worker process: `python -m tests.reliability.money_plan URL WORLD_JSON START`
runs the plan on a frozen clock starting at `START` (one second per step) and prints `step N` after each step, so
the parent can kill it at a point of its choosing.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import select

from tests.payouts.payments_support import add_accrual, seed_program
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import PayoutAccrual, PayoutAdjustment, PayoutPayment, PayoutPaymentLine
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts import payments
from trackagoat_mcp.domain.payouts.payments import LineRequest, PaymentRequest
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import TrackagoatError

HANDLES = ("ana", "ben", "cho", "dev")
WEEKS = (2_500, 4_000, 1_200, 7_000, 3_300, 900)

# (kind, arguments): accruals are named by week number, payments by step name.
PLAN: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("pay", "full", {"lines": [(0, None)]}),
    ("pay", "partial", {"lines": [(1, 1_000)]}),
    ("pay", "advance", {"total": 1_500}),
    ("pay", "auto", {"total": 2_000, "auto": True}),  # credit 1,500 first, then money: 3,000 on week 1, 500 on 2
    ("pay", "over", {"total": 20_000, "auto": True}),  # more than is owed: an overpayment credit
    ("void", "over", {}),
    ("pay", "writeoff", {"total": 5_000, "lines": [(3, None)], "settle": True}),  # 2,000 written off
    ("pay", "rest", {"auto": True}),
    ("void", "advance", {}),  # refused: its credit was spent by "auto"
    ("adhoc", "bonus", {"total": 1_234}),
)


@dataclass
class World:
    """The ids one organization's plan needs, in a form that survives JSON (for the worker process)."""

    org_id: str
    project_id: str
    method_id: str
    creators: dict[str, str]
    accruals: dict[str, str]  # "handle/week" -> id

    @property
    def caller(self) -> Caller:
        return Caller(uuid.UUID(self.org_id), frozenset({"write"}))


async def seed_ledger(db: Database, clock: FrozenClock, org: tuple[Caller, uuid.UUID]) -> World:
    """Four creators, each owed six weekly accruals (amounts differ per creator)."""
    program = await seed_program(db, clock, org, handles=HANDLES)
    accruals = {}
    for n, handle in enumerate(HANDLES):
        for week, amount in enumerate(WEEKS):
            accrual = await add_accrual(db, program, program.creators[handle], amount + n * 100)
            accruals[f"{handle}/{week}"] = str(accrual)
    return World(
        str(program.caller.org_id),
        str(program.project),
        str(program.venmo),
        {h: str(i) for h, i in program.creators.items()},
        accruals,
    )


def _request(world: World, handle: str, name: str, args: dict[str, Any], *, adhoc: bool) -> PaymentRequest:
    return PaymentRequest(
        project_id=world.project_id,
        creator_id=None if adhoc else world.creators[handle],
        method_id=world.method_id,
        idempotency_key=f"{handle}-{name}",
        total_amount_cents=args.get("total"),
        lines=tuple(LineRequest(world.accruals[f"{handle}/{week}"], amount) for week, amount in args.get("lines", ())),
        auto_apply_outstanding=args.get("auto", False),
        settle_in_full=args.get("settle", False),
    )


async def run_plan(
    db: Database, world: World, clock: FrozenClock, on_step: Callable[[int], None] = lambda _: None
) -> list[str]:
    """Run every step for every creator; returns each step's outcome (a payment's key, `voided`, or an error code).

    A void of a payment that is already voided counts as `voided`: it is what a retry after a crash sees.
    """
    outcomes: list[str] = []
    step = 0
    for handle in HANDLES:
        for kind, name, args in PLAN:
            clock.advance(timedelta(seconds=1))
            outcomes.append(await _run_step(db, world, clock, handle, kind, name, args))
            step += 1
            on_step(step)
    return outcomes


async def _run_step(
    db: Database, world: World, clock: FrozenClock, handle: str, kind: str, name: str, args: dict[str, Any]
) -> str:
    try:
        if kind != "void":
            request = _request(world, handle, name, args, adhoc=kind == "adhoc")
            payment = await payments.create_payout_payment(db, world.caller, request, now=clock.now())
            return f"paid {payment.total_amount_cents}"
        async with db.write() as session:
            target = (
                await session.scalars(
                    select(PayoutPayment.id).where(  # type: ignore[call-overload]
                        PayoutPayment.org_id == uuid.UUID(world.org_id),
                        PayoutPayment.idempotency_key == f"{handle}-{name}",
                    )
                )
            ).one()
            await payments.void_payout_payment(session, world.caller, target, reason="plan", now=clock.now())
        return "voided"
    except TrackagoatError as error:
        return "voided" if error.code == "already_voided" else error.code


async def ledger_dump(db: Database, world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every accrual, payment, line and adjustment of the organization, named by handle, week and key."""
    org = uuid.UUID(world.org_id)
    week_of = {uuid.UUID(i): name for name, i in world.accruals.items()}
    async with db.read() as session:
        accs = (await session.scalars(select(PayoutAccrual).where(PayoutAccrual.org_id == org))).all()  # type: ignore[arg-type]
        pays = (await session.scalars(select(PayoutPayment).where(PayoutPayment.org_id == org))).all()  # type: ignore[arg-type]
        key_of = {p.id: p.idempotency_key for p in pays}
        lines = [ln for ln in (await session.scalars(select(PayoutPaymentLine))).all() if ln.payment_id in key_of]
        adjs = [a for a in (await session.scalars(select(PayoutAdjustment))).all() if a.payment_id in key_of]
    source_key = {a.id: key_of[a.payment_id] for a in adjs}
    return {
        "accruals": sorted((week_of[a.id], a.amount_cents, a.outstanding_cents, a.status) for a in accs),
        "payments": sorted((p.idempotency_key, p.total_amount_cents, p.status, p.void_reason) for p in pays),
        "lines": sorted((key_of[ln.payment_id], week_of[ln.accrual_id], ln.applied_amount_cents) for ln in lines),
        "adjustments": sorted(
            (key_of[a.payment_id], a.kind, a.amount_cents, source_key.get(a.source_adjustment_id) or "")  # type: ignore[arg-type]
            for a in adjs
        ),
    }


async def _work(url: str, world: World, start: datetime) -> None:
    db = Database.connect(url)

    def report(step: int) -> None:
        sys.stdout.write(f"step {step}\n")
        sys.stdout.flush()

    try:
        report(0)
        await run_plan(db, world, FrozenClock(start), report)
    finally:
        await db.dispose()


def world_json(world: World) -> str:
    return json.dumps(asdict(world))


if __name__ == "__main__":
    _url, _world, _start = sys.argv[1:]
    anyio.run(_work, _url, World(**json.loads(_world)), datetime.fromisoformat(_start))
