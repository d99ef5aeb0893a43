"""`db/races.py`: a write that loses a unique-key race runs again inside the store, a bounded number of times;
any other integrity failure is not retried."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from tests.domain._support import count_rows
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Creator
from trackagoat_mcp.db.races import RACE_ATTEMPTS, retry_lost_race
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Conflict


def _dates(clock: FrozenClock) -> dict[str, Any]:
    return {"tracking_start_date": clock.now().date(), "created_at": clock.now(), "updated_at": clock.now()}


async def test_work_that_keeps_finding_its_key_taken_runs_a_bounded_number_of_times_then_is_a_conflict(
    db: Database, clock: FrozenClock, acme: tuple[Caller, uuid.UUID]
) -> None:
    caller, project_id = acme
    runs = 0

    def creator(handle: str) -> Creator:
        return Creator(org_id=caller.org_id, project_id=project_id, tiktok_handle=handle, **_dates(clock))

    async with db.write() as session:
        session.add(creator("taken"))

    with pytest.raises(Conflict) as refused:
        async with db.write() as session:
            session.add(creator("kept"))  # added before the savepoint: survives each rolled-back attempt

            async def work() -> None:
                nonlocal runs
                runs += 1
                session.add(creator("taken"))

            await retry_lost_race(session, work)
    assert runs == RACE_ATTEMPTS
    assert refused.value.code == "conflict" and "changed nothing" in refused.value.message
    assert await count_rows(db, Creator) == 1


async def test_an_integrity_failure_other_than_a_unique_key_is_raised_at_once(
    db: Database, clock: FrozenClock, acme: tuple[Caller, uuid.UUID]
) -> None:
    caller, _ = acme
    runs = 0

    async def work() -> None:
        nonlocal runs
        runs += 1
        session.add(Creator(org_id=caller.org_id, project_id=uuid.uuid4(), tiktok_handle="x", **_dates(clock)))

    with pytest.raises(IntegrityError):
        async with db.write() as session:
            await retry_lost_race(session, work)
    assert runs == 1
