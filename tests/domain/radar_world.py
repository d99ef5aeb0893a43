"""A seeded program for the Sentiment Radar tests, and an independent computation of what the radar must say.

The world (organization timezone America/New_York, so a comment at 03:00 UTC belongs to the previous local day):

* `alice` (in the campaign): `a_forty` 4 negative of 10 (40 %: the alert fires), `a_thirty_nine` 39 negative of
  100 (39 %: it does not).
* `bob`: `b_forty` 40 of 100 (fires), `b_nine` 9 of 9 (too few analyzed: does not). `b_nine` is also a video item
  of the campaign.
* `carol`: `c_nine_scored` 9 negative and one emoji-only comment (9 analyzed: does not fire), one deleted negative
  comment, and two comments 40 days old (outside the default range).
* An excluded video of carol's with 20 negative comments (never counted), and another organization's video.

`expected` recomputes the figures from the seeded rows in plain Python, with its own scoring (the AFINN
package's `score` over its `split`, written out here again), its own filtering and its own day arithmetic.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from afinn import Afinn

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Creator, VideoComment
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import campaigns
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.domain.sentiment import comparative_score

from ..conftest import make_org
from ._support import insert_video

TZ = "America/New_York"
BAD, GOOD, NEUTRAL, EMOJI = "this is bad", "good", "ok video", "🔥🔥"


@dataclass
class Seeded:
    caller: Caller
    project_id: uuid.UUID
    campaign_id: uuid.UUID
    creators: dict[str, uuid.UUID]
    videos: dict[str, uuid.UUID]
    rows: list[dict[str, Any]]
    """Every comment written: video, creator, text, posted_at, deleted, counted (video counts)."""


_SCORER: list[Afinn] = []


def _independent_score(text: str) -> float | None:
    if not _SCORER:
        _SCORER.append(Afinn())
    scorer = _SCORER[0]
    words = scorer.split(text)
    return scorer.score(text) / len(words) if words else None


async def seed(db: Database, clock: FrozenClock) -> Seeded:
    caller, project_id = await make_org(db, clock, "Radar Co", timezone=TZ)
    other, other_project = await make_org(db, clock, "Elsewhere")
    now = clock.now()
    rows: list[dict[str, Any]] = []
    plan = {
        "a_forty": ("alice", [BAD] * 4 + [GOOD] * 6),
        "a_thirty_nine": ("alice", [BAD] * 39 + [NEUTRAL] * 61),
        "b_forty": ("bob", [BAD] * 40 + [GOOD] * 60),
        "b_nine": ("bob", [BAD] * 9),
        "c_nine_scored": ("carol", [BAD] * 9 + [EMOJI]),
    }
    async with db.write() as session:
        creators: dict[str, uuid.UUID] = {}
        for handle in ("alice", "bob", "carol"):
            creator = Creator(
                org_id=caller.org_id, project_id=project_id, tiktok_handle=handle, tracking_start_date=now.date()
            )
            session.add(creator)
            await session.flush()
            creators[handle] = creator.id
        videos: dict[str, uuid.UUID] = {}
        for name, (handle, texts) in plan.items():
            video = await insert_video(
                session, caller, project_id, creator_id=creators[handle], posted_at=now - timedelta(days=20)
            )
            videos[name] = video.id
            for i, text in enumerate(texts):
                # Spread over 12 days, at 03:00 UTC every third one (the previous local day in New York).
                when = now - timedelta(days=i % 12, hours=9 if i % 3 == 0 else 0)
                rows.append(_add(session, caller, project_id, video.id, creators[handle], text, when, i))
        carol_video = videos["c_nine_scored"]
        rows.append(_add(session, caller, project_id, carol_video, creators["carol"], BAD, now, 900, deleted=now))
        for i in range(2):
            old = now - timedelta(days=40)
            rows.append(_add(session, caller, project_id, carol_video, creators["carol"], BAD, old, 910 + i))
        excluded = await insert_video(session, caller, project_id, creator_id=creators["carol"], status="excluded")
        videos["excluded"] = excluded.id
        for i in range(20):
            rows.append(
                _add(session, caller, project_id, excluded.id, creators["carol"], BAD, now, 950 + i, counted=False)
            )
        foreign = await insert_video(session, other, other_project, posted_at=now - timedelta(days=2))
        for i in range(20):
            _add(session, other, other_project, foreign.id, None, BAD, now, 980 + i)
        campaign = await campaigns.create_campaign(session, caller, project_id=project_id, name="Spring", now=now)
        await campaigns.set_campaign_items(
            session,
            caller,
            campaign.id,
            add=[("creator", creators["alice"]), ("video", videos["b_nine"])],
            now=now,
        )
    return Seeded(caller, project_id, campaign.id, creators, videos, rows)


def _add(
    session: Any,
    caller: Caller,
    project_id: uuid.UUID,
    video_id: uuid.UUID,
    creator_id: uuid.UUID | None,
    text: str,
    when: datetime,
    seq: int,
    *,
    deleted: datetime | None = None,
    counted: bool = True,
) -> dict[str, Any]:
    session.add(
        VideoComment(
            org_id=caller.org_id,
            project_id=project_id,
            video_id=video_id,
            cid=str(10_000 + seq),
            text=text,
            commenter=f"fan{seq}",
            posted_at=when,
            score=comparative_score(text),
            deleted_at=deleted,
            scraped_at=when,
        )
    )
    return {
        "video": video_id,
        "creator": creator_id,
        "text": text,
        "posted_at": when,
        "deleted": deleted is not None,
        "counted": counted,
    }


def expected(rows: list[dict[str, Any]], keep: Any, first: date, last: date) -> dict[str, Any]:
    """The radar's figures for the rows `keep(row)` accepts, computed independently."""
    zone = ZoneInfo(TZ)
    chosen = [
        {**row, "score": _independent_score(row["text"]), "day": row["posted_at"].astimezone(zone).date()}
        for row in rows
        if row["counted"] and not row["deleted"] and keep(row)
    ]
    chosen = [row for row in chosen if first <= row["day"] <= last]
    scored = [row for row in chosen if row["score"] is not None]
    per_video: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    for row in scored:
        per_video[row["video"]]["analyzed"] += 1
        per_video[row["video"]]["negative"] += row["score"] < 0
    alert = {
        video: round(counts["negative"] * 100 / counts["analyzed"], 1)
        for video, counts in per_video.items()
        if counts["analyzed"] >= 10 and counts["negative"] / counts["analyzed"] >= 0.40 - 1e-12
    }
    by_day: Counter[date] = Counter(row["day"] for row in chosen)
    return {
        "total": len(chosen),
        "analyzed": len(scored),
        "positive": sum(1 for row in scored if row["score"] > 0),
        "negative": sum(1 for row in scored if row["score"] < 0),
        "average": sum(row["score"] for row in scored) / len(scored) if scored else None,
        "alert": alert,
        "by_day": by_day,
    }
