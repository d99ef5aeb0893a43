"""What a person's confirmation costs the server per payment: `off` vs `elicit` (approved) vs `token` (two calls).

One SQLite file made by the migrations holds one organization, one creator and an earned accrual per payment to
come. Three in-process MCP servers over that store differ only in `TRACKAGOAT_MONEY_CONFIRMATION`; each client
(2026-07-28 era) records payments of one accrual each (`lines`), taking turns payment by payment
so machine drift hits all alike:

* `off`: one `create_payout_payment` call that writes (the baseline);
* `elicit`: one call whose dry run is shown through elicitation (the callback approves at once), so two rounds;
* `token`: the preview call (a dry run, answered `[confirmation_required]`) and the confirmed call with its token.

Printed: mean and p99 ms per payment, and each mode's mean as a ratio of `off`. The person's reading time is not
part of it (the callback answers immediately): this is the server's own price for the dry run and the check.

    .venv/bin/python bench/confirmation.py          # 200 payments per mode
    .venv/bin/python bench/confirmation.py -n 40    # quick
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from mcp import Client
from mcp.types import ElicitResult

from _common import Summary, fresh_sqlite_file
from trackagoat_mcp.clock import SystemClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.models import Creator, PayoutAccrual, PayoutStructure, PayoutStructureVersion
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import orgs, projects
from trackagoat_mcp.domain.payouts import methods
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller
from trackagoat_mcp.server.app import build_server

MODES = ("off", "elicit", "token")


async def _seed(db: Database, accruals: int) -> tuple[Caller, dict[str, Any], list[str]]:
    now = SystemClock().now()
    async with db.write() as session:
        org = await orgs.create_org(session, name="Bench", timezone="UTC", now=now)
        caller = Caller(org.id, frozenset(ALL_SCOPES))
        project = await projects.create_project(session, caller, name="Bench program", now=now)
        creator = Creator(
            org_id=org.id,
            project_id=project.id,
            tiktok_handle="bench_creator",
            tracking_start_date=now.date(),
            created_at=now,
        )
        structure = PayoutStructure(org_id=org.id, project_id=project.id, name="Weekly", created_at=now)
        session.add_all([creator, structure])
        await session.flush()
        version = PayoutStructureVersion(
            structure_id=structure.id, version=1, period="weekly", amount_cents=1000, criteria_type="recurring"
        )
        session.add(version)
        await session.flush()
        ids = []
        start = datetime(2020, 1, 6, tzinfo=UTC)
        for week in range(accruals):
            accrual = PayoutAccrual(
                org_id=org.id,
                project_id=project.id,
                creator_id=creator.id,
                structure_id=structure.id,
                structure_version_id=version.id,
                period_start_at=start + timedelta(weeks=week),
                period_end_at=start + timedelta(weeks=week + 1),
                amount_cents=1000,
                outstanding_cents=1000,
                status="earned",
                inputs_snapshot={},
                created_at=now,
                updated_at=now,
            )
            session.add(accrual)
            ids.append(str(accrual.id))
        method = (await methods.list_methods(session, caller)).items[0]
    base = {"project_id": str(project.id), "creator_id": str(creator.id), "method_id": str(method.id)}
    return caller, base, ids


async def _approve(_context: Any, _params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"approve": True})


async def _pay(client: Client, mode: str, base: dict[str, Any], accrual_id: str) -> None:
    arguments = {**base, "lines": [{"accrual_id": accrual_id}], "idempotency_key": str(uuid.uuid4())}
    result = await client.call_tool("create_payout_payment", arguments)
    if mode == "token":
        assert result.structured_content is not None, result.content
        token = result.structured_content["confirmation_token"]
        result = await client.call_tool("create_payout_payment", {**arguments, "confirmation_token": token})
    assert not result.is_error, result.content


async def main(payments: int) -> None:
    path = fresh_sqlite_file("confirmation")
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    db = Database.connect(url)
    caller, base, accruals = await _seed(db, payments * len(MODES))
    samples: dict[str, list[float]] = {mode: [] for mode in MODES}
    async with (
        Client(build_server(_settings(url, "off"), db=db, caller=caller)) as off,
        Client(build_server(_settings(url, "elicit"), db=db, caller=caller), elicitation_callback=_approve) as ask,
        Client(build_server(_settings(url, "token"), db=db, caller=caller)) as token,
    ):
        clients = {"off": off, "elicit": ask, "token": token}
        for round_ in range(payments):
            order = MODES if round_ % 2 == 0 else tuple(reversed(MODES))
            for mode in order:
                started = time.perf_counter()
                await _pay(clients[mode], mode, base, accruals.pop())
                samples[mode].append(time.perf_counter() - started)
    await db.dispose()
    baseline = Summary.of(samples["off"])
    print(f"{payments} payments per mode, SQLite, in-process clients (2026-07-28), taking turns; shared machine")
    for mode in MODES:
        summary = Summary.of(samples[mode])
        print(
            f"  {mode:<7} mean {summary.mean_ms:7.2f} ms  p99 {summary.p99_ms:7.2f} ms  "
            f"x{summary.mean_ms / baseline.mean_ms:.2f} of off"
        )


def _settings(url: str, mode: str) -> Settings:
    return Settings(database_url=url, toolsets=frozenset({"payouts"}), money_confirmation=mode)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="payments per mode")
    anyio.run(main, parser.parse_args().n)
