"""Alerts: health findings recorded once per key with first/last seen, triaged, reopened when they recur."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.insights._support import seed_alerts
from trackagoat_mcp.db.models import Alert
from trackagoat_mcp.domain import alerts
from trackagoat_mcp.domain.alerts import Finding, Thresholds
from trackagoat_mcp.errors import Conflict, NotFound


@pytest.fixture
async def program(db, clock, acme):
    caller, project = acme
    return await seed_alerts(db, caller, project, clock.now())


async def evaluate(db, clock, program):
    async with db.write() as session:
        return await alerts.evaluate_org(session, program.caller.org_id, now=clock.now(), thresholds=Thresholds())


async def active(db, program, status="active"):
    async with db.read() as session:
        page = await alerts.list_alerts(session, program.caller, status=status, limit=100)
    return {a.key.split(":")[0] + ":" + _who(program, a): a for a in page.items}


def _who(program, alert):
    names = {str(v): k for k, v in program.ids.items()}
    return (
        names.get(str(alert.subject_id))
        or names.get(alert.details.get("creator_id", ""))
        or alert.details.get("job", "")
    )


async def test_every_kind_of_health_finding_becomes_one_alert(db, clock, program):
    report = await evaluate(db, clock, program)
    found = await active(db, program)
    assert sorted(found) == [
        "creator_failing:blocked",
        "goal_at_risk:lagging",
        "goal_missed:lagging",
        "job_lag:scrape",
        "over_posting:spammer",
        "unpaid_balance:steady",
    ]
    assert (report.new, report.reopened, report.failed_sources) == (6, 0, [])
    assert found["goal_missed:lagging"].severity == "critical"
    assert found["unpaid_balance:steady"].details == {"outstanding_cents": 2500, "accrual_count": 1}
    assert found["job_lag:scrape"].project_id is None
    assert all(a.status == "open" and a.first_seen_at == a.last_seen_at == clock.now() for a in found.values())


async def test_a_finding_seen_again_keeps_its_alert_and_moves_last_seen(db, clock, program):
    await evaluate(db, clock, program)
    first = clock.now()
    clock.advance(timedelta(minutes=15))
    report = await evaluate(db, clock, program)
    assert (report.new, report.seen_again) == (0, 6)
    found = await active(db, program)
    assert {(a.first_seen_at, a.last_seen_at) for a in found.values()} == {(first, clock.now())}
    async with db.read() as session:
        assert len(list(await session.scalars(select(Alert)))) == 6


async def test_a_resolved_alert_reopens_when_it_recurs_and_an_acknowledged_one_stays_acknowledged(db, clock, program):
    await evaluate(db, clock, program)
    found = await active(db, program)
    blocked, lag = found["creator_failing:blocked"], found["job_lag:scrape"]
    async with db.write() as session:
        [acked] = await alerts.acknowledge_alerts(session, program.caller, [str(lag.id)], now=clock.now())
        [resolved] = await alerts.resolve_alerts(session, program.caller, [str(blocked.id)], now=clock.now())
    assert (acked.status, resolved.status, resolved.resolved_at) == ("acknowledged", "resolved", clock.now())
    assert "creator_failing:blocked" not in await active(db, program)
    clock.advance(timedelta(minutes=15))
    report = await evaluate(db, clock, program)
    assert report.reopened == 1
    again = await active(db, program)
    reopened = again["creator_failing:blocked"]
    assert (reopened.id, reopened.status, reopened.reopened_count, reopened.resolved_at) == (
        blocked.id,
        "open",
        1,
        None,
    )
    assert reopened.notified_at is None  # sent to the webhook again
    assert again["job_lag:scrape"].status == "acknowledged"


async def test_triage_refuses_resolved_acknowledgements_and_other_organizations_ids(db, clock, program, globex):
    await evaluate(db, clock, program)
    some = next(iter((await active(db, program)).values()))
    async with db.write() as session:
        await alerts.resolve_alerts(session, program.caller, [str(some.id)], now=clock.now())
    with pytest.raises(Conflict, match="resolved"):
        async with db.write() as session:
            await alerts.acknowledge_alerts(session, program.caller, [str(some.id)], now=clock.now())
    stranger, _ = globex
    with pytest.raises(NotFound):
        async with db.write() as session:
            await alerts.resolve_alerts(session, stranger, [str(some.id)], now=clock.now())


async def test_a_registered_source_adds_findings_and_a_broken_one_does_not_silence_the_rest(db, clock, program):
    async def vibes(session, caller, project, now, thresholds):
        return [
            Finding(
                key=f"negative_vibes:{project.id}",
                kind="negative_vibes",
                message="45 % negative",
                project_id=project.id,
                source="vibes",
            )
        ]

    async def broken(session, caller, project, now, thresholds):
        raise RuntimeError("scraper stats unavailable")

    alerts.register_source("vibes", vibes)
    alerts.register_source("broken", broken)
    try:
        report = await evaluate(db, clock, program)
    finally:
        del alerts.SOURCES["vibes"], alerts.SOURCES["broken"]
    assert (report.new, report.failed_sources) == (7, ["broken"])
    kinds = {a.kind for a in (await active(db, program)).values()}
    assert "negative_vibes" in kinds
