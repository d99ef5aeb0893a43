"""Videos: direct adds by URL, the tracking inbox, excluded videos that vanish, and filtered, paged lists."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from tests.conftest import make_org
from tests.domain._support import count_rows, insert_video, video_id_at, video_url
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import campaigns, creators, videos
from trackagoat_mcp.domain.schemas import AddVideosResult
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import InvalidInput, NotFound

Org = tuple[Caller, uuid.UUID]
MARCH_5 = datetime(2026, 3, 5, tzinfo=UTC)  # Unix time 1772668800


async def _add_urls(db: Database, clock: FrozenClock, org: Org, urls: list[str]) -> AddVideosResult:
    caller, project_id = org
    async with db.write() as session:
        return await videos.add_videos(session, caller, project_id=project_id, urls=urls, now=clock.now())


async def _creator(db: Database, clock: FrozenClock, org: Org, handle: str, mode: str = "auto") -> uuid.UUID:
    caller, project_id = org
    async with db.write() as session:
        result = await creators.add_creators(
            session, caller, project_id=project_id, handles=[handle], tracking_mode=mode, now=clock.now()
        )
    return result.results[0].creator_id


async def _status(db: Database, caller: Caller, video_id: uuid.UUID) -> str:
    async with db.read() as session:
        return (await videos.get_video(session, caller, video_id)).tracking_status


async def _set_status(db: Database, video_id: uuid.UUID, status: str) -> None:
    async with db.write() as session:
        await session.execute(update(Video).where(Video.id == video_id).values(tracking_status=status))


# --- adding by URL ---------------------------------------------------------------------------------------------


async def test_a_pasted_video_url_is_tracked_as_a_direct_add(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    # 7613554522639577145 = 1772668800 << 32 | 12345, i.e. posted 2026-03-05T00:00:00Z.
    result = await _add_urls(
        db,
        clock,
        acme,
        [
            "https://www.tiktok.com/@Alice/video/7613554522639577145?is_from_webapp=1&sender_device=pc",
            "https://www.tiktok.com/@alice/photo/7613554522639577146",
        ],
    )
    assert [(r.outcome, r.tracking_status) for r in result.results] == [("added", "direct_add")] * 2
    async with db.read() as session:
        clip = await videos.get_video(session, caller, result.results[0].video_id)
        photo = await videos.get_video(session, caller, result.results[1].video_id)
    assert clip.tiktok_video_id == "7613554522639577145"
    assert clip.url == "https://www.tiktok.com/@alice/video/7613554522639577145"
    assert clip.posted_at == datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
    assert clip.creator_id is None
    assert clip.is_photo is False
    assert photo.is_photo is True
    assert photo.url.endswith("/photo/7613554522639577146")


async def test_the_same_video_pasted_twice_in_one_call_is_added_once(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    vid = video_id_at(MARCH_5, 7)
    result = await _add_urls(
        db,
        clock,
        acme,
        [f"https://www.tiktok.com/@a/video/{vid}", f"https://www.tiktok.com/embed/v2/{vid}?x=1"],
    )
    assert len(result.results) == 1
    assert await count_rows(db, Video) == 1


async def test_adding_a_tracked_video_again_is_already_tracked_and_changes_nothing(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    creator_id = await _creator(db, clock, acme, "alice")
    async with db.write() as session:
        row = await insert_video(
            session,
            caller,
            project_id,
            creator_id=creator_id,
            posted_at=MARCH_5,
            views=5000,
            created_at=datetime(2026, 3, 6, tzinfo=UTC),
        )
    before = row.model_dump()
    clock.advance(timedelta(hours=3))
    result = await _add_urls(db, clock, acme, [f"https://www.tiktok.com/@alice/video/{row.tiktok_video_id}"])
    assert result.results[0].outcome == "already_tracked"
    assert result.results[0].video_id == row.id
    assert result.results[0].tracking_status == "auto_tracked"
    async with db.read() as session:
        after = (await videos.get_video(session, caller, row.id)).model_dump()
    assert after == before
    assert await count_rows(db, Video) == 1


async def test_one_malformed_url_rejects_the_whole_batch(db: Database, clock: FrozenClock, acme: Org) -> None:
    await _add_urls(db, clock, acme, [video_url("a", MARCH_5, 1)])
    before = await count_rows(db, Video)
    with pytest.raises(InvalidInput) as exc:
        await _add_urls(db, clock, acme, [video_url("a", MARCH_5, 2), "https://youtube.com/watch?v=x"])
    assert exc.value.code == "invalid_url"
    assert "'https://youtube.com/watch?v=x'" in exc.value.message
    assert await count_rows(db, Video) == before == 1


async def test_more_than_fifty_urls_are_refused(db: Database, clock: FrozenClock, acme: Org) -> None:
    with pytest.raises(InvalidInput):
        await _add_urls(db, clock, acme, [video_url("a", MARCH_5, n) for n in range(51)])
    assert await count_rows(db, Video) == 0


# --- excluded videos -------------------------------------------------------------------------------------------


async def test_an_excluded_video_is_never_returned(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    creator_id = await _creator(db, clock, acme, "alice")
    async with db.write() as session:
        kept = await insert_video(session, caller, project_id, creator_id=creator_id, posted_at=MARCH_5)
        hidden = await insert_video(session, caller, project_id, creator_id=creator_id, posted_at=MARCH_5, views=10**6)
    await _set_status(db, hidden.id, "excluded")
    async with db.read() as session:
        with pytest.raises(NotFound):
            await videos.get_video(session, caller, hidden.id)
        for filters in ({}, {"creator_id": creator_id}, {"project_id": project_id}, {"order": "views_desc"}):
            listed = await videos.list_videos(session, caller, **filters)
            assert [v.id for v in listed.items] == [kept.id]
        with pytest.raises(InvalidInput):
            await videos.list_videos(session, caller, tracking_status="excluded")


async def test_readding_an_excluded_video_brings_it_back_as_a_direct_add(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    creator_id = await _creator(db, clock, acme, "alice")
    async with db.write() as session:
        row = await insert_video(session, caller, project_id, creator_id=creator_id, posted_at=MARCH_5, views=77)
    await _set_status(db, row.id, "excluded")
    result = await _add_urls(db, clock, acme, [f"https://www.tiktok.com/@alice/video/{row.tiktok_video_id}"])
    assert result.results[0].outcome == "reincluded"
    assert result.results[0].video_id == row.id
    async with db.read() as session:
        video = await videos.get_video(session, caller, row.id)
    assert video.tracking_status == "direct_add"
    assert (video.creator_id, video.view_count) == (creator_id, 77)
    assert await count_rows(db, Video) == 1


# --- the tracking inbox ----------------------------------------------------------------------------------------


async def _inbox(db: Database, clock: FrozenClock, acme: Org) -> tuple[uuid.UUID, list[uuid.UUID], uuid.UUID]:
    caller, project_id = acme
    creator_id = await _creator(db, clock, acme, "picky", mode="selective")
    async with db.write() as session:
        pending = [
            (
                await insert_video(
                    session,
                    caller,
                    project_id,
                    creator_id=creator_id,
                    status="pending_review",
                    posted_at=MARCH_5 + timedelta(hours=n),
                )
            ).id
            for n in range(3)
        ]
        auto = await insert_video(session, caller, project_id, creator_id=creator_id, posted_at=MARCH_5)
    return creator_id, pending, auto.id


async def _pending_ids(db: Database, caller: Caller) -> set[uuid.UUID]:
    async with db.read() as session:
        return {v.id for v in (await videos.list_videos(session, caller, tracking_status="pending_review")).items}


async def test_selective_creator_videos_wait_in_inbox_until_included(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    _, pending, _ = await _inbox(db, clock, acme)
    assert await _pending_ids(db, caller) == set(pending)
    async with db.write() as session:
        result = await videos.review_videos(
            session, caller, video_ids=[pending[0], str(pending[1])], action="include", now=clock.now()
        )
    assert result.tracking_status == "included"
    assert set(result.updated) == {pending[0], pending[1]}
    assert await _status(db, caller, pending[0]) == "included"
    assert await _pending_ids(db, caller) == {pending[2]}


async def test_excluding_inbox_videos_makes_them_disappear(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    _, pending, _ = await _inbox(db, clock, acme)
    async with db.write() as session:
        await videos.review_videos(session, caller, video_ids=[pending[0]], action="exclude", now=clock.now())
    async with db.read() as session:
        with pytest.raises(NotFound):
            await videos.get_video(session, caller, pending[0])
        assert pending[0] not in {v.id for v in (await videos.list_videos(session, caller)).items}


async def test_reviewing_a_video_that_is_not_pending_changes_nothing(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    _, pending, auto = await _inbox(db, clock, acme)
    async with db.write() as session:
        with pytest.raises(InvalidInput) as exc:
            await videos.review_videos(session, caller, video_ids=[pending[0], auto], action="exclude", now=clock.now())
    assert str(auto) in exc.value.message and "auto_tracked" in exc.value.message
    assert await _pending_ids(db, caller) == set(pending)
    assert await _status(db, caller, auto) == "auto_tracked"


async def test_reviewing_with_an_unknown_or_excluded_id_changes_nothing(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    _, pending, auto = await _inbox(db, clock, acme)
    await _set_status(db, auto, "excluded")
    for intruder in (uuid.uuid4(), auto):
        async with db.write() as session:
            with pytest.raises(NotFound):
                await videos.review_videos(
                    session, caller, video_ids=[pending[0], pending[1], intruder], action="include", now=clock.now()
                )
        assert await _pending_ids(db, caller) == set(pending)


async def test_an_included_video_cannot_be_reviewed_again(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    _, pending, _ = await _inbox(db, clock, acme)
    async with db.write() as session:
        await videos.review_videos(session, caller, video_ids=[pending[0]], action="include", now=clock.now())
    async with db.write() as session:
        with pytest.raises(InvalidInput):
            await videos.review_videos(session, caller, video_ids=[pending[0]], action="exclude", now=clock.now())
    assert await _status(db, caller, pending[0]) == "included"


async def test_review_needs_ids_and_a_known_action(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    _, pending, _ = await _inbox(db, clock, acme)
    async with db.write() as session:
        with pytest.raises(InvalidInput):
            await videos.review_videos(session, caller, video_ids=[], action="include", now=clock.now())
        with pytest.raises(InvalidInput):
            await videos.review_videos(session, caller, video_ids=pending, action="approve", now=clock.now())  # type: ignore[arg-type]
    assert await _pending_ids(db, caller) == set(pending)


# --- listing ---------------------------------------------------------------------------------------------------


async def _program(db: Database, clock: FrozenClock) -> tuple[Caller, dict[str, Any]]:
    """A New York organization: creators A and B, a direct add, and a campaign tree root -> child -> B (+ d1).

    Early March 2026 is EST (UTC-5), so the local day 2026-03-05 is [03-05 05:00Z, 03-06 05:00Z).
    """
    org = await make_org(db, clock, "NYC", timezone="America/New_York")
    caller, project_id = org
    a = await _creator(db, clock, org, "aaa")
    b = await _creator(db, clock, org, "bbb")
    async with db.write() as session:
        ids: dict[str, Any] = {"project": project_id, "A": a, "B": b}
        ids["a1"] = (
            await insert_video(
                session,
                caller,
                project_id,
                creator_id=a,
                views=100,
                posted_at=datetime(2026, 3, 5, 4, 59, 59, tzinfo=UTC),
            )
        ).id
        ids["a2"] = (
            await insert_video(
                session,
                caller,
                project_id,
                creator_id=a,
                views=300,
                status="pending_review",
                posted_at=datetime(2026, 3, 5, 5, 0, 0, tzinfo=UTC),
            )
        ).id
        ids["b1"] = (
            await insert_video(
                session,
                caller,
                project_id,
                creator_id=b,
                views=200,
                status="included",
                posted_at=datetime(2026, 3, 6, 4, 59, 59, tzinfo=UTC),
            )
        ).id
        ids["d1"] = (
            await insert_video(
                session,
                caller,
                project_id,
                views=400,
                status="direct_add",
                posted_at=datetime(2026, 3, 6, 5, 0, 0, tzinfo=UTC),
            )
        ).id
        root = await campaigns.create_campaign(session, caller, project_id=project_id, name="Root", now=clock.now())
        child = await campaigns.create_campaign(session, caller, project_id=project_id, name="Child", now=clock.now())
        await campaigns.set_campaign_items(session, caller, child.id, add=[("creator", b)], now=clock.now())
        await campaigns.set_campaign_items(
            session, caller, root.id, add=[("campaign", child.id), ("video", ids["d1"])], now=clock.now()
        )
        ids["root"], ids["child"] = root.id, child.id
    return caller, ids


async def test_list_videos_filters_combine(db: Database, clock: FrozenClock) -> None:
    caller, ids = await _program(db, clock)

    async def listed(**filters: Any) -> set[str]:
        async with db.read() as session:
            page = await videos.list_videos(session, caller, **filters)
        names = {v: k for k, v in ids.items() if k in ("a1", "a2", "b1", "d1")}
        return {names[v.id] for v in page.items}

    assert await listed() == {"a1", "a2", "b1", "d1"}
    assert await listed(creator_id=ids["A"]) == {"a1", "a2"}
    assert await listed(campaign_id=ids["root"]) == {"b1", "d1"}
    assert await listed(campaign_id=ids["child"]) == {"b1"}
    assert await listed(tracking_status="pending_review") == {"a2"}
    assert await listed(tracking_status="direct_add") == {"d1"}
    assert await listed(creator_id=ids["A"], tracking_status="auto_tracked") == {"a1"}
    assert await listed(campaign_id=ids["root"], creator_id=ids["A"]) == set()


async def test_posted_range_uses_local_days_of_the_organization(db: Database, clock: FrozenClock) -> None:
    caller, ids = await _program(db, clock)

    async def listed(**filters: Any) -> list[uuid.UUID]:
        async with db.read() as session:
            return [v.id for v in (await videos.list_videos(session, caller, order="posted_asc", **filters)).items]

    march_4, march_5, march_6 = date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 6)
    assert await listed(posted_from=march_5, posted_to=march_5) == [ids["a2"], ids["b1"]]
    assert await listed(posted_to=march_4) == [ids["a1"]]
    assert await listed(posted_from=march_6) == [ids["d1"]]
    assert await listed(posted_from=march_5, creator_id=ids["A"]) == [ids["a2"]]
    async with db.read() as session:
        with pytest.raises(InvalidInput) as exc:
            await videos.list_videos(session, caller, posted_from=march_6, posted_to=march_5)
    assert "'2026-03-06'" in exc.value.message


async def test_views_desc_lists_the_most_viewed_first(db: Database, clock: FrozenClock) -> None:
    caller, ids = await _program(db, clock)
    async with db.read() as session:
        page = await videos.list_videos(session, caller, order="views_desc")
    assert [v.id for v in page.items] == [ids["d1"], ids["a2"], ids["b1"], ids["a1"]]
    assert [v.view_count for v in page.items] == [400, 300, 200, 100]


async def test_unknown_orders_and_statuses_are_refused(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    async with db.read() as session:
        with pytest.raises(InvalidInput) as exc:
            await videos.list_videos(session, caller, order="random")
        assert "'random'" in exc.value.message
        with pytest.raises(InvalidInput):
            await videos.list_videos(session, caller, tracking_status="deleted")


async def _paged(db: Database, caller: Caller, order: str, limit: int) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    async with db.read() as session:
        for _ in range(50):
            page = await videos.list_videos(session, caller, order=order, limit=limit, cursor=cursor)
            items += page.items
            cursor = page.next_cursor
            if cursor is None:
                return items
    raise AssertionError("paging did not end")


async def test_cursor_paging_visits_every_video_once_in_order(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    posted = [MARCH_5 + timedelta(hours=h) for h in (0, 0, 1, 2, 2, 2, 5)] + [None]
    async with db.write() as session:
        for n in range(13):
            await insert_video(
                session,
                caller,
                project_id,
                posted_at=posted[n % len(posted)],
                views=[10, 50, 50, 0, 50, 7][n % 6],  # ties on purpose
                created_at=MARCH_5 + timedelta(minutes=n // 3),  # ties on purpose
            )
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    sort_keys = {
        "posted_desc": (lambda v: v.posted_at or epoch, True),
        "posted_asc": (lambda v: v.posted_at or epoch, False),
        "views_desc": (lambda v: v.view_count, True),
    }
    for order in ("posted_desc", "posted_asc", "views_desc", "added_desc"):
        everything = await _paged(db, caller, order, limit=100)
        assert len({v.id for v in everything}) == 13, order
        if order in sort_keys:
            key, descending = sort_keys[order]
            values = [key(v) for v in everything]
            assert values == sorted(values, reverse=descending), order
        for limit in (1, 4, 5):
            paged = await _paged(db, caller, order, limit)
            assert [v.id for v in paged] == [v.id for v in everything], (order, limit)


async def test_the_same_video_named_twice_in_one_review_is_updated_once(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    _, pending, _ = await _inbox(db, clock, acme)
    async with db.write() as session:
        result = await videos.review_videos(
            session, caller, video_ids=[pending[0], str(pending[0])], action="include", now=clock.now()
        )
    assert result.updated == [pending[0]]


async def test_one_video_id_in_two_spellings_is_reviewed_once(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, _ = acme
    _, pending, _ = await _inbox(db, clock, acme)
    async with db.write() as session:
        result = await videos.review_videos(
            session, caller, video_ids=[str(pending[0]), str(pending[0]).upper()], action="include", now=clock.now()
        )
    assert result.updated == [pending[0]]
