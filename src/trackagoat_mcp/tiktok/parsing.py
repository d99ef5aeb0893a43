"""Turn TikTok's HTML pages and item-list JSON into dataclasses plus a page state (pure, no I/O).

Facts come from `reference/tiktok-ledgers-jobs.md` §1.2-1.5 and §1.7. TikTok answers HTTP 200 for almost
everything and says what happened in a `statusCode` inside the JSON, so every parser returns a
`PageResult`: a `PageState` (`ok`, `not_found`, `private`, …) and the parsed data, or `None`.

Shapes read besides the current desktop pages: the mobile ("reflow") post page, whose item sits under
`webapp.reflow.video.detail` with its status text in `statusMessage` (the `webapp.reflow.global.shareUser` module
next to it is whoever shared the link, never the author, so it is ignored); the legacy `SIGI_STATE` blob, as
JSON or as the 2021-22 script form `window['SIGI_STATE']={…};window['SIGI_RETRY']=…`.

Two status codes need their payload read too: 10221 ("banned") with an empty `userInfo` is a handle that does
not exist (TikTok-Api issue #1158), so it is `not_found`; a private profile (10222) shows `videoCount` 0 to a
logged-out visitor, a zero that is not the real count, so its `video_count` is `None`.

The rule that matters most: a page we cannot read is never data. A page without a blob, a challenge or
captcha, a shell, or an empty body is `blocked`; an unrecognised status code or a blob missing its stats is
`unknown`. Neither carries zeros, so a caller keeps its last good numbers.

Counters are read from `statsV2` (strings, safe past 2^53) before `stats`, and negative values that are
signed-32-bit wraps of large counts are unwrapped. A missing counter is `None`, never `0`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from trackagoat_mcp.tiktok.blobs import (
    UNIVERSAL_SCRIPT_ID,
    block_kind,
    blocked_reason,
    default_scope_module,
    extract_script_json,
    loads,
    sigi_state,
)

__all__ = [
    "BLOCKED_STATES",
    "UNIVERSAL_SCRIPT_ID",
    "block_kind",
    "PageResult",
    "PageState",
    "Profile",
    "Video",
    "VideoPage",
    "classify_status",
    "extract_script_json",
    "parse_count",
    "parse_item",
    "parse_item_list",
    "parse_profile_page",
    "parse_video_page",
]

PageState = Literal[
    "ok",
    "not_found",
    "private",
    "banned",
    "region_locked",
    "restricted",
    "login_required",
    "blocked",
    "unknown",
]
"""What a page says about its subject. `blocked` and `login_required` mean "we could not look", not "gone"."""

BLOCKED_STATES: frozenset[PageState] = frozenset({"blocked", "login_required"})

_VIDEO_MODULES = ("webapp.video-detail", "webapp.reflow.video.detail")
"""Where a post page keeps its item: desktop pages first, then the mobile ("reflow") page."""

# reference §1.4; 10204 is ambiguous ("deleted" or "your IP is blocked from this post") but reads as not_found.
_STATUS_STATES: Mapping[int, PageState] = {
    0: "ok",
    10202: "not_found",
    10204: "not_found",
    10216: "private",
    10221: "banned",
    10222: "private",
    10223: "restricted",
    10000: "restricted",
    10231: "region_locked",
    10240: "restricted",
}

_INT32_SPAN = 2**32

# Counter names, each with the aliases tried after it in the same source (statsV2 first, then stats).
_PROFILE_COUNTERS = (("followerCount",), ("followingCount",), ("heartCount", "heart"), ("videoCount",))
_VIDEO_COUNTERS = (("playCount",), ("diggCount",), ("commentCount",), ("shareCount",), ("collectCount",))

T = TypeVar("T")


@dataclass(slots=True)
class Profile:
    """A creator's public profile as one page showed it."""

    user_id: str
    sec_uid: str
    handle: str
    nickname: str
    signature: str
    avatar_url: str | None
    follower_count: int | None
    following_count: int | None
    heart_count: int | None
    video_count: int | None
    private: bool
    verified: bool


@dataclass(slots=True)
class Video:
    """One post (video or photo slideshow) with its cumulative counters at fetch time."""

    video_id: str
    author_handle: str | None
    author_id: str | None
    author_sec_uid: str | None
    description: str
    create_time: datetime
    play_count: int | None
    digg_count: int | None
    comment_count: int | None
    share_count: int | None
    collect_count: int | None
    is_photo: bool


@dataclass(frozen=True, slots=True)
class VideoPage:
    """One page of a creator's item list: the videos, the cursor for the next (older) page, and whether there is one."""

    videos: tuple[Video, ...]
    cursor: int | None
    has_more: bool


@dataclass(frozen=True, slots=True)
class PageResult(Generic[T]):
    """A page's state and, when the page carried it, the parsed data.

    `data` may be present for states other than `ok` (a private profile still shows its name), and is always
    `None` for `blocked` and `unknown`.
    """

    state: PageState
    data: T | None = None
    status_code: int | None = None
    detail: str = ""
    blocked_by: str | None = None
    """What blocked the plain client before the browser fetcher read this page (`challenge`, `http_403`, …)."""

    @property
    def ok(self) -> bool:
        """Whether the page is a normal, readable page."""
        return self.state == "ok"


def classify_status(code: int, message: str = "") -> PageState:
    """Map an in-JSON `statusCode` (and `statusMsg`) to a page state.

    Args:
        code: the `statusCode` value; `0` means OK.
        message: the `statusMsg`, which marks ad ("dark") posts.

    Returns:
        The state; codes not in the reference table are `unknown`.
    """
    if "dark_post" in message:
        return "restricted"
    return _STATUS_STATES.get(code, "unknown")


def parse_count(value: object) -> int | None:
    """Read a counter that may be an int, a float or a numeric string, unwrapping signed-32-bit wraps.

    Args:
        value: the raw JSON value.

    Returns:
        The non-negative count, or `None` when the value is missing or not a number.
    """
    if isinstance(value, str):  # the usual case first: statsV2 counters and createTime are strings
        try:
            number = int(value.strip())
        except ValueError:
            return None
    elif isinstance(value, bool) or value is None:
        return None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        number = int(value)
    else:
        return None
    if number < 0:
        # Counts above 2^31 sometimes come back as their signed-32-bit wrap (reference §1.3).
        return number + _INT32_SPAN if number >= -(2**31) else None
    return number


def parse_profile_page(html: str, handle: str | None = None) -> PageResult[Profile]:
    """Parse a profile page (`/@handle`), with the legacy `SIGI_STATE` layout as a fallback.

    Args:
        html: the page body.
        handle: the handle asked for; picks the right user out of a legacy page holding several.

    Returns:
        The page state and the profile when the page carried one.
    """
    module = default_scope_module(html, ("webapp.user-detail",))
    if module is not None:
        code, message, state = _module_status(module)
        info = module.get("userInfo")
        profile = _profile(info.get("user"), info.get("stats"), info.get("statsV2")) if isinstance(info, dict) else None
        if state == "ok" and profile is None:
            return PageResult("unknown", None, code, "user-detail has no user or stats")
        return _profile_result(state, profile, _names_a_user(info), code, message)
    sigi = sigi_state(html)
    if sigi is not None:
        return _profile_from_sigi(sigi, handle)
    return PageResult("blocked", None, None, blocked_reason(html))


def parse_video_page(html: str, video_id: str | None = None) -> PageResult[Video]:
    """Parse a video or photo page (`/@handle/video/<id>`), with the legacy `SIGI_STATE` layout as a fallback.

    Args:
        html: the page body.
        video_id: the id asked for; picks the right item out of a legacy page holding several.

    Returns:
        The page state and the video when the page carried one. An age-gated item
        (`isContentClassified`) is `login_required`.
    """
    module = default_scope_module(html, _VIDEO_MODULES)
    if module is not None:
        code, message, state = _module_status(module)
        info = module.get("itemInfo")
        item = info.get("itemStruct") if isinstance(info, dict) else None
        return _video_result(item, state, code, message)
    sigi = sigi_state(html)
    if sigi is not None:
        items = sigi.get("ItemModule")
        page = sigi.get("VideoPage")
        code, message, state = _module_status(page if isinstance(page, dict) else {})
        item = _pick(items, video_id)
        if item is None and state == "ok":
            return PageResult("blocked", None, None, "SIGI_STATE page without ItemModule")
        return _video_result(item, state, code, message)
    return PageResult("blocked", None, None, blocked_reason(html))


def parse_item(item: object) -> Video | None:
    """Parse one item (an `itemStruct`, or an entry of an item list's `itemList`).

    Returns:
        The video, or `None` when the item lacks an id, a (possible) creation time or any stats.
    """
    if not isinstance(item, dict):
        return None
    get = item.get
    video_id = str(get("id") or "")
    if not (video_id.isascii() and video_id.isdigit()):  # "²".isdigit() is true, but int("²") fails
        return None
    stats, stats_v2 = get("stats"), get("statsV2")
    if not isinstance(stats, dict) and not isinstance(stats_v2, dict):
        return None
    created = parse_count(get("createTime")) or int(video_id) >> 32
    if not created:
        return None
    author = get("author") or get("authorInfo")
    author_handle: str | None
    author_id: str | None
    author_sec_uid: str | None
    if isinstance(author, dict):
        # `_str_or_none` inline for the usual str values: a call per field shows on an item list.
        raw = author.get("uniqueId")
        author_handle = raw if raw.__class__ is str else _str_or_none(raw)
        author_handle = author_handle.lower() if author_handle else None
        raw = author.get("id")
        author_id = (raw or None) if raw.__class__ is str else _str_or_none(raw)
        raw = author.get("secUid")
        author_sec_uid = (raw or None) if raw.__class__ is str else _str_or_none(raw)
    elif isinstance(author, str):
        author_handle, author_id, author_sec_uid = author.lower() or None, None, None
    else:
        author_handle = author_id = author_sec_uid = None
    try:
        create_time = datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError):  # a time no calendar holds: skip the item, keep the page
        return None
    plays, likes, comments, shares, saves = _counters(stats, stats_v2, _VIDEO_COUNTERS)
    return Video(
        video_id,
        author_handle,
        author_id,
        author_sec_uid,
        str(get("desc") or ""),
        create_time,
        plays,
        likes,
        comments,
        shares,
        saves,
        bool(get("imagePost")),
    )


def parse_item_list(body: str | bytes) -> PageResult[VideoPage]:
    """Parse a `/api/creator/item_list/` response: many videos with stats, plus paging.

    The next cursor is the last item's `createTime` in milliseconds (items come newest first), as yt-dlp
    pages it. An empty body, non-JSON, or the slider-captcha JSON is `blocked`.

    Args:
        body: the response body.

    Returns:
        The page state and, when `ok`, the videos and paging.
    """
    if not body.strip():
        return PageResult("blocked", None, None, "empty body")
    try:
        payload = loads(body) if isinstance(body, str) else json.loads(body)
    except ValueError:
        text = body if isinstance(body, str) else body.decode("utf-8", "replace")
        if 'id="cs"' in text or "Please wait" in text:
            return PageResult("blocked", None, None, "challenge page")
        return PageResult("blocked", None, None, "item list is not JSON (an HTML page or garbage instead)")
    if not isinstance(payload, dict):
        return PageResult("blocked", None, None, "item list JSON is not an object")
    if payload.get("type") == "verify":
        return PageResult("blocked", None, None, "captcha (verify) instead of the item list")
    if "statusCode" not in payload and "itemList" not in payload:
        return PageResult("blocked", None, None, "JSON without statusCode or itemList")
    code, message, state = _module_status(payload)
    if state != "ok":
        return PageResult(state, None, code, message)
    raw_items = payload.get("itemList") or []
    if not isinstance(raw_items, list):
        return PageResult("unknown", None, code, "itemList is not a list")
    videos = tuple([video for video in map(parse_item, raw_items) if video is not None])
    skipped = len(raw_items) - len(videos)
    cursor = int(videos[-1].create_time.timestamp()) * 1000 if videos else None
    has_more = bool(payload.get("hasMorePrevious", payload.get("hasMore", False)))
    detail = f"{skipped} unreadable item(s) skipped" if skipped else message
    return PageResult("ok", VideoPage(videos, cursor, has_more), code, detail)


# --- helpers -----------------------------------------------------------------------------------------------


def _module_status(module: Mapping[str, Any]) -> tuple[int | None, str, PageState]:
    raw = module.get("statusCode")
    # Desktop modules say `statusMsg`, mobile (reflow) ones `statusMessage`.
    message = str(module.get("statusMsg") or module.get("statusMessage") or "")
    if raw is None:
        return None, message, classify_status(0, message)
    code = raw if raw.__class__ is int and raw >= 0 else parse_count(raw)
    if code is None:
        return None, message, "unknown"
    return code, message, classify_status(code, message)


def _str_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _counters(stats: object, stats_v2: object, counters: tuple[tuple[str, ...], ...]) -> list[int | None]:
    """Each counter (a name and its aliases) from `statsV2` if it has a readable one, else from `stats`.

    The same reading as `parse_count` on every value, with the common cases (a digit string, a non-negative
    int) inline: a page's counters are the bulk of the per-item work.
    """
    if isinstance(stats_v2, dict):
        sources: tuple[dict[str, Any], ...] = (stats_v2, stats) if isinstance(stats, dict) else (stats_v2,)
    elif isinstance(stats, dict):
        sources = (stats,)
    else:
        return [None] * len(counters)
    counts: list[int | None] = []
    for names in counters:
        count: int | None = None
        for source in sources:
            for name in names:
                raw = source.get(name)
                if raw.__class__ is str:
                    try:
                        count = int(raw)
                    except ValueError:  # `parse_count` strips more kinds of whitespace than `int` skips
                        count = parse_count(raw)
                    else:
                        if count < 0:
                            count = parse_count(count)
                elif raw.__class__ is int and raw >= 0:
                    count = raw
                else:
                    count = parse_count(raw)
                if count is not None:
                    break
            if count is not None:
                break
        counts.append(count)
    return counts


def _profile(user: object, stats: object, stats_v2: object) -> Profile | None:
    if not isinstance(user, dict) or not (isinstance(stats, dict) or isinstance(stats_v2, dict)):
        return None
    get = user.get
    user_id, handle = _str_or_none(get("id")), _str_or_none(get("uniqueId"))
    if user_id is None or handle is None:
        return None
    avatar = get("avatarLarger") or get("avatarMedium") or get("avatarThumb")
    followers, following, hearts, videos = _counters(stats, stats_v2, _PROFILE_COUNTERS)
    return Profile(
        user_id,
        str(get("secUid") or ""),
        handle.lower(),
        str(get("nickname") or ""),
        str(get("signature") or ""),
        str(avatar) if avatar else None,
        followers,
        following,
        hearts,
        videos,
        bool(get("privateAccount")),
        bool(get("verified")),
    )


def _pick(mapping: object, key: str | None) -> object | None:
    """The entry for `key` in a legacy `…Module` dict (case-insensitively), or its only/first entry."""
    if not isinstance(mapping, dict) or not mapping:
        return None
    if key is not None:
        wanted = key.lower()
        for name, value in mapping.items():
            if str(name).lower() == wanted:
                found: object = value
                return found
        return None
    first: object = next(iter(mapping.values()))
    return first


def _profile_from_sigi(sigi: Mapping[str, Any], handle: str | None) -> PageResult[Profile]:
    users = sigi.get("UserModule")
    page = sigi.get("UserPage")
    code, message, state = _module_status(page if isinstance(page, dict) else {})
    profile = None
    if isinstance(users, dict):
        user = _pick(users.get("users"), handle)
        uid = user.get("uniqueId") if isinstance(user, dict) else None
        stats = _pick(users.get("stats"), str(uid)) if uid else None
        profile = _profile(user, stats, None)
    if state == "ok" and profile is None:
        return PageResult("blocked", None, code, "SIGI_STATE page without the user")
    named = isinstance(users, dict) and _pick(users.get("users"), handle) is not None
    return _profile_result(state, profile, named, code, message)


def _names_a_user(info: object) -> bool:
    """Whether a `userInfo` names an account (an id or a handle), however little else it holds."""
    user = info.get("user") if isinstance(info, dict) else None
    return isinstance(user, dict) and bool(user.get("id") or user.get("uniqueId"))


def _profile_result(
    state: PageState, profile: Profile | None, names_user: bool, code: int | None, message: str
) -> PageResult[Profile]:
    """The page's state and profile, with the two readings a status code alone gets wrong.

    10221 with an empty (or missing) `userInfo` is TikTok's answer for a handle that does not exist, not a
    ban; a banned account's page still names the account. A private profile's `videoCount` is 0 to a
    logged-out visitor whatever the real count, so that zero becomes `None` (unknown) and can never replace a
    known count.
    """
    if state == "banned" and not names_user:
        return PageResult("not_found", None, code, "statusCode 10221 with an empty userInfo: no such handle")
    if profile is not None and (state == "private" or profile.private) and profile.video_count == 0:
        profile.video_count = None
    return PageResult(state, profile, code, message)


def _video_result(item: object, state: PageState, code: int | None, message: str) -> PageResult[Video]:
    video = parse_item(item)
    if state == "ok":
        if isinstance(item, dict) and item.get("isContentClassified"):
            return PageResult("login_required", video, code, "age-gated post (isContentClassified)")
        if video is None:
            return PageResult("unknown", None, code, "video-detail has no readable itemStruct")
    return PageResult(state, video, code, message)
