"""Videos: add by URL (`direct_add`), list with filters, get, and the tracking inbox (include/exclude).

`excluded` videos are never returned by any list or get: to callers they do not exist.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import String, Uuid, bindparam, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.clock import day_range_utc
from trackagoat_mcp.db.models import Creator, Project, Video, record_columns, table_of
from trackagoat_mcp.db.races import retries_lost_races
from trackagoat_mcp.db.reads import FixedRead
from trackagoat_mcp.domain.campaigns import get_campaign_row
from trackagoat_mcp.domain.creators import MAX_BULK
from trackagoat_mcp.domain.handles import ParsedVideoUrl, is_short_link, parse_video_url, posted_at_from_video_id
from trackagoat_mcp.domain.pagination import (
    Page,
    check_limit,
    cursor_int,
    cursor_time,
    cursor_uuid,
    fetch_fixed_page,
    keyset_page,
)
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.schemas import AddVideoResult, AddVideosResult, ReviewResult, VideoSummary
from trackagoat_mcp.domain.scope import Caller, get_in_org, get_org, id_in_org, not_found, parse_id
from trackagoat_mcp.domain.tree import tree_video_ids
from trackagoat_mcp.errors import InvalidInput

__all__ = ["VideoOrder", "add_videos", "check_add_videos", "get_video", "list_videos", "review_videos"]

VideoOrder = Literal["posted_desc", "posted_asc", "views_desc", "added_desc"]
ListableStatus = Literal["auto_tracked", "included", "pending_review", "direct_add"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def get_video(session: AsyncSession, caller: Caller, video_id: Any) -> Video:
    """A video of the caller's organization; excluded videos are reported as not found."""
    video = await get_in_org(session, caller, Video, video_id, "video")
    if video.tracking_status == "excluded":
        raise not_found("video", video.id)
    return video


async def check_add_videos(session: AsyncSession, caller: Caller, *, project_id: Any, urls: list[str]) -> None:
    """Everything `add_videos` would refuse that needs no short link opened: scope, project, other URLs.

    `add_videos` opens the short links in `urls` on TikTok first (outside any transaction); this runs before that,
    so a caller without the `write` scope, a project of another organization or a malformed URL is refused
    without a single request leaving the server. Short links themselves are left for the opening.
    """
    caller.require("write")
    await get_project(session, caller, project_id)
    _parse_all(urls, skip=is_short_link)


def _parse_all(urls: list[str], *, skip: Callable[[str], bool] | None = None) -> dict[str, tuple[str, ParsedVideoUrl]]:
    """Each video id of `urls` (but those `skip` says to leave alone) with the first entry naming it.

    Raises:
        InvalidInput: no URLs, too many, or any is malformed (one sentence naming every bad one).
    """
    if not urls:
        raise InvalidInput("urls is empty; pass between 1 and 50 TikTok video URLs.")
    if len(urls) > MAX_BULK:
        raise InvalidInput(f"{len(urls)} URLs were given; add at most {MAX_BULK} per call.")
    parsed: dict[str, tuple[str, ParsedVideoUrl]] = {}
    errors = []
    for raw in urls:
        if skip is not None and skip(raw):
            continue
        try:
            item = parse_video_url(raw)
            parsed.setdefault(item.tiktok_video_id, (raw, item))
        except InvalidInput as exc:
            errors.append(str(exc))
    if errors:
        raise InvalidInput(
            f"{len(errors)} of {len(urls)} URLs are invalid and nothing was added: " + " ".join(errors),
            code="invalid_url",
        )
    return parsed


@retries_lost_races
async def add_videos(
    session: AsyncSession, caller: Caller, *, project_id: Any, urls: list[str], now: datetime
) -> AddVideosResult:
    """Add up to 50 videos by URL to a project as `direct_add` (they always count).

    All-or-nothing on malformed URLs: the error names every bad one and nothing is written. A video
    already tracked in the project is reported as `already_tracked` (rejected, nothing changes); one
    that was excluded is brought back as `direct_add` (`reincluded`), since adding it by hand says it
    belongs. `posted_at` is read from the video id until the first scrape confirms it.
    """
    caller.require("write")
    project = await get_project(session, caller, project_id)
    parsed = _parse_all(urls)
    existing = {
        v.tiktok_video_id: v
        for v in (
            await session.scalars(
                select(Video).where(
                    col(Video.project_id) == project.id,
                    col(Video.tiktok_video_id).in_(list(parsed)),
                )
            )
        ).all()
    }
    results: list[AddVideoResult] = []
    for video_id, (raw, item) in parsed.items():
        video = existing.get(video_id)
        outcome: Literal["added", "reincluded", "already_tracked"]
        if video is None:
            video = Video(
                org_id=caller.org_id,
                project_id=project.id,
                tiktok_video_id=video_id,
                url=item.canonical_url,
                tracking_status="direct_add",
                is_photo=item.is_photo,
                posted_at=posted_at_from_video_id(video_id),
                created_at=now,
                updated_at=now,
            )
            session.add(video)
            outcome = "added"
        elif video.tracking_status == "excluded":
            video.tracking_status = "direct_add"
            video.excluded_at = video.excluded_from_status = video.exclusion_reason = None
            video.updated_at = now
            session.add(video)
            outcome = "reincluded"
        else:
            outcome = "already_tracked"
        results.append(
            AddVideoResult(
                input=raw,
                tiktok_video_id=video_id,
                video_id=video.id,
                outcome=outcome,
                tracking_status=video.tracking_status,
            )
        )
    await session.flush()
    return AddVideosResult(project_id=project.id, results=results)


_POSTED = func.coalesce(col(Video.posted_at), _EPOCH)
_LISTED = tuple(VideoSummary.model_fields)
"""What `list_videos` reads of a video: its summary, which holds every sort value but `added_desc`'s."""
# order -> (sort expression, descending?, cursor parser, the row's sort value)
_ORDERS: dict[str, tuple[Any, bool, Callable[[Any], Any], Callable[[Video], Any]]] = {
    "posted_desc": (_POSTED, True, cursor_time, lambda v: v.posted_at or _EPOCH),
    "posted_asc": (_POSTED, False, cursor_time, lambda v: v.posted_at or _EPOCH),
    "views_desc": (col(Video.view_count), True, cursor_int, lambda v: v.view_count),
    "added_desc": (col(Video.created_at), True, cursor_time, lambda v: v.created_at),
}


LIKE_ESCAPE = "/"


def like_escaped(text: str) -> str:
    """`text` for a LIKE pattern with `LIKE_ESCAPE`, its `%`, `_` and escape characters taken literally."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


@functools.cache
def _page_of_videos(order: str, filters: frozenset[str], after: bool) -> FixedRead:
    """The statement of a `list_videos` page for one shape of its arguments: the filters given (by the names of
    their bound values), the order, and whether a cursor continues the list."""
    sort = _ORDERS[order][0]
    read = _LISTED if order != "added_desc" else (*_LISTED, "created_at")
    videos = table_of(Video).c
    query = select(*record_columns(Video, read)).where(
        videos.org_id == bindparam("org_id"), videos.tracking_status != "excluded"
    )
    for name in ("project_id", "creator_id", "tracking_status"):
        if name in filters:
            query = query.where(videos[name] == bindparam(name))
    if "campaign_id" in filters:
        query = query.where(videos.id.in_(tree_video_ids(bindparam("campaign_id", type_=Uuid))))
    if "posted_from" in filters:
        query = query.where(videos.posted_at >= bindparam("posted_from"))
    if "posted_to" in filters:
        query = query.where(videos.posted_at < bindparam("posted_to"))
    if "caption" in filters:
        query = query.where(videos.caption.icontains(bindparam("caption", type_=String), escape=LIKE_ESCAPE))
    return keyset_page(query, [sort, videos.id], descending=_ORDERS[order][1], after=after)


async def list_videos(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any | None = None,
    creator_id: Any | None = None,
    campaign_id: Any | None = None,
    tracking_status: str | None = None,
    posted_from: date | None = None,
    posted_to: date | None = None,
    caption_contains: str | None = None,
    order: str = "posted_desc",
    limit: int = 50,
    cursor: str | None = None,
) -> Page[VideoSummary]:
    """Videos matching every filter given; `excluded` ones never appear.

    `campaign_id` means every video the campaign tree reaches; `posted_from`/`posted_to` are local
    days (inclusive) in the organization's timezone. `caption_contains` matches part of the caption, ignoring
    case (on SQLite only ASCII letters fold; PostgreSQL folds every letter), `%` and `_` taken literally: it is
    how an agent finds the candidates of a description's rule ("exclude videos not about Product X").
    """
    check_limit(limit)
    if order not in _ORDERS:
        raise InvalidInput(f"order {order!r} is not one of {sorted(_ORDERS)!r}.")
    values: dict[str, Any] = {"org_id": caller.org_id}
    # A project or creator filter is checked to exist only when the page comes back empty (below): one statement
    # fewer for every page that has rows.
    owners: list[tuple[type[Project] | type[Creator], uuid.UUID, str]] = []
    if project_id is not None:
        values["project_id"] = parse_id(project_id, "project")
        owners.append((Project, values["project_id"], "project"))
    if creator_id is not None:
        values["creator_id"] = parse_id(creator_id, "creator")
        owners.append((Creator, values["creator_id"], "creator"))
    if campaign_id is not None:
        values["campaign_id"] = (await get_campaign_row(session, caller, campaign_id)).id
    if tracking_status is not None:
        if tracking_status == "excluded":
            raise InvalidInput(
                "Excluded videos are never returned; filter by auto_tracked, included, pending_review or direct_add."
            )
        if tracking_status not in ("auto_tracked", "included", "pending_review", "direct_add"):
            raise InvalidInput(
                f"tracking_status {tracking_status!r} is not one of auto_tracked, included, pending_review, direct_add."
            )
        values["tracking_status"] = tracking_status
    if posted_from is not None or posted_to is not None:
        if posted_from and posted_to and posted_from > posted_to:
            raise InvalidInput(f"posted_from {posted_from.isoformat()!r} is after posted_to {posted_to.isoformat()!r}.")
        tz = (await get_org(session, caller)).timezone
        if posted_from is not None:
            values["posted_from"] = day_range_utc(posted_from, posted_from, tz)[0]
        if posted_to is not None:
            values["posted_to"] = day_range_utc(posted_to, posted_to, tz)[1]
    if caption_contains is not None and caption_contains.strip():
        values["caption"] = like_escaped(caption_contains.strip())
    _, _, sort_parser, sort_key = _ORDERS[order]
    shape = frozenset(values)
    page, next_cursor = await fetch_fixed_page(
        session,
        lambda after: _page_of_videos(order, shape, after),
        values,
        kind="videos",
        order=order,
        parsers=[sort_parser, cursor_uuid],
        key=lambda v: [sort_key(v), v.id],
        cursor=cursor,
        limit=limit,
    )
    if not page:
        for model, owner_id, what in owners:
            await id_in_org(session, caller, model, owner_id, what)
    return Page[VideoSummary](items=[VideoSummary.of(v) for v in page], next_cursor=next_cursor)


async def review_videos(
    session: AsyncSession, caller: Caller, *, video_ids: list[Any], action: Literal["include", "exclude"], now: datetime
) -> ReviewResult:
    """Include or exclude videos waiting in the tracking inbox (`pending_review`).

    All-or-nothing: if any id is unknown or not pending review, nothing changes and the error says
    which. Included videos count from now on; excluded ones disappear from every list and stat.
    """
    caller.require("write")
    if action not in ("include", "exclude"):
        raise InvalidInput(f"action {action!r} is not 'include' or 'exclude'.")
    if not video_ids:
        raise InvalidInput(
            "video_ids is empty; pass the ids of pending_review videos (list_videos with "
            "tracking_status='pending_review')."
        )
    if len(video_ids) > 100:
        raise InvalidInput(f"{len(video_ids)} ids were given; review at most 100 per call.")
    videos = list({video.id: video for video in [await get_video(session, caller, vid) for vid in video_ids]}.values())
    not_pending = [f"{str(v.id)!r} ({v.tracking_status})" for v in videos if v.tracking_status != "pending_review"]
    if not_pending:
        raise InvalidInput(
            "Only pending_review videos can be reviewed; these are not: "
            + ", ".join(not_pending)
            + ". Nothing was changed."
        )
    status = "included" if action == "include" else "excluded"
    for video in videos:
        if status == "excluded":  # set_video_tracking's restore brings it back to the inbox
            video.excluded_from_status, video.excluded_at = video.tracking_status, now
        video.tracking_status = status
        video.updated_at = now
        session.add(video)
    await session.flush()
    return ReviewResult(action=action, updated=[v.id for v in videos], tracking_status=status)
