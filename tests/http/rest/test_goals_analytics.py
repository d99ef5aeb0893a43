"""The REST API's goals, goal compliance and analytics routes (JSON and CSV), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

from tests.http.rest.support import all_pages, rest_client
from tests.http.support import make_key
from tests.server.conftest import acme_world, add_creator, add_snapshot, add_video
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scope import Caller

Org = tuple[Caller, uuid.UUID]


async def test_goals_are_created_listed_patched_deleted_and_judged(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    async with rest_client(db, clock, await make_key(db, clock, world.caller.org_id)) as client:
        body = {"creator_id": str(world.creator), "metric": "views", "period": "monthly", "target_value": 10000}
        created = await client.post("/goals", json=body)
        duplicate = await client.post("/goals", json=body)
        goal_id = created.json()["data"]["id"]
        patched = await client.patch(f"/goals/{goal_id}", json={"target_value": 20000})
        null_target = await client.patch(f"/goals/{goal_id}", json={"target_value": None})
        listed = await all_pages(client, "/goals", limit=1, creator_id=str(world.creator))
        compliance = await client.get(f"/projects/{world.project}/goal-compliance")
        deleted = await client.delete(f"/goals/{goal_id}")
        inactive = await all_pages(client, "/goals", is_active="false")
    assert created.status_code == 201 and created.json()["data"]["metric"] == "views"
    assert (duplicate.status_code, duplicate.json()["meta"]["code"]) == (409, "duplicate_goal")
    assert patched.json()["data"]["target_value"] == 20000
    assert (null_target.status_code, null_target.json()["meta"]["code"]) == (400, "invalid_body")
    assert {g["id"] for g in listed} == {goal_id, str(world.ids["goal"])}
    judged = compliance.json()["data"]
    assert compliance.status_code == 200 and str(world.creator) in compliance.text and judged
    assert deleted.json()["data"]["is_active"] is False
    assert [g["id"] for g in inactive] == [goal_id]


async def test_analytics_series_as_json_and_csv_agree_bucket_for_bucket(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    start = clock.now() - timedelta(days=3)
    for day, views in enumerate([100, 250, 400]):
        await add_snapshot(db, world.counted_video, start + timedelta(days=day), views)
    params = {"entity": "creator", "entity_id": str(world.creator), "metric": "views", "from": "2026-03-05"}
    async with rest_client(db, clock, await make_key(db, clock, world.caller.org_id)) as client:
        as_json = await client.get("/analytics", params=params)
        as_csv = await client.get("/analytics", params={**params, "format": "csv"})
        wrong = await client.get("/analytics", params={**params, "entity": "planet"})
    series = as_json.json()["data"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert [r["start"] for r in rows] == series["buckets"]["start"]
    assert [float(r["value"]) if r["value"] else None for r in rows] == series["buckets"]["value"]
    assert sum(v or 0 for v in series["buckets"]["value"]) == 300  # 250 - 100 + 400 - 250
    assert (wrong.status_code, wrong.json()["meta"]["code"]) == (400, "invalid_query")
    assert datetime.fromisoformat(rows[0]["start"]).date().isoformat() == "2026-03-05"


async def test_aggregate_leaderboards_rank_as_get_leaderboard_does(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    other = await add_creator(db, clock, world.caller, world.project, "zed")
    await add_video(db, clock, world.caller, world.project, other, views=900, posted_at=clock.now() - timedelta(days=1))
    project = str(world.project)
    async with rest_client(db, clock, await make_key(db, clock, world.caller.org_id)) as client:
        creators = await client.get("/analytics/aggregate/creator-leaderboard", params={"project_id": project})
        behind = await client.get(
            "/analytics/aggregate/creator-leaderboard", params={"project_id": project, "ascending": "true"}
        )
        videos = await client.get(
            "/analytics/aggregate/video-leaderboard", params={"project_id": project, "order": "views", "limit": 1}
        )
        campaigns = await client.get("/analytics/aggregate/campaign-leaderboard", params={"project_id": project})
        bad = await client.get("/analytics/aggregate/video-leaderboard", params={"project_id": project, "order": "x"})
    ranked = [item["id"] for item in creators.json()["data"]["items"]]
    assert ranked[0] == str(other) and ranked == list(reversed([i["id"] for i in behind.json()["data"]["items"]]))
    assert videos.json()["data"]["items"][0]["views"] == 900 and len(videos.json()["data"]["items"]) == 1
    assert [c["id"] for c in campaigns.json()["data"]["items"]] == [str(world.campaign)]
    assert (bad.status_code, bad.json()["meta"]["code"]) == (400, "invalid_query")


async def test_posting_heatmap_and_view_distribution_of_a_projects_counted_videos(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project = acme
    creator = await add_creator(db, clock, caller, project, "alice")
    sunday = datetime(2026, 3, 8, 10, 30, tzinfo=UTC)  # a Sunday, 10:30 UTC
    for i, views in enumerate([0, 5, 50, 500, 5000]):
        await add_video(db, clock, caller, project, creator, views=views, posted_at=sunday + timedelta(minutes=i))
    await add_video(db, clock, caller, project, creator, status="pending_review", views=9, posted_at=sunday)
    params = {"project_id": str(project), "from": "2026-03-01", "to": "2026-03-10"}
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        utc = await client.get("/analytics/aggregate/posting-heatmap", params=params)
        tokyo = await client.get("/analytics/aggregate/posting-heatmap", params={**params, "tz": "Asia/Tokyo"})
        bad_tz = await client.get("/analytics/aggregate/posting-heatmap", params={**params, "tz": "Mars/Olympus"})
        spread = await client.get("/analytics/aggregate/view-distribution", params=params)
    assert utc.json()["data"]["items"] == [{"dow": 0, "hour": 10, "post_count": 5, "avg_views": 1111.0}]
    assert [(c["dow"], c["hour"]) for c in tokyo.json()["data"]["items"]] == [(0, 19)]
    assert (bad_tz.status_code, bad_tz.json()["meta"]["code"]) == (400, "invalid_query")
    data = spread.json()["data"]
    assert [b["video_count"] for b in data["buckets"]] == [1, 1, 1, 1, 1]
    assert [b["max_views"] for b in data["buckets"]] == [0, 9, 99, 999, 9999]
    assert data["percentiles"]["p50"] == 50 and data["max_views"] == 5000 and data["video_count"] == 5


async def test_aggregate_goal_compliance_counts_what_the_per_goal_route_lists(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    project = str(world.project)
    async with rest_client(db, clock, await make_key(db, clock, world.caller.org_id)) as client:
        await client.post(
            "/goals",
            json={"creator_id": str(world.creator), "metric": "views", "period": "monthly", "target_value": 10**6},
        )
        detail = await client.get(f"/projects/{project}/goal-compliance", params={"limit": 100})
        counts = await client.get("/analytics/aggregate/goal-compliance", params={"project_id": project})
    results = [r for c in detail.json()["data"]["creators"] for r in c["compliance"]]
    data = counts.json()["data"]
    assert data["goals"] == len(results) == 2
    for status in ("on_track", "behind_pace", "at_risk", "completed", "missed"):
        assert data["goals_by_status"][status] == sum(r["status"] == status for r in results)
    assert data["creators"] == 1 and sum(data["creators_by_status"].values()) == 1
    assert data["results_with_advisory"] == sum(r["advisory"]["has_advisory"] for r in results)


async def test_creator_scatter_has_a_point_per_active_creator(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project = acme
    busy = await add_creator(db, clock, caller, project, "busy")
    await add_creator(db, clock, caller, project, "idle")
    for views in (100, 300):
        await add_video(db, clock, caller, project, busy, views=views, posted_at=clock.now() - timedelta(days=2))
    await add_video(db, clock, caller, project, busy, status="pending_review", views=5000, posted_at=clock.now())
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        scatter = await client.get("/analytics/aggregate/creator-scatter", params={"project_id": str(project)})
    points = {p["tiktok_handle"]: p for p in scatter.json()["data"]["items"]}
    assert (points["busy"]["posts"], points["busy"]["views"], points["busy"]["avg_views_per_post"]) == (2, 400, 200.0)
    assert (points["idle"]["posts"], points["idle"]["views"], points["idle"]["avg_views_per_post"]) == (0, 0, None)


async def test_outliers_are_the_videos_outside_tukeys_fences(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project = acme
    creator = await add_creator(db, clock, caller, project, "alice")
    ids = {}
    for views in (100, 110, 120, 130, 140, 150, 5000, 1):
        posted = clock.now() - timedelta(days=1)
        ids[views] = await add_video(db, clock, caller, project, creator, views=views, posted_at=posted)
    params = {"project_id": str(project)}
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        found = await client.get("/analytics/aggregate/outliers", params=params)
        far = await client.get("/analytics/aggregate/outliers", params={**params, "k": 10})
        bad = await client.get("/analytics/aggregate/outliers", params={**params, "k": 0})
    data = found.json()["data"]
    assert [(i["video_id"], i["direction"]) for i in data["items"]] == [(str(ids[5000]), "high"), (str(ids[1]), "low")]
    assert data["video_count"] == 8 and data["median_views"] == 125
    assert [i["views"] for i in far.json()["data"]["items"]] == [5000]
    assert (bad.status_code, bad.json()["meta"]["code"]) == (400, "invalid_query")


async def test_posting_consistency_counts_active_weeks_and_the_longest_gap(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project = acme
    steady = await add_creator(db, clock, caller, project, "steady")
    await add_creator(db, clock, caller, project, "silent")
    for day in (1, 2, 15):  # the windows are Mar 1-7, 8-14 and 15-21
        posted = datetime(2026, 3, day, 12, tzinfo=UTC)
        await add_video(db, clock, caller, project, steady, posted_at=posted)
    params = {"project_id": str(project), "from": "2026-03-01", "to": "2026-03-21"}
    async with rest_client(db, clock, await make_key(db, clock, caller.org_id)) as client:
        response = await client.get("/analytics/aggregate/posting-consistency", params=params)
    rows = {r["tiktok_handle"]: r for r in response.json()["data"]["items"]}
    assert (rows["steady"]["posts"], rows["steady"]["weeks"], rows["steady"]["active_weeks"]) == (3, 3, 2)
    assert rows["steady"]["consistency_pct"] == 66.7 and rows["steady"]["longest_gap_days"] == 12  # Mar 3-14
    assert (rows["silent"]["posts"], rows["silent"]["consistency_pct"], rows["silent"]["longest_gap_days"]) == (
        0,
        0,
        21,
    )
