"""Money survives crashes: the accrual job and a run of payments are killed at random points and rerun.

Each kill is a SIGKILL of a real worker process (no cleanup, no rollback by our code: the database throws away
whatever transaction was open). After every kill the ledger must already be consistent, and after the rerun it
must be exactly the ledger of a run that was never interrupted: nothing lost, nothing paid or earned twice.

The kill points come from a seeded random generator; the seed is printed in every failure message and can be
fixed with `TRACKAGOAT_CRASH_SEED` to replay a failure.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import anyio
import anyio.to_thread

from tests.payouts.accrual_support import (
    ROOT,
    accruals,
    evaluations,
    finish,
    forget_runs,
    make_program,
    payout_rows,
    seed_busy_program,
    start_worker,
)
from tests.payouts.payments_support import audit
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts import idempotency

from ..conftest import make_org
from .money_plan import HANDLES, PLAN, ledger_dump, run_plan, seed_ledger, world_json

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # the busy program has 44 units due then
KILLS = 3
SEED = int(os.environ.get("TRACKAGOAT_CRASH_SEED") or random.randrange(2**32))


def _rng(name: str) -> random.Random:
    return random.Random(f"{SEED}-{name}")


async def test_the_accrual_job_killed_at_random_points_and_rerun_earns_every_accrual_exactly_once(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    due = await seed_busy_program(program)
    await program.run(NOW)
    reference = await payout_rows(db)
    assert len(reference["evaluations"]) == due
    await forget_runs(db)
    rng = _rng("accruals")

    for kill in range(KILLS):
        after, delay = rng.randrange(due), rng.uniform(0, 0.02)
        # Each worker is 11 minutes later than the last: past the dead one's 10-minute heartbeat, so it takes over.
        at = NOW + timedelta(minutes=11 * kill)
        code, _, err = await anyio.to_thread.run_sync(finish, start_worker(db_url, at, f"doomed{kill}", after, delay))
        context = f"seed {SEED}, kill {kill} after {after} evaluations + {delay:.3f} s: exit {code} {err[-500:]}"
        assert code in (-signal.SIGKILL, 0), context
        rows = await payout_rows(db)
        # Whatever committed is exactly what an uninterrupted run writes, and no accrual lacks its evaluation.
        assert all(row in reference["evaluations"] for row in rows["evaluations"]), context
        assert all(row in reference["accruals"] for row in rows["accruals"]), context
        evaluated = {e.accrual_id for e in await evaluations(db)}
        assert {a.id for a in await accruals(db)} <= evaluated, context

    await program.run(NOW + timedelta(minutes=11 * KILLS))
    assert await payout_rows(db) == reference, f"seed {SEED}"


def _start_payments(url: str, world: str, start: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tests.reliability.money_plan", url, world, start]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKAGOAT_")}
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_after_step(process: subprocess.Popen[str], step: int, delay: float) -> str:
    """Let the worker report `step` (0 = started), wait `delay` seconds and SIGKILL it; returns its last line."""
    assert process.stdout is not None
    line = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline().strip()
        if not line or line == f"step {step}":
            break
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    return line


async def test_payments_killed_at_random_points_and_retried_pay_exactly_what_an_uninterrupted_run_pays(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    calm_world = await seed_ledger(db, clock, await make_org(db, clock, "Calm"))
    crash_world = await seed_ledger(db, clock, await make_org(db, clock, "Crashy"))
    started = time.perf_counter()
    expected_outcomes = await run_plan(db, calm_world, FrozenClock(clock.now()))
    per_step = (time.perf_counter() - started) / len(expected_outcomes)
    expected = await ledger_dump(db, calm_world)
    assert expected_outcomes.count("voided") == len(HANDLES) and "credit_consumed" in expected_outcomes
    rng = _rng("payments")
    steps = len(PLAN) * len(HANDLES)
    # Each run starts after the previous one's keys' leases ran out, so a key left in flight is taken over.
    gap = idempotency.LEASE + timedelta(seconds=steps + 5)

    for kill in range(KILLS):
        step, delay = rng.randrange(steps), rng.uniform(0, 2 * per_step)
        start = (clock.now() + gap * (kill + 1)).isoformat()
        process = _start_payments(db_url, world_json(crash_world), start)
        last = await anyio.to_thread.run_sync(_kill_after_step, process, step, delay)
        context = f"seed {SEED}, kill {kill} {delay:.4f} s after step {step} (last seen {last!r})"
        assert last == f"step {step}", f"the worker stopped before the kill point: {context}"
        # The ledger is consistent at every point a crash can leave it in (`audit` asserts the invariants).
        await audit(db, crash_world.caller.org_id)

    outcomes = await run_plan(db, crash_world, FrozenClock(clock.now() + gap * (KILLS + 1)))

    assert outcomes == expected_outcomes, context
    assert await ledger_dump(db, crash_world) == expected, context
    await audit(db, crash_world.caller.org_id)
