"""Campaigns: members of three kinds from the campaign's own project, no cycles, clean deletion."""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import pytest

from tests.domain._support import count_rows, insert_video
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import CampaignItem, Creator
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import campaigns, creators, projects, stats, videos
from trackagoat_mcp.domain.schemas import CampaignOut
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Conflict, InvalidInput, NotFound

Org = tuple[Caller, uuid.UUID]


async def _campaign(db: Database, clock: FrozenClock, org: Org, name: str, **kwargs: Any) -> uuid.UUID:
    caller, project_id = org
    async with db.write() as session:
        return (
            await campaigns.create_campaign(
                session, caller, project_id=project_id, name=name, now=clock.now(), **kwargs
            )
        ).id


async def _set(
    db: Database,
    clock: FrozenClock,
    caller: Caller,
    campaign_id: uuid.UUID,
    add: list[Any] | None = None,
    remove: list[Any] | None = None,
) -> CampaignOut:
    async with db.write() as session:
        return await campaigns.set_campaign_items(session, caller, campaign_id, add=add, remove=remove, now=clock.now())


async def _get(db: Database, caller: Caller, campaign_id: uuid.UUID) -> CampaignOut:
    async with db.read() as session:
        return await campaigns.get_campaign(session, caller, campaign_id)


async def _members(db: Database, clock: FrozenClock, org: Org) -> tuple[uuid.UUID, uuid.UUID]:
    caller, project_id = org
    async with db.write() as session:
        added = await creators.add_creators(session, caller, project_id=project_id, handles=["alice"], now=clock.now())
        video = await insert_video(session, caller, project_id, status="direct_add")
    return added.results[0].creator_id, video.id


async def test_campaign_membership_works_with_warnings_as_errors(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    creator_id, _ = await _members(db, clock, acme)
    root = await _campaign(db, clock, acme, "Root")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # what pyproject's filterwarnings = ["error"] asks for
        out = await _set(db, clock, caller, root, add=[("creator", creator_id)])
    assert out.item_counts["creator"] == 1


async def test_campaign_stats_work_with_warnings_as_errors(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    creator_id, _ = await _members(db, clock, acme)
    root = await _campaign(db, clock, acme, "Root")
    await _set(db, clock, caller, root, add=[("creator", creator_id)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        async with db.read() as session:
            result = await stats.campaign_stats(session, caller, root, now=clock.now())
    assert result.creators_in_tree == 1


async def test_a_campaign_holds_creators_videos_and_sub_campaigns(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    creator_id, video_id = await _members(db, clock, acme)
    root = await _campaign(db, clock, acme, "Q1 push", target_views=1_000_000)
    sub = await _campaign(db, clock, acme, "Week 1")
    out = await _set(db, clock, caller, root, add=[("creator", creator_id), ("video", video_id), ("campaign", sub)])
    assert out.item_counts == {"creator": 1, "video": 1, "campaign": 1}
    labels = {(i.item_type, i.item_id): i.label for i in out.items}
    assert labels[("creator", creator_id)] == "@alice"
    assert labels[("video", video_id)].startswith("https://www.tiktok.com/")
    assert labels[("campaign", sub)] == "Week 1"
    assert (await _get(db, caller, sub)).parent_campaign_ids == [root]
    async with db.read() as session:
        listed = await campaigns.list_campaigns(session, caller)
    assert {c.name: c.item_count for c in listed.items} == {"Q1 push": 3, "Week 1": 0}


async def test_adding_twice_or_removing_an_absent_item_changes_nothing(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    creator_id, video_id = await _members(db, clock, acme)
    root = await _campaign(db, clock, acme, "Root")
    await _set(db, clock, caller, root, add=[("creator", creator_id)])
    out = await _set(
        db,
        clock,
        caller,
        root,
        add=[("creator", creator_id), ("creator", str(creator_id))],
        remove=[("video", video_id)],
    )
    assert out.item_counts == {"creator": 1, "video": 0, "campaign": 0}
    out = await _set(db, clock, caller, root, remove=[("creator", creator_id)])
    assert out.item_counts == {"creator": 0, "video": 0, "campaign": 0}
    assert await count_rows(db, CampaignItem) == 0


async def test_items_from_another_project_are_rejected(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    async with db.write() as session:
        other = await projects.create_project(session, caller, name="Other program", now=clock.now())
    elsewhere: Org = (caller, other.id)
    foreign_creator, foreign_video = await _members(db, clock, elsewhere)
    foreign_campaign = await _campaign(db, clock, elsewhere, "Elsewhere")
    local_creator, _ = await _members(db, clock, acme)
    root = await _campaign(db, clock, acme, "Root")
    for item in (("creator", foreign_creator), ("video", foreign_video), ("campaign", foreign_campaign)):
        with pytest.raises(InvalidInput) as exc:
            await _set(db, clock, caller, root, add=[("creator", local_creator), item])
        assert str(item[1]) in exc.value.message
        assert "another project" in exc.value.message
    assert (await _get(db, caller, root)).item_counts == {"creator": 0, "video": 0, "campaign": 0}


async def test_items_from_another_organization_are_not_found(
    db: Database, clock: FrozenClock, acme: Org, globex: Org
) -> None:
    caller, _ = acme
    their_creator, their_video = await _members(db, clock, globex)
    root = await _campaign(db, clock, acme, "Root")
    for item in (("creator", their_creator), ("video", their_video)):
        with pytest.raises(NotFound):
            await _set(db, clock, caller, root, add=[item])
    assert await count_rows(db, CampaignItem) == 0


async def test_an_excluded_video_cannot_become_a_campaign_item(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    async with db.write() as session:
        hidden = await insert_video(session, caller, project_id, status="excluded")
    root = await _campaign(db, clock, acme, "Root")
    with pytest.raises(NotFound):
        await _set(db, clock, caller, root, add=[("video", hidden.id)])


async def test_an_unknown_item_type_is_refused(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    root = await _campaign(db, clock, acme, "Root")
    for change in ({"add": [("project", project_id)]}, {"remove": [("project", project_id)]}, {}):
        with pytest.raises(InvalidInput):
            await _set(db, clock, caller, root, **change)


async def _assert_cycle_rejected(
    db: Database, clock: FrozenClock, caller: Caller, target: uuid.UUID, add: list[Any]
) -> None:
    before = await count_rows(db, CampaignItem)
    snapshot = (await _get(db, caller, target)).item_counts
    with pytest.raises(Conflict) as exc:
        await _set(db, clock, caller, target, add=add)
    assert exc.value.code == "campaign_cycle"
    assert "cycle" in exc.value.message
    assert await count_rows(db, CampaignItem) == before
    assert (await _get(db, caller, target)).item_counts == snapshot


async def test_a_campaign_cannot_contain_itself(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    root = await _campaign(db, clock, acme, "Root")
    await _assert_cycle_rejected(db, clock, caller, root, [("campaign", root)])


async def test_a_campaign_cannot_contain_its_own_ancestor(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    creator_id, _ = await _members(db, clock, acme)
    a = await _campaign(db, clock, acme, "A")
    b = await _campaign(db, clock, acme, "B")
    c = await _campaign(db, clock, acme, "C")
    await _set(db, clock, caller, a, add=[("campaign", b)])
    await _set(db, clock, caller, b, add=[("campaign", c)])
    # Direct: B already sits in A.
    await _assert_cycle_rejected(db, clock, caller, b, [("campaign", a)])
    # Transitive: A -> B -> C, so C may not contain A; the valid creator in the same call is not added either.
    await _assert_cycle_rejected(db, clock, caller, c, [("creator", creator_id), ("campaign", a)])
    assert (await _get(db, caller, c)).item_counts["creator"] == 0


async def test_a_rejected_cycle_also_undoes_removals_in_the_same_call(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    creator_id, _ = await _members(db, clock, acme)
    a = await _campaign(db, clock, acme, "A")
    b = await _campaign(db, clock, acme, "B")
    await _set(db, clock, caller, a, add=[("campaign", b)])
    await _set(db, clock, caller, b, add=[("creator", creator_id)])
    with pytest.raises(Conflict):
        await _set(db, clock, caller, b, add=[("campaign", a)], remove=[("creator", creator_id)])
    assert (await _get(db, caller, b)).item_counts["creator"] == 1


async def test_a_shared_sub_campaign_is_not_a_cycle(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    a = await _campaign(db, clock, acme, "A")
    b = await _campaign(db, clock, acme, "B")
    shared = await _campaign(db, clock, acme, "Shared")
    await _set(db, clock, caller, a, add=[("campaign", b), ("campaign", shared)])
    out = await _set(db, clock, caller, b, add=[("campaign", shared)])
    assert out.item_counts["campaign"] == 1
    assert sorted((await _get(db, caller, shared)).parent_campaign_ids) == sorted([a, b])


async def test_deleting_a_campaign_removes_every_membership_of_it(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    creator_id, video_id = await _members(db, clock, acme)
    root = await _campaign(db, clock, acme, "Root")
    middle = await _campaign(db, clock, acme, "Middle")
    leaf = await _campaign(db, clock, acme, "Leaf")
    await _set(db, clock, caller, root, add=[("campaign", middle), ("video", video_id)])
    await _set(db, clock, caller, middle, add=[("campaign", leaf), ("creator", creator_id)])
    async with db.write() as session:
        deleted = await campaigns.delete_campaign(session, caller, middle)
    assert deleted == middle
    async with db.read() as session:
        with pytest.raises(NotFound):
            await campaigns.get_campaign(session, caller, middle)
    # As a sub-campaign of Root and as the parent of Leaf and Alice: every row is gone.
    assert await count_rows(db, CampaignItem, CampaignItem.item_id == middle) == 0
    assert await count_rows(db, CampaignItem, CampaignItem.campaign_id == middle) == 0
    assert (await _get(db, caller, root)).item_counts == {"creator": 0, "video": 1, "campaign": 0}
    assert (await _get(db, caller, leaf)).parent_campaign_ids == []
    assert await count_rows(db, Creator) == 1
    async with db.read() as session:
        assert (await videos.get_video(session, caller, video_id)).id == video_id


async def test_campaign_names_and_targets_are_validated(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    async with db.write() as session:
        with pytest.raises(InvalidInput):
            await campaigns.create_campaign(session, caller, project_id=project_id, name="   ", now=clock.now())
        with pytest.raises(InvalidInput):
            await campaigns.create_campaign(
                session, caller, project_id=project_id, name="X", target_views=0, now=clock.now()
            )
    root = await _campaign(db, clock, acme, "Root", target_views=500)
    async with db.write() as session:
        out = await campaigns.update_campaign(session, caller, root, name="Renamed", target_views=None, now=clock.now())
    assert (out.name, out.target_views) == ("Renamed", None)
