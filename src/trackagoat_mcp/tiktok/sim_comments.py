"""The simulated site's comments: who wrote what under which post, and the comment list JSON it serves.

Pure and synchronous like `sim_pages`: a `SimComment` appears once the clock passes its `created_at`, and
`render_comment_list` renders one page of a post's comments in the shape `tiktok.comments` documents (newest
first, the pinned one on top of the first page, inline replies, deleted ones with `status` 7 and no text,
`cursor` an offset, `has_more`, `total`).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = ["SimComment", "comment_id_for", "make_comments", "render_comment_list", "render_comment_status"]

_NEWEST = operator.attrgetter("created_at", "cid")
DELETED_STATUS = 7
"""The `status` the simulated site gives a deleted comment (anything but 1 means "not shown")."""


def comment_id_for(created_at: datetime, seq: int) -> str:
    """A TikTok-style comment id: creation Unix seconds in the upper 32 bits, `seq` in the lower."""
    return str((int(created_at.timestamp()) << 32) | (seq & 0xFFFFFFFF))


@dataclass
class SimComment:
    """A comment under a simulated post; invisible before `created_at`."""

    cid: str
    text: str
    created_at: datetime
    commenter: str = "fan"
    likes: int = 0
    pinned: bool = False
    deleted: bool = False
    liked_by_author: bool = False
    replies: list[SimComment] = field(default_factory=list)

    def as_json(self, now: datetime, parent: str | None = None) -> dict[str, Any]:
        """The comment object under TikTok's names (its replies visible at `now` inline)."""
        visible_replies = [reply for reply in self.replies if reply.created_at <= now]
        data: dict[str, Any] = {
            "cid": self.cid,
            "text": "" if self.deleted else self.text,
            "create_time": int(self.created_at.timestamp()),
            "digg_count": self.likes,
            "reply_comment_total": len(visible_replies),
            "is_author_digged": self.liked_by_author,
            "stick_position": 1 if self.pinned else 0,
            "status": DELETED_STATUS if self.deleted else 1,
            "reply_id": parent or "0",
            "aweme_id": "",
            "user": {"unique_id": self.commenter, "nickname": self.commenter.title()},
        }
        if visible_replies and parent is None:
            data["reply_comment"] = [reply.as_json(now, self.cid) for reply in visible_replies[:3]]
        return data


def make_comments(
    texts: Sequence[str], *, start: datetime, step: timedelta = timedelta(minutes=1), seq: int = 0
) -> list[SimComment]:
    """Comments with the given texts, the first at `start` and each next one `step` later (in whole seconds, as
    TikTok's times are), written by `fan_<i>`."""
    times = [(start + step * i).replace(microsecond=0) for i in range(len(texts))]
    return [
        SimComment(comment_id_for(when, seq + i), text, when, commenter=f"fan_{(seq + i) % 1000}")
        for i, (when, text) in enumerate(zip(times, texts, strict=True))
    ]


def render_comment_list(comments: Sequence[SimComment], now: datetime, *, cursor: int, count: int) -> str:
    """One page of a post's comments at `now`: the pinned one first on the first page, then newest first."""
    visible = [c for c in comments if c.created_at <= now]
    pinned = [c for c in visible if c.pinned]
    ordered = pinned + sorted((c for c in visible if not c.pinned), key=_NEWEST, reverse=True)
    page = ordered[cursor : cursor + count]
    end = cursor + len(page)
    return json.dumps(
        {
            "status_code": 0,
            "status_msg": "",
            "comments": [comment.as_json(now) for comment in page],
            "cursor": end,
            "has_more": 1 if end < len(ordered) else 0,
            "total": sum(1 for c in ordered if not c.deleted),
            "extra": {"now": int(now.timestamp() * 1000)},
        }
    )


def render_comment_status(status_code: int, message: str) -> str:
    """The comment list's answer for a post it cannot show (gone, private, region-locked)."""
    return json.dumps({"status_code": status_code, "status_msg": message, "comments": None, "has_more": 0})
