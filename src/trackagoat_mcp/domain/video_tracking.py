"""Acting on a description's rules about videos: exclude and restore them, stop and resume their tracking.

* **Exclude** moves a video of any other status (`auto_tracked`, `included`, `direct_add`, `pending_review`) to
  `excluded`, recording when, the status it had (`excluded_from_status`) and an optional reason. An excluded video
  is never returned by any list or get and counts in no statistic, series, leaderboard, goal figure or accrual
  evaluated afterwards.
* **Restore** brings an excluded video back to the status it had before (`pending_review` for videos excluded
  before that status was recorded: only the tracking inbox could exclude then).
* **Stop tracking** sets `tracking_disabled_at`: the scraper no longer refreshes the video, it keeps its last
  numbers, analytics series count it up to that moment, and it stops counting in campaign statistics,
  leaderboards, goals and later accruals (SPEC §4: only videos that are not tracking-disabled count).
  **Resume** clears it.
* **Finding excluded ids again**: they are in the exclusion result, and `list_excluded` (this module, exposed by the
  same write tool only) lists a project's excluded videos compactly: id, URL, creator, when, the status they
  return to and the reason; no caption, no counters. No other list shows them, so the rule "excluded videos are
  never returned" holds for every read tool.

Bulk calls take 1-100 ids and are all-or-nothing: one id that is not a video of the caller's organization (or, for
stop/resume, one that is excluded) rejects the call, names every bad id, and changes nothing. Ids already in the
requested state are reported `unchanged`, so a retried call is safe. Accruals already evaluated are never
rewritten; exclude and stop_tracking name the `earned` ones that counted the videos (`payouts.video_accruals`).
These functions are what `PATCH /api/v1/videos/{id}` and `POST /api/v1/videos/{id}/tracking-disable` will call.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.db.models import Video
from trackagoat_mcp.domain.pagination import cursor_time, cursor_uuid, fetch_page
from trackagoat_mcp.domain.payouts.video_accruals import AccrualToReview, accruals_counting
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.schemas import COUNTED_STATUSES, TrackingStatus
from trackagoat_mcp.domain.scope import Caller, parse_id
from trackagoat_mcp.errors import InvalidInput, NotFound

__all__ = [
    "MAX_IDS",
    "MAX_REASON",
    "ExcludedVideo",
    "VideoChange",
    "VideoTrackingResult",
    "exclude_videos",
    "list_excluded",
    "restore_videos",
    "set_tracking",
]

MAX_IDS = 100
MAX_REASON = 500
Action = Literal["exclude", "restore", "stop_tracking", "resume_tracking", "list_excluded"]
RESTORABLE = (*COUNTED_STATUSES, "pending_review")
LEGACY_RESTORE = "pending_review"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXCLUDED_AT = func.coalesce(col(Video.excluded_at), _EPOCH)  # videos excluded before it was recorded sort last

NOT_REWRITTEN = (
    "Accruals already evaluated are not rewritten; accruals_to_review names each earned one that counted these "
    "videos: reject it with update_payout_accrual if it should not stand. Later evaluations leave the videos out."
)
RESTORED = (
    "Restored videos count again in every figure read from now on; accruals evaluated while they were excluded "
    "are not rewritten."
)


class VideoChange(BaseModel):
    """One video of a call and its state afterwards."""

    model_config = ConfigDict(frozen=True)

    video_id: uuid.UUID
    outcome: Literal["changed", "unchanged"] = Field(description="unchanged: it was already in that state.")
    tracking_status: TrackingStatus
    tracking_disabled_at: datetime | None
    counted: bool = Field(description="Whether it counts in statistics, goals and payouts now.")

    @classmethod
    def of(cls, video: Video, changed: bool) -> VideoChange:
        return cls(
            video_id=video.id,
            outcome="changed" if changed else "unchanged",
            tracking_status=video.tracking_status,
            tracking_disabled_at=video.tracking_disabled_at,
            counted=video.tracking_status in COUNTED_STATUSES and video.tracking_disabled_at is None,
        )


class ExcludedVideo(BaseModel):
    """An excluded video, as `list_excluded` shows it (enough to restore it, nothing more)."""

    model_config = ConfigDict(frozen=True)

    video_id: uuid.UUID
    url: str
    creator_id: uuid.UUID | None
    excluded_at: datetime | None
    restores_to: TrackingStatus
    reason: str | None = Field(description="The reason given when it was excluded.")


class VideoTrackingResult(BaseModel):
    """The outcome of one call: the videos changed, or (list_excluded) a page of excluded videos."""

    model_config = ConfigDict(frozen=True)

    action: Action
    videos: list[VideoChange]
    changed: int
    accruals_to_review: list[AccrualToReview] = Field(
        description="Earned accruals that counted these videos; not rewritten (exclude and stop_tracking)."
    )
    note: str | None
    excluded: list[ExcludedVideo] | None = Field(default=None, description="list_excluded only.")
    next_cursor: str | None = None


def _parse(raw: Any) -> uuid.UUID | None:
    try:
        return parse_id(raw, "video")
    except NotFound:
        return None


async def _load(
    session: AsyncSession, caller: Caller, video_ids: list[Any], action: str, *, hidden_ok: bool
) -> list[Video]:
    """The videos, once each in the order given; any unknown, foreign (and, unless `hidden_ok`, excluded) id
    rejects the whole call with one error naming every such id."""
    if not video_ids:
        raise InvalidInput(f"video_ids is empty; pass 1 to {MAX_IDS} video ids to {action}.")
    if len(video_ids) > MAX_IDS:
        raise InvalidInput(f"{len(video_ids)} ids were given; {action} at most {MAX_IDS} per call.")
    parsed = {raw: _parse(raw) for raw in map(str, video_ids)}
    wanted = [i for i in parsed.values() if i is not None]
    rows = {
        v.id: v
        for v in (
            await session.scalars(select(Video).where(col(Video.id).in_(wanted), col(Video.org_id) == caller.org_id))
        ).all()
    }
    bad = [
        repr(raw)
        for raw, i in parsed.items()
        if i is None or i not in rows or (not hidden_ok and rows[i].tracking_status == "excluded")
    ]
    if bad:
        raise NotFound(
            f"{len(bad)} of {len(parsed)} ids are not videos of this organization: {', '.join(bad)}. Nothing was "
            "changed; use ids from list_videos (or, for restore, from the exclusion result or list_excluded)."
        )
    return list({i: rows[i] for i in wanted}.values())


def _reason(reason: str | None) -> str | None:
    if reason is None or not reason.strip():
        return None
    text = reason.strip()
    if len(text) > MAX_REASON:
        raise InvalidInput(f"reason is {len(text)} characters long; the limit is {MAX_REASON}. Shorten it.")
    return text


async def exclude_videos(
    session: AsyncSession, caller: Caller, *, video_ids: list[Any], reason: str | None = None, now: datetime
) -> VideoTrackingResult:
    """Exclude videos of any status; already excluded ones are `unchanged` (their first reason stays)."""
    caller.require("write")
    why = _reason(reason)
    videos = await _load(session, caller, video_ids, "exclude", hidden_ok=True)
    changed: list[Video] = []
    for video in videos:
        if video.tracking_status == "excluded":
            continue
        video.excluded_from_status = video.tracking_status
        video.tracking_status = "excluded"
        video.excluded_at = now
        video.exclusion_reason = why
        video.updated_at = now
        session.add(video)
        changed.append(video)
    await session.flush()
    return await _result("exclude", videos, changed, session, note=NOT_REWRITTEN)


async def restore_videos(
    session: AsyncSession, caller: Caller, *, video_ids: list[Any], now: datetime
) -> VideoTrackingResult:
    """Bring excluded videos back to the status they had; videos that are not excluded are `unchanged`."""
    caller.require("write")
    videos = await _load(session, caller, video_ids, "restore", hidden_ok=True)
    changed: list[Video] = []
    for video in videos:
        if video.tracking_status != "excluded":
            continue
        before = video.excluded_from_status
        video.tracking_status = before if before in RESTORABLE else LEGACY_RESTORE
        video.excluded_from_status = video.excluded_at = video.exclusion_reason = None
        video.updated_at = now
        session.add(video)
        changed.append(video)
    await session.flush()
    return await _result("restore", videos, changed, session, note=RESTORED)


async def set_tracking(
    session: AsyncSession, caller: Caller, *, video_ids: list[Any], enabled: bool, now: datetime
) -> VideoTrackingResult:
    """Stop (`enabled=False`) or resume the scraper's refreshes of videos; excluded ids are unknown here."""
    caller.require("write")
    action: Action = "resume_tracking" if enabled else "stop_tracking"
    videos = await _load(session, caller, video_ids, action, hidden_ok=False)
    changed = [v for v in videos if (v.tracking_disabled_at is None) != enabled]
    for video in changed:
        video.tracking_disabled_at = None if enabled else now
        video.updated_at = now
        session.add(video)
    await session.flush()
    if enabled:
        return await _result(action, videos, changed, session, note=None)
    return await _result(action, videos, changed, session, note=NOT_REWRITTEN)


async def _result(
    action: Action, videos: list[Video], changed: list[Video], session: AsyncSession, *, note: str | None
) -> VideoTrackingResult:
    ids = {v.id for v in changed}
    review: list[AccrualToReview] = []
    if action in ("exclude", "stop_tracking") and changed:
        review = await accruals_counting(session, changed)
    return VideoTrackingResult(
        action=action,
        videos=[VideoChange.of(v, v.id in ids) for v in videos],
        changed=len(ids),
        accruals_to_review=review,
        note=note if changed else None,
    )


async def list_excluded(
    session: AsyncSession, caller: Caller, *, project_id: Any, limit: int = 50, cursor: str | None = None
) -> VideoTrackingResult:
    """A project's excluded videos, most recently excluded first (see the module docstring for why this exists)."""
    caller.require("write")
    project = await get_project(session, caller, project_id)
    query = select(Video).where(col(Video.project_id) == project.id, col(Video.tracking_status) == "excluded")
    page, next_cursor = await fetch_page(
        session,
        query,
        kind="excluded_videos",
        order="excluded_desc",
        columns=[_EXCLUDED_AT, col(Video.id)],
        parsers=[cursor_time, cursor_uuid],
        key=lambda v: [v.excluded_at or _EPOCH, v.id],
        cursor=cursor,
        limit=limit,
        descending=True,
    )
    items = [
        ExcludedVideo(
            video_id=v.id,
            url=v.url,
            creator_id=v.creator_id,
            excluded_at=v.excluded_at,
            restores_to=v.excluded_from_status if v.excluded_from_status in RESTORABLE else LEGACY_RESTORE,
            reason=v.exclusion_reason,
        )
        for v in page
    ]
    return VideoTrackingResult(
        action="list_excluded",
        videos=[],
        changed=0,
        accruals_to_review=[],
        note=None,
        excluded=items,
        next_cursor=next_cursor,
    )
