"""One organization's large payout history does not slow another organization's calls.

Organization A assigns 200 creators to a daily structure four months back (24,000 periods not yet evaluated) and
previews its accruals, then the accrual job starts working through them, while organization B, on another server
sharing the process (as two tenants of one HTTP server do), keeps calling a read tool. B's calls must stay quick:
planning and ordering the history run in a worker thread and evaluation is one short transaction per unit. Before, the
preview held the event loop for the whole walk of the history (10-12 s at this size's 20-fold).

What is checked is relative, so it holds on a loaded machine (the suite runs four workers on two CPUs): B's calls
keep being answered while A's preview runs, and take a small fraction of the time the preview takes. On a quiet
machine B's slowest call during all of this is about 0.2 s (a garbage collection of A's periods), p99 under 0.1 s.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from mcp import Client

from tests.conftest import make_org, make_server
from tests.server.conftest import ADMIN_TOOLSETS, ok
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators
from trackagoat_mcp.domain.payouts import assignments, structures
from trackagoat_mcp.jobs.accruals import run_accruals

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
CREATORS = 200
BACK = timedelta(days=120)


class Enough(Exception):
    """Stops the accrual job once the test has seen it work for a while."""


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
async def test_a_large_history_previewed_and_accrued_does_not_slow_another_organizations_calls(
    db: Database, clock: FrozenClock
) -> None:
    clock.set(NOW)
    big, big_project = await make_org(db, clock, "Big")
    async with db.write() as session:
        ids = []
        for batch in range(CREATORS // 50):
            added = await creators.add_creators(
                session, big, project_id=big_project, handles=[f"big{batch}_{i}" for i in range(50)], now=NOW
            )
            ids += [r.creator_id for r in added.results]
        daily = await structures.create_structure(
            session,
            big,
            project_id=big_project,
            name="Daily retainer",
            period="daily",
            amount_cents=100,
            criteria_type="recurring",
            now=NOW - BACK,
        )
        for batch in range(0, CREATORS, 50):
            await assignments.assign_creators(
                session, big, daily.id, ids[batch : batch + 50], now=NOW, starts_on=(NOW - BACK).date()
            )
    small, _ = await make_org(db, clock, "Small")

    calls: list[tuple[float, float]] = []
    preview_window = (0.0, 0.0)

    async with (
        Client(make_server(db, clock, big, toolsets=ADMIN_TOOLSETS)) as a,
        Client(make_server(db, clock, small)) as b,
    ):

        async def tenant_b(until: anyio.Event) -> None:
            while not until.is_set():
                started = time.perf_counter()
                ok(await b.call_tool("list_projects", {}))
                calls.append((started, time.perf_counter()))
                await anyio.sleep(0.005)

        async def tenant_a() -> None:
            nonlocal preview_window
            started = time.perf_counter()
            page = ok(await a.call_tool("preview_accruals", {"structure_id": str(daily.id)}))
            preview_window = (started, time.perf_counter())
            assert page["total_periods"] == CREATORS * (BACK.days + 1)

            def enough(done: int) -> None:
                if done >= 150:
                    raise Enough

            with pytest.raises(Enough):
                await run_accruals(db, clock, worker_id="big", on_evaluated=enough)

        ok(await b.call_tool("list_projects", {}))  # warm-up: the client compiles the tool's output schema once
        done = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(tenant_b, done)
            await tenant_a()
            done.set()

    preview_seconds = preview_window[1] - preview_window[0]
    during = [end - start for start, end in calls if preview_window[0] <= end <= preview_window[1]]
    assert len(during) >= 3, (len(during), preview_seconds)  # B is served while A's history is planned
    assert statistics.median(during) < 0.25 * preview_seconds, (during, preview_seconds)
