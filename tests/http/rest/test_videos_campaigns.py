"""The REST API's videos and campaigns routes, through the whole HTTP app, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.conftest import make_org
from tests.http.rest.support import all_pages, rest_client
from tests.http.support import make_key
from tests.server.conftest import acme_world, add_creator, add_video
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scope import Caller

Org = tuple[Caller, uuid.UUID]
URL = "https://www.tiktok.com/@alice/video/73000000000000000{:02d}"


async def test_videos_page_to_completion_with_filters_including_caption(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project = acme
    creator = await add_creator(db, clock, caller, project, "alice")
    for i in range(5):
        await add_video(
            db,
            clock,
            caller,
            project,
            creator,
            caption=f"{'promo' if i % 2 else 'vlog'} #{i}",
            views=100 * i,
            posted_at=clock.now() - timedelta(days=i),
        )
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        every = await all_pages(client, "/videos", limit=2, order="views_desc")
        promos = await all_pages(client, "/videos", limit=1, caption_contains="PROMO", creator_id=str(creator))
        bad_order = await client.get("/videos", params={"order": "random"})
    assert [v["view_count"] for v in every] == [400, 300, 200, 100, 0]
    assert sorted(v["view_count"] for v in promos) == [100, 300]
    assert (bad_order.status_code, bad_order.json()["meta"]["code"]) == (400, "invalid_query")


async def test_adding_videos_by_url_is_201_then_200_when_already_tracked(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project = acme
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        first = await client.post(f"/projects/{project}/videos", json={"urls": [URL.format(1), URL.format(2)]})
        again = await client.post(f"/projects/{project}/videos", json={"url": URL.format(1)})
        malformed = await client.post(f"/projects/{project}/videos", json={"url": "https://example.com/x"})
        listed = await all_pages(client, "/videos", project_id=str(project))
    assert first.status_code == 201
    assert [r["outcome"] for r in first.json()["data"]["results"]] == ["added", "added"]
    assert again.status_code == 200 and again.json()["data"]["results"][0]["outcome"] == "already_tracked"
    assert malformed.status_code == 400 and malformed.json()["meta"]["code"] == "invalid_url"
    assert {v["tracking_status"] for v in listed} == {"direct_add"} and len(listed) == 2


async def test_deleting_a_video_excludes_it_and_patch_restores_it(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    video = world.counted_video
    async with rest_client(db, clock, await make_key(db, clock, world.caller.org_id)) as client:
        deleted = await client.delete(f"/videos/{video}")
        hidden = await client.get(f"/videos/{video}")
        listed = await all_pages(client, "/videos")
        restored = await client.patch(f"/videos/{video}", json={"excluded": False, "readme": "back"})
        disabled = await client.post(f"/videos/{video}/tracking-disable")
        shown = await client.get(f"/videos/{video}")
    assert deleted.status_code == 200 and deleted.json()["data"]["videos"][0]["tracking_status"] == "excluded"
    assert hidden.status_code == 404 and str(video) not in [v["id"] for v in listed]
    assert restored.status_code == 200
    assert restored.json()["data"]["tracking_status"] == "included" and restored.json()["data"]["readme"] == "back"
    assert disabled.json()["data"]["videos"][0]["counted"] is False
    assert shown.json()["data"]["tracking_disabled_at"] is not None


async def test_campaign_items_refuse_a_cycle_with_409(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project = acme
    creator = await add_creator(db, clock, caller, project, "alice")
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        outer = (await client.post(f"/projects/{project}/campaigns", json={"name": "Outer"})).json()["data"]["id"]
        inner = (await client.post(f"/projects/{project}/campaigns", json={"name": "Inner"})).json()["data"]["id"]
        nested = await client.post(f"/campaigns/{outer}/items", json={"item_type": "campaign", "item_id": inner})
        cycle = await client.post(f"/campaigns/{inner}/items", json={"item_type": "campaign", "item_id": outer})
        members = await client.post(
            f"/campaigns/{inner}/items", json={"items": [{"item_type": "creator", "item_id": str(creator)}]}
        )
        removed = await client.request(
            "DELETE", f"/campaigns/{inner}/items", json={"item_type": "creator", "item_id": str(creator)}
        )
        patched = await client.patch(f"/campaigns/{inner}", json={"target_views": 5000, "readme": "notes"})
        cleared = await client.patch(f"/campaigns/{inner}", json={"target_views": None})
        deleted = await client.delete(f"/campaigns/{outer}")
        left = await all_pages(client, "/campaigns", limit=1)
    assert nested.status_code == 200
    assert (cycle.status_code, cycle.json()["meta"]["code"]) == (409, "campaign_cycle")
    assert members.status_code == 200 and removed.status_code == 200
    assert patched.json()["data"]["target_views"] == 5000 and patched.json()["data"]["readme"] == "notes"
    assert cleared.json()["data"]["target_views"] is None
    assert deleted.json()["data"] == {"deleted_campaign_id": outer}
    assert [c["id"] for c in left] == [inner]


async def test_another_organizations_video_and_campaign_are_404(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    other, _ = await make_org(db, clock, "Globex")
    async with rest_client(db, clock, await make_key(db, clock, other.org_id)) as client:
        video = await client.get(f"/videos/{world.counted_video}")
        excluded = await client.delete(f"/videos/{world.counted_video}")
        campaign = await client.get(f"/campaigns/{world.campaign}")
        unknown = await client.get(f"/campaigns/{uuid.uuid4()}")
        videos = await all_pages(client, "/videos")
    assert video.status_code == excluded.status_code == campaign.status_code == unknown.status_code == 404
    assert campaign.json()["meta"] == unknown.json()["meta"]
    assert videos == []


async def test_member_overlap_names_campaign_pairs_sharing_creators_and_videos(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project = acme
    alice = await add_creator(db, clock, caller, project, "alice")
    bob = await add_creator(db, clock, caller, project, "bob")
    for creator in (alice, alice, bob):
        await add_video(db, clock, caller, project, creator)
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:

        async def campaign(name: str, *creators: uuid.UUID) -> str:
            made = await client.post(f"/projects/{project}/campaigns", json={"name": name})
            campaign_id = made.json()["data"]["id"]
            items = [{"item_type": "creator", "item_id": str(c)} for c in creators]
            if items:
                await client.post(f"/campaigns/{campaign_id}/items", json={"items": items})
            return campaign_id

        spring = await campaign("Spring", alice, bob)
        summer = await campaign("Summer", alice)
        await campaign("Autumn")
        overlap = await client.get("/analytics/aggregate/member-overlap", params={"project_id": str(project)})
    data = overlap.json()["data"]
    assert data["campaigns_compared"] == data["campaigns_total"] == 3
    assert [{p["campaign_a_id"], p["campaign_b_id"]} for p in data["items"]] == [{spring, summer}]
    pair = data["items"][0]
    assert (pair["shared_creators"], pair["shared_videos"], pair["video_jaccard"]) == (1, 2, round(2 / 3, 4))


async def test_bulk_tracking_disable_stops_the_projects_videos_all_or_nothing(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project = acme
    creator = await add_creator(db, clock, caller, project, "alice")
    ours = [str(await add_video(db, clock, caller, project, creator)) for _ in range(2)]
    other_project = (await make_org(db, clock, "Globex"))[1]
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        refused = await client.post(f"/projects/{other_project}/videos/bulk-tracking-disable", json={"video_ids": ours})
        stopped = await client.post(f"/projects/{project}/videos/bulk-tracking-disable", json={"video_ids": ours})
        schema = await client.get("/schema")
    assert refused.status_code == 404
    assert [v["counted"] for v in stopped.json()["data"]["videos"]] == [False, False]
    assert {"creator", "video", "campaign"} <= set(schema.json()["data"]["entities"])
