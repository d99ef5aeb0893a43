"""The alert sources wired beside health: the Sentiment Radar's negative vibes and the scraper's block rate."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.domain import radar_world
from trackagoat_mcp.db.models import Alert, JobRun
from trackagoat_mcp.domain import alerts
from trackagoat_mcp.domain.alerts import Thresholds


async def recorded(db, org_id) -> dict[str, Alert]:
    async with db.read() as session:
        rows = (await session.scalars(select(Alert).where(Alert.org_id == org_id))).all()
    return {row.key: row for row in rows}


async def test_videos_breaking_the_negative_vibes_rule_become_alerts_without_their_comments(db, clock):
    seeded = await radar_world.seed(db, clock)
    async with db.write() as session:
        report = await alerts.evaluate_org(session, seeded.caller.org_id, now=clock.now(), thresholds=Thresholds())

    assert report.failed_sources == []
    vibes = {
        key: row for key, row in (await recorded(db, seeded.caller.org_id)).items() if row.kind == "negative_vibes"
    }
    # 4 of 10 and 40 of 100 fire; 39 of 100, 9 analyzed, and 9 + an emoji-only comment do not (radar_world's plan).
    assert set(vibes) == {f"negative_vibes:{seeded.videos[name]}" for name in ("a_forty", "b_forty")}
    for row in vibes.values():
        assert row.subject_type == "video" and row.details["negative_share"] == 40.0
        assert radar_world.BAD not in row.message and radar_world.BAD not in str(row.details)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the store plays no part in the rule
async def test_a_block_rate_over_its_threshold_is_one_organization_wide_alert_and_below_it_none(db, clock, acme):
    caller, _project = acme

    async def scrape_run(slot: str, fetches: int, blocked: int) -> None:
        blocks = {"by_kind": {"challenge": blocked} if blocked else {}, "browser_fetcher": False}
        async with db.write() as session:
            session.add(
                JobRun(
                    job="scrape",
                    slot=slot,
                    claimed_by="w",
                    status="ok",
                    finished_at=clock.now(),
                    report={"fetches": fetches, "blocks": blocks},
                )
            )

    async def evaluate(threshold: float) -> alerts.EvaluationReport:
        async with db.write() as session:
            return await alerts.evaluate_org(
                session, caller.org_id, now=clock.now(), thresholds=Thresholds(block_rate_threshold=threshold)
            )

    await scrape_run("s1", fetches=10, blocked=3)
    await evaluate(0.5)
    assert "scrape_blocked" not in await recorded(db, caller.org_id)  # 30 % is under a 50 % threshold

    await evaluate(0.2)
    blocked = (await recorded(db, caller.org_id))["scrape_blocked"]
    assert (blocked.kind, blocked.severity, blocked.project_id) == ("scrape_blocked", "critical", None)
    assert blocked.details["share"] == 0.3 and blocked.details["by_kind"] == {"challenge": 3}
    assert blocked.message.startswith("TikTok blocked 3 of 10 fetches (30%) in the last 1 scrape cycles.")
