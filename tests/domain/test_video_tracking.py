"""Excluding, restoring and stopping the tracking of videos; finding a description's candidates by caption."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.domain._support import insert_video
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Creator, Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import video_tracking, videos
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Forbidden, InvalidInput, NotFound

Org = tuple[Caller, uuid.UUID]
STATUSES = ("auto_tracked", "included", "direct_add", "pending_review")


async def _videos(db: Database, clock: FrozenClock, org: Org, *statuses: str, captions: tuple[str, ...] = ()) -> list:
    caller, project_id = org
    async with db.write() as session:
        creator = Creator(
            org_id=caller.org_id,
            project_id=project_id,
            tiktok_handle=f"maker_{uuid.uuid4().hex[:6]}",
            tracking_start_date=clock.now().date(),
        )
        session.add(creator)
        await session.flush()
        rows = [
            await insert_video(
                session,
                caller,
                project_id,
                creator_id=None if status == "direct_add" else creator.id,
                status=status,
                caption=captions[i] if i < len(captions) else None,
                posted_at=clock.now() - timedelta(days=1, minutes=i),
            )
            for i, status in enumerate(statuses)
        ]
    return [row.id for row in rows]


async def _listed(db: Database, caller: Caller, **filters) -> list[uuid.UUID]:
    async with db.read() as session:
        return [v.id for v in (await videos.list_videos(session, caller, order="posted_desc", **filters)).items]


async def test_a_video_of_any_status_is_excluded_and_restored_to_the_status_it_had(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    ids = await _videos(db, clock, acme, *STATUSES)

    async with db.write() as session:
        excluded = await video_tracking.exclude_videos(
            session, caller, video_ids=[str(i) for i in ids], reason="Not about Product X", now=clock.now()
        )
    assert [(c.outcome, c.tracking_status, c.counted) for c in excluded.videos] == [("changed", "excluded", False)] * 4
    assert excluded.changed == 4 and "not rewritten" in (excluded.note or "")
    assert await _listed(db, caller, project_id=project_id) == []
    async with db.read() as session:
        for video_id in ids:
            with pytest.raises(NotFound, match=str(video_id)):
                await videos.get_video(session, caller, video_id)
        listing = await video_tracking.list_excluded(session, caller, project_id=project_id)
    assert listing.excluded is not None
    assert sorted((e.video_id, e.restores_to, e.reason) for e in listing.excluded) == sorted(
        (i, s, "Not about Product X") for i, s in zip(ids, STATUSES, strict=True)
    )

    clock.advance(timedelta(minutes=5))
    async with db.write() as session:
        restored = await video_tracking.restore_videos(session, caller, video_ids=ids, now=clock.now())
        again = await video_tracking.list_excluded(session, caller, project_id=project_id)
    assert [(c.outcome, c.tracking_status) for c in restored.videos] == [("changed", s) for s in STATUSES]
    assert [c.counted for c in restored.videos] == [True, True, True, False]  # pending_review waits in the inbox
    assert sorted(await _listed(db, caller, project_id=project_id)) == sorted(ids)
    assert again.excluded == []


async def test_one_unknown_or_foreign_id_rejects_the_whole_call_and_names_it(
    db: Database, clock: FrozenClock, acme: Org, globex: Org
) -> None:
    caller, project_id = acme
    (mine,) = await _videos(db, clock, acme, "auto_tracked")
    (theirs,) = await _videos(db, clock, globex, "auto_tracked")
    missing = uuid.uuid4()

    messages = []
    async with db.write() as session:
        with pytest.raises(NotFound) as failure:
            await video_tracking.exclude_videos(
                session, caller, video_ids=[mine, theirs, missing, "nonsense"], now=clock.now()
            )
        messages.append(str(failure.value))
    async with db.write() as session:
        with pytest.raises(NotFound) as failure:
            await video_tracking.restore_videos(session, caller, video_ids=[mine, theirs], now=clock.now())
        messages.append(str(failure.value))
    async with db.write() as session:
        with pytest.raises(NotFound) as failure:
            await video_tracking.set_tracking(
                session, caller, video_ids=[mine, missing], enabled=False, now=clock.now()
            )
        messages.append(str(failure.value))

    assert messages[0].startswith("3 of 4 ids are not videos of this organization")
    assert all(repr(str(bad)) in messages[0] for bad in (theirs, missing, "nonsense"))
    assert repr(str(theirs)) in messages[1] and repr(str(missing)) in messages[2]
    assert all(str(mine) not in m and "Nothing was changed" in m for m in messages)
    assert await _listed(db, caller, project_id=project_id) == [mine]
    async with db.read() as session:
        assert (await videos.get_video(session, caller, mine)).tracking_disabled_at is None


async def test_a_retried_exclusion_changes_nothing_and_keeps_the_first_reason(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    (video_id,) = await _videos(db, clock, acme, "included")
    async with db.write() as session:
        await video_tracking.exclude_videos(session, caller, video_ids=[video_id], reason="first", now=clock.now())
    async with db.write() as session:
        retry = await video_tracking.exclude_videos(
            session, caller, video_ids=[video_id], reason="second", now=clock.now()
        )
        listing = await video_tracking.list_excluded(session, caller, project_id=project_id)
        restored = await video_tracking.restore_videos(session, caller, video_ids=[video_id], now=clock.now())
        restored_again = await video_tracking.restore_videos(session, caller, video_ids=[video_id], now=clock.now())
    assert (retry.changed, retry.videos[0].outcome, retry.note) == (0, "unchanged", None)
    assert [(e.reason, e.restores_to) for e in listing.excluded or []] == [("first", "included")]
    assert restored.videos[0].tracking_status == "included"
    assert (restored_again.changed, restored_again.videos[0].outcome) == (0, "unchanged")


async def test_inbox_exclusions_and_older_ones_restore_to_the_inbox(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, _ = acme
    reviewed, older = await _videos(db, clock, acme, "pending_review", "pending_review")
    async with db.write() as session:
        await videos.review_videos(session, caller, video_ids=[reviewed], action="exclude", now=clock.now())
        # Excluded before migration 0006 recorded the previous status.
        await session.execute(update(Video).where(Video.id == older).values(tracking_status="excluded"))
    async with db.write() as session:
        restored = await video_tracking.restore_videos(session, caller, video_ids=[reviewed, older], now=clock.now())
    assert [c.tracking_status for c in restored.videos] == ["pending_review", "pending_review"]


async def test_stopping_tracking_keeps_the_video_listed_with_its_numbers_but_not_counted(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    counted, excluded = await _videos(db, clock, acme, "auto_tracked", "included")
    async with db.write() as session:
        await video_tracking.exclude_videos(session, caller, video_ids=[excluded], now=clock.now())
        stopped = await video_tracking.set_tracking(
            session, caller, video_ids=[counted], enabled=False, now=clock.now()
        )
    assert (stopped.videos[0].tracking_disabled_at, stopped.videos[0].counted) == (clock.now(), False)
    assert await _listed(db, caller, project_id=project_id) == [counted]

    async with db.write() as session:
        with pytest.raises(NotFound, match=str(excluded)):  # excluded videos are unknown to stop/resume
            await video_tracking.set_tracking(session, caller, video_ids=[excluded], enabled=False, now=clock.now())
    clock.advance(timedelta(hours=1))
    async with db.write() as session:
        again = await video_tracking.set_tracking(session, caller, video_ids=[counted], enabled=False, now=clock.now())
        resumed = await video_tracking.set_tracking(session, caller, video_ids=[counted], enabled=True, now=clock.now())
    assert again.videos[0].outcome == "unchanged"
    assert again.videos[0].tracking_disabled_at == clock.now() - timedelta(hours=1)  # the first stop stands
    assert (resumed.videos[0].tracking_disabled_at, resumed.videos[0].counted) == (None, True)


async def test_video_tracking_needs_the_write_scope_and_at_most_100_ids(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    (video_id,) = await _videos(db, clock, acme, "auto_tracked")
    reader = Caller(caller.org_id, frozenset({"read"}))
    async with db.write() as session:
        with pytest.raises(Forbidden):
            await video_tracking.exclude_videos(session, reader, video_ids=[video_id], now=clock.now())
        with pytest.raises(Forbidden):
            await video_tracking.list_excluded(session, reader, project_id=project_id)
        with pytest.raises(InvalidInput, match="at most 100"):
            await video_tracking.exclude_videos(session, caller, video_ids=[video_id] * 101, now=clock.now())
        with pytest.raises(InvalidInput, match="empty"):
            await video_tracking.restore_videos(session, caller, video_ids=[], now=clock.now())
        with pytest.raises(InvalidInput, match="501 characters"):
            await video_tracking.exclude_videos(
                session, caller, video_ids=[video_id], reason="x" * 501, now=clock.now()
            )


async def test_captions_filter_videos_ignoring_case_and_taking_wildcards_literally(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    about, other, percent = await _videos(
        db,
        clock,
        acme,
        "auto_tracked",
        "auto_tracked",
        "auto_tracked",
        captions=("Unboxing PRODUCT x today", "My cat", "50% off product_x"),
    )
    assert await _listed(db, caller, caption_contains="product X") == [about]
    assert await _listed(db, caller, project_id=project_id, caption_contains="product_x") == [percent]
    assert await _listed(db, caller, caption_contains="50%") == [percent]
    assert await _listed(db, caller, caption_contains="%") == [percent]
    assert await _listed(db, caller, caption_contains="cat") == [other]
