"""Parse TikTok's comment list JSON (`/api/comment/list/`) into `Comment`s. Pure: no I/O.

The shape read (the web app's unsigned comment endpoint, snake_case like the app API):

    GET /api/comment/list/?aid=1988&aweme_id=<video id>&cursor=<offset>&count=<n>
    {"status_code": 0, "status_msg": "",
     "comments": [{"cid": "7301…", "text": "so good", "create_time": 1767000000, "digg_count": 12,
                   "reply_comment_total": 3, "is_author_digged": false, "stick_position": 0, "status": 1,
                   "reply_id": "0", "user": {"unique_id": "fan_1", "nickname": "…"},
                   "reply_comment": [ …up to a few replies, same shape, reply_id = parent cid… ]}],
     "cursor": 20, "has_more": 1, "total": 1234}

* Order: newest first, except a pinned comment (`stick_position` > 0), which TikTok puts on top of the first page.
* `cursor` is an offset into that list: pass the answer's `cursor` to read the next page. New comments push older
  ones to higher offsets, so resuming at a stored offset re-reads a few, never skips one.
* `status` other than 1 marks a comment TikTok no longer shows (deleted by its writer or hidden); its text is empty
  and it is returned with `deleted=True` so a stored copy can be marked.
* Replies come inline (`reply_comment`, TikTok previews a few per comment), each with its parent's cid.
* Blocks look like the other JSON endpoints': an empty body, HTML or the slider-captcha JSON is `blocked`; a
  non-zero `status_code` maps like the pages' `statusCode` (10204: the video is gone, 10216: private, …).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trackagoat_mcp.tiktok.parsing import PageResult, classify_status, parse_count

__all__ = ["COMMENT_LIST_PATH", "Comment", "CommentPage", "parse_comment", "parse_comment_list"]

COMMENT_LIST_PATH = "/api/comment/list/"
_CID_RE = re.compile(r"^[0-9]{1,30}$")
_HANDLE_RE = re.compile(r"^[a-z0-9_.]{1,30}$")
MAX_TEXT = 4000
"""Characters of a comment's text kept (TikTok allows 150; anything far longer is not a real comment)."""


@dataclass(frozen=True)
class Comment:
    """One comment as TikTok showed it.

    Attributes:
        cid: TikTok's comment id (digits).
        text: the comment's text (untrusted), empty when `deleted`.
        create_time: when it was written (aware UTC).
        like_count: its likes (`digg_count`).
        reply_count: replies TikTok says it has (`reply_comment_total`).
        commenter: the writer's handle when it is a valid handle, else `None`.
        pinned: pinned by the video's author (`stick_position` > 0).
        liked_by_author: the video's author liked it (`is_author_digged`).
        parent_cid: the comment it answers, for a reply.
        deleted: TikTok marks it as no longer shown (`status` other than 1).
    """

    cid: str
    text: str
    create_time: datetime
    like_count: int = 0
    reply_count: int = 0
    commenter: str | None = None
    pinned: bool = False
    liked_by_author: bool = False
    parent_cid: str | None = None
    deleted: bool = False


@dataclass(frozen=True)
class CommentPage:
    """One page of a video's comments: top-level comments in TikTok's order, their inline replies after them."""

    comments: tuple[Comment, ...]
    cursor: int | None
    has_more: bool
    total: int | None
    top_level: int
    """How many of `comments` were top-level entries of the list (the rest are inline replies)."""


def parse_comment(raw: object, parent_cid: str | None = None) -> Comment | None:
    """One comment object, or `None` when it lacks a readable id or time."""
    if not isinstance(raw, dict):
        return None
    cid = str(raw.get("cid") or "").strip()
    created = parse_count(raw.get("create_time"))
    if not _CID_RE.match(cid) or created is None or created > 4_102_444_800:  # beyond 2100: not a real time
        return None
    user = raw.get("user")
    handle = str(user.get("unique_id") or "").strip().lower() if isinstance(user, dict) else ""
    status = parse_count(raw.get("status"))
    deleted = status is not None and status != 1
    text = raw.get("text")
    reply_to = str(raw.get("reply_id") or "").strip()
    parent = parent_cid or (reply_to if _CID_RE.match(reply_to) and reply_to != "0" else None)
    return Comment(
        cid=cid,
        text="" if deleted or not isinstance(text, str) else _storable(text[:MAX_TEXT]),
        create_time=datetime.fromtimestamp(created, UTC),
        like_count=parse_count(raw.get("digg_count")) or 0,
        reply_count=parse_count(raw.get("reply_comment_total")) or 0,
        commenter=handle if _HANDLE_RE.match(handle) else None,
        pinned=(parse_count(raw.get("stick_position")) or 0) > 0,
        liked_by_author=bool(raw.get("is_author_digged")),
        parent_cid=parent,
        deleted=deleted,
    )


def _storable(text: str) -> str:
    """`text` without what neither store can hold: NUL characters and lone surrogates (replaced by `?`)."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def parse_comment_list(body: str | bytes) -> PageResult[CommentPage]:
    """Parse a `/api/comment/list/` answer (see the module docstring for the shape and the states).

    Args:
        body: the response body.

    Returns:
        The state and, when `ok`, the page: comments (replies after the top-level ones), next cursor, whether
        more exist and TikTok's total. Unreadable entries are skipped and counted in `detail`.
    """
    if not body.strip():
        return PageResult("blocked", None, None, "empty body")
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return PageResult("blocked", None, None, "comment list is not JSON (an HTML page or garbage instead)")
    if not isinstance(payload, dict):
        return PageResult("blocked", None, None, "comment list JSON is not an object")
    if payload.get("type") == "verify":
        return PageResult("blocked", None, None, "captcha (verify) instead of the comment list")
    if "status_code" not in payload and "comments" not in payload:
        return PageResult("blocked", None, None, "JSON without status_code or comments")
    code = parse_count(payload.get("status_code")) or 0
    message = str(payload.get("status_msg") or "")
    state = classify_status(code, message)
    if state != "ok":
        return PageResult(state, None, code, message)
    raw_items = payload.get("comments") or []
    if not isinstance(raw_items, list):
        return PageResult("unknown", None, code, "comments is not a list")
    top: list[Comment] = []
    replies: list[Comment] = []
    skipped = 0
    for raw in raw_items:
        comment = parse_comment(raw)
        if comment is None:
            skipped += 1
            continue
        top.append(comment)
        inline = raw.get("reply_comment") if isinstance(raw, dict) else None
        for raw_reply in inline if isinstance(inline, list) else []:
            reply = parse_comment(raw_reply, comment.cid)
            if reply is None:
                skipped += 1
            else:
                replies.append(reply)
    cursor = parse_count(payload.get("cursor"))
    page = CommentPage(
        comments=(*top, *replies),
        cursor=cursor,
        has_more=bool(parse_count(payload.get("has_more")) or payload.get("has_more") is True),
        total=parse_count(payload.get("total")),
        top_level=len(top),
    )
    return PageResult("ok", page, code, f"{skipped} unreadable comment(s) skipped" if skipped else message)
