"""`agent_context`: the chain of human instructions around an entity, most specific first, plus caveats."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.domain._support import insert_video
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Creator, Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import campaigns, creators, notes
from trackagoat_mcp.domain.context import agent_context
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import InvalidInput, NotFound

Org = tuple[Caller, uuid.UUID]


async def _program(db: Database, clock: FrozenClock, acme: Org) -> dict[str, uuid.UUID]:
    caller, project_id = acme
    async with db.write() as session:
        alice = (
            (await creators.add_creators(session, caller, project_id=project_id, handles=["alice"], now=clock.now()))
            .results[0]
            .creator_id
        )
        video = await insert_video(session, caller, project_id, creator_id=alice, status="pending_review")
        root = await campaigns.create_campaign(session, caller, project_id=project_id, name="Root", now=clock.now())
        child = await campaigns.create_campaign(session, caller, project_id=project_id, name="Child", now=clock.now())
        await campaigns.set_campaign_items(session, caller, child.id, add=[("creator", alice)], now=clock.now())
        await campaigns.set_campaign_items(session, caller, root.id, add=[("campaign", child.id)], now=clock.now())
        for kind, entity_id, text in [
            ("project", project_id, "Program rules: never pay before Friday."),
            ("creator", alice, "Alice posts on weekends only."),
            ("campaign", child.id, "Child: count only dance videos."),
            ("campaign", root.id, "Root: the Q1 push."),
        ]:
            await notes.set_description(session, caller, kind, entity_id, text, now=clock.now())
        await notes.write_readme(session, caller, "creator", alice, "Agent: reliable.", now=clock.now())
    return {"project": project_id, "alice": alice, "video": video.id, "root": root.id, "child": child.id}


async def test_a_videos_context_runs_video_creator_campaigns_project(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    ids = await _program(db, clock, acme)
    async with db.read() as session:
        context = await agent_context(session, caller, "video", ids["video"], now=clock.now())
    assert [(link.entity_type, link.id, link.relation) for link in context.chain] == [
        ("video", ids["video"], "self"),
        ("creator", ids["alice"], "creator"),
        ("campaign", ids["child"], "campaign"),
        ("campaign", ids["root"], "campaign"),
        ("project", ids["project"], "project"),
    ]
    assert [link.description for link in context.chain[1:]] == [
        "Alice posts on weekends only.",
        "Child: count only dance videos.",
        "Root: the Q1 push.",
        "Program rules: never pay before Friday.",
    ]
    assert context.chain[1].readme == "Agent: reliable."
    assert context.chain[1].label == "@alice"
    assert any("inbox" in caveat for caveat in context.caveats)
    assert any("not been scraped" in caveat for caveat in context.caveats)


async def test_a_projects_context_warns_about_the_inbox_and_missing_scrapes(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    ids = await _program(db, clock, acme)
    async with db.read() as session:
        context = await agent_context(session, caller, "project", ids["project"], now=clock.now())
    assert [link.relation for link in context.chain] == ["self"]
    assert any(caveat.startswith("1 video(s)") and "pending_review" in caveat for caveat in context.caveats)
    assert any(caveat.startswith("1 active creator(s)") for caveat in context.caveats)


async def test_a_recently_scraped_creator_has_no_scrape_caveat(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    ids = await _program(db, clock, acme)
    async with db.write() as session:
        await session.execute(
            update(Creator)
            .where(Creator.id == ids["alice"])
            .values(scrape_state="ok", last_scraped_at=clock.now() - timedelta(hours=1))
        )
    async with db.read() as session:
        fresh = await agent_context(session, caller, "creator", ids["alice"], now=clock.now())
    assert not any("scrape" in caveat for caveat in fresh.caveats)
    clock.advance(timedelta(hours=49))
    async with db.read() as session:
        stale = await agent_context(session, caller, "creator", ids["alice"], now=clock.now())
    assert any("more than 48 hours ago" in caveat for caveat in stale.caveats)


async def test_an_excluded_videos_context_is_not_found(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    ids = await _program(db, clock, acme)
    async with db.write() as session:
        await session.execute(update(Video).where(Video.id == ids["video"]).values(tracking_status="excluded"))
    async with db.read() as session:
        with pytest.raises(NotFound):
            await agent_context(session, caller, "video", ids["video"], now=clock.now())
        with pytest.raises(InvalidInput):
            await agent_context(session, caller, "payout", ids["video"], now=clock.now())
