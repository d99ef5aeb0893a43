"""`get_sentiment_radar` of a 500-creator campaign with 1 M comments vs a hand-written SQL query of the same figures.

The synthetic program (defaults): an organization in Europe/Berlin, one project with 550 creators of 4 counted
videos each (plus one excluded video each, whose comments must not count); a root campaign holding 500 of the
creators. Campaign videos carry 500 comments each (1,000,000), the 50 outside creators' videos 100 each, and
every excluded video 50. Comments are posted over the 45 days before "now" (2026-06-30 12:00 UTC), about 2 % of
them deleted, their texts drawn from a small pool whose AFINN comparative scores are computed once, with a
negative share per video between 10 % and 50 % (so some videos raise the negative-vibes alert). The range is the
radar's default, the last 30 local days (June 2026, inside summer time, so a fixed +2 h gives the local day in the
SQLite form of the hand-written query; PostgreSQL uses `AT TIME ZONE`).

The store is built once with Core executemany and cached (`bench/_stores.py`). Timed in alternation after a
warm-up, each in its own read session: `domain.radar.get_sentiment_radar(campaign_id=root)` (day buckets) and the
hand-written query below plus the Python that turns its rows into the same totals, days and alert. Before timing,
the script stops with MISMATCH unless both give the same totals, analyzed, positive and negative counts, day
buckets and alert videos. It prints medians, the ratio (target <= 1.5x) and the load average.

    .venv/bin/python bench/radar.py                      # SQLite (the first run builds the data, ~2 min)
    .venv/bin/python bench/radar.py --backend postgres
    .venv/bin/python bench/radar.py --creators 50         # quick: 100,000 comments
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import Uuid, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from _common import DEFAULT_PG_SERVER
from _stores import cached_store
from trackagoat_mcp.clock import day_range_utc, local_today
from trackagoat_mcp.db.models import Campaign, CampaignItem, Creator, Organization, Project, Video, VideoComment
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.db.types import UTCDateTime
from trackagoat_mcp.domain.radar import MIN_ANALYZED, NEGATIVE_SHARE, get_sentiment_radar
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.domain.sentiment import comparative_score

DATA_VERSION = 1
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
TIMEZONE = "Europe/Berlin"
BATCH = 20_000
TARGET_RATIO = 1.5
POSITIVE = ["love this so much", "great video", "so good, amazing", "best one yet", "haha this is fun"]
NEGATIVE = ["this is bad", "hate it", "awful and boring", "worst ad ever", "so annoying"]
NEUTRAL = ["ok video", "the end", "first", "🔥🔥", "what song is this"]
SCORES = {t: comparative_score(t) for t in POSITIVE + NEGATIVE + NEUTRAL}

# The radar's figures from their definitions, without its machinery: the counted videos of the campaign tree
# (creator items and video items, each once), their comments posted in the range and not deleted; sums per video
# and sums per local day in one statement.
HAND_WRITTEN_SQL = """
WITH RECURSIVE tree(campaign_id) AS (
    SELECT :root_id
    UNION
    SELECT ci.item_id FROM campaign_items AS ci JOIN tree ON ci.campaign_id = tree.campaign_id
    WHERE ci.item_type = 'campaign'
),
members(video_id) AS (
    SELECT v.id FROM campaign_items AS ci JOIN tree ON ci.campaign_id = tree.campaign_id
    JOIN videos AS v ON v.creator_id = ci.item_id WHERE ci.item_type = 'creator'
    UNION
    SELECT ci.item_id FROM campaign_items AS ci JOIN tree ON ci.campaign_id = tree.campaign_id
    WHERE ci.item_type = 'video'
),
scoped(id) AS (
    SELECT v.id FROM members JOIN videos AS v ON v.id = members.video_id
    WHERE v.org_id = :org_id AND v.tracking_status IN ('auto_tracked', 'included', 'direct_add')
      AND v.tracking_disabled_at IS NULL
),
c AS (
    SELECT cm.video_id, cm.posted_at, cm.score FROM video_comments AS cm JOIN scoped ON scoped.id = cm.video_id
    WHERE cm.posted_at >= :start AND cm.posted_at < :end AND cm.deleted_at IS NULL
)
SELECT 'video' AS kind, CAST(video_id AS TEXT) AS k, count(*) AS total, count(score) AS analyzed,
       sum(CASE WHEN score > 0 THEN 1 ELSE 0 END) AS positive, sum(CASE WHEN score < 0 THEN 1 ELSE 0 END) AS negative
FROM c GROUP BY video_id
UNION ALL
SELECT 'day', {day}, count(*), count(score),
       sum(CASE WHEN score > 0 THEN 1 ELSE 0 END), sum(CASE WHEN score < 0 THEN 1 ELSE 0 END)
FROM c GROUP BY {day}
"""
DAY = {
    "sqlite": "date(posted_at, '+2 hours')",
    "postgresql": "CAST(CAST((posted_at AT TIME ZONE 'Europe/Berlin') AS DATE) AS TEXT)",
}


@dataclass(frozen=True)
class Shape:
    creators: int
    outside: int
    videos: int
    comments: int
    seed: int

    @property
    def key(self) -> str:
        return f"v{DATA_VERSION}_c{self.creators}_o{self.outside}_v{self.videos}_m{self.comments}_s{self.seed}"


class Builder:
    """Generates the rows (deterministically from the seed) and inserts them in batches with executemany."""

    def __init__(self, conn: AsyncConnection, shape: Shape) -> None:
        self.conn = conn
        self.shape = shape
        self.rng = random.Random(shape.seed)
        self.org_id = uuid.UUID(int=self.rng.getrandbits(128))
        self.project_id = uuid.UUID(int=self.rng.getrandbits(128))
        self.counts: dict[str, int] = {}
        self._comments: list[dict[str, Any]] = []
        self._serial = 0

    async def insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), BATCH):
            await self.conn.execute(table.insert(), rows[start : start + BATCH])
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)

    async def build(self) -> None:
        created = NOW - timedelta(days=120)
        await self.insert(
            Organization.__table__,  # type: ignore[attr-defined]
            [{"id": self.org_id, "name": "Bench org", "timezone": TIMEZONE, "created_at": created}],
        )
        await self.insert(
            Project.__table__,  # type: ignore[attr-defined]
            [
                {
                    "id": self.project_id,
                    "org_id": self.org_id,
                    "name": "Bench program",
                    "metadata": {"bench": self.shape.key, "complete": False},
                    "created_at": created,
                    "updated_at": created,
                }
            ],
        )
        total = self.shape.creators + self.shape.outside
        creators = [uuid.UUID(int=self.rng.getrandbits(128)) for _ in range(total)]
        await self.insert(
            Creator.__table__,  # type: ignore[attr-defined]
            [
                {
                    "id": cid,
                    "org_id": self.org_id,
                    "project_id": self.project_id,
                    "tiktok_handle": f"creator{i:06d}",
                    "metadata": {},
                    "tracking_mode": "auto",
                    "tracking_start_date": created.date(),
                    "scrape_state": "ok",
                    "is_active": True,
                    "created_at": created,
                    "updated_at": created,
                }
                for i, cid in enumerate(creators)
            ],
        )
        root = uuid.UUID(int=self.rng.getrandbits(128))
        await self.insert(
            Campaign.__table__,  # type: ignore[attr-defined]
            [
                {
                    "id": root,
                    "org_id": self.org_id,
                    "project_id": self.project_id,
                    "name": "root",
                    "metadata": {},
                    "created_at": created,
                }
            ],
        )
        await self.insert(
            CampaignItem.__table__,  # type: ignore[attr-defined]
            [
                {
                    "id": uuid.UUID(int=self.rng.getrandbits(128)),
                    "campaign_id": root,
                    "item_type": "creator",
                    "item_id": cid,
                    "added_at": created,
                }
                for cid in creators[: self.shape.creators]
            ],
        )
        for i, cid in enumerate(creators):
            per_video = self.shape.comments if i < self.shape.creators else self.shape.comments // 5
            videos = [(await self._video(cid, "auto_tracked"), per_video) for _ in range(self.shape.videos)]
            videos.append((await self._video(cid, "excluded"), self.shape.comments // 10))
            for video_id, count in videos:
                self._add_comments(video_id, count)
            if len(self._comments) >= BATCH * 5:
                await self.insert(VideoComment.__table__, self._comments)  # type: ignore[attr-defined]
                self._comments = []
        await self.insert(VideoComment.__table__, self._comments)  # type: ignore[attr-defined]

    async def _video(self, creator_id: uuid.UUID, status: str) -> uuid.UUID:
        self._serial += 1
        video_id = uuid.UUID(int=self.rng.getrandbits(128))
        posted = NOW - timedelta(days=50)
        row = {
            "id": video_id,
            "org_id": self.org_id,
            "project_id": self.project_id,
            "creator_id": creator_id,
            "tiktok_video_id": str((int(posted.timestamp()) << 32) | self._serial),
            "url": f"https://www.tiktok.com/@x/video/{self._serial}",
            "metadata": {},
            "view_count": 1000,
            "like_count": 0,
            "comment_count": 0,
            "share_count": 0,
            "save_count": 0,
            "posted_at": posted,
            "scrape_state": "ok",
            "tracking_status": status,
            "is_photo": False,
            "created_at": posted,
            "updated_at": posted,
        }
        await self.insert(Video.__table__, [row])  # type: ignore[attr-defined]
        return video_id

    def _add_comments(self, video_id: uuid.UUID, count: int) -> None:
        rng = self.rng
        negative_share = rng.uniform(0.10, 0.50)
        for n in range(count):
            roll = rng.random()
            pool = NEGATIVE if roll < negative_share else POSITIVE if roll < negative_share + 0.35 else NEUTRAL
            words = pool[rng.randrange(len(pool))]
            posted = NOW - timedelta(seconds=rng.randrange(45 * 86_400))
            self._comments.append(
                {
                    "org_id": self.org_id,
                    "project_id": self.project_id,
                    "video_id": video_id,
                    "cid": str(7_000_000_000 + n),
                    "parent_cid": None,
                    "text": words,
                    "commenter": f"fan{n % 997}",
                    "posted_at": posted,
                    "like_count": n % 13,
                    "reply_count": 0,
                    "is_pinned": False,
                    "liked_by_author": False,
                    "score": SCORES[words],
                    "deleted_at": NOW if rng.random() < 0.02 else None,
                    "scraped_at": NOW,
                }
            )


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} CPUs)"


def from_hand_written(rows: list[Any]) -> dict[str, Any]:
    """Totals, days and alert videos from the hand-written query's rows."""
    videos = [row for row in rows if row.kind == "video"]
    days = {str(row.k): int(row.total) for row in rows if row.kind == "day"}
    alert = {
        str(row.k)
        for row in videos
        if int(row.analyzed) >= MIN_ANALYZED and 100 * int(row.negative) >= NEGATIVE_SHARE * int(row.analyzed)
    }
    sums: Counter[str] = Counter()
    for row in videos:
        for name in ("total", "analyzed", "positive", "negative"):
            sums[name] += int(getattr(row, name))
    return {**sums, "days": days, "alert_total": len(alert)}


async def run(args: argparse.Namespace) -> None:
    shape = Shape(args.creators, args.creators // 10, args.videos, args.comments, args.seed)
    url = await cached_store(
        "radar",
        shape.key,
        lambda conn: Builder(conn, shape),
        backend=args.backend,
        pg_server=args.pg_server,
        rebuild=args.rebuild,
    )
    db = Database.connect(url)
    try:
        async with db.read() as session:
            org_id = (await session.execute(select(Organization.id))).scalar_one()  # type: ignore[call-overload]
            root = (await session.execute(select(Campaign.id).where(Campaign.name == "root"))).scalar_one()  # type: ignore[call-overload]
            dialect = session.get_bind().dialect.name
        caller = Caller(org_id=org_id, scopes=frozenset({"read"}))
        last = local_today(NOW, TIMEZONE)
        first = last - timedelta(days=29)
        start, end = day_range_utc(first, last, TIMEZONE)
        query = text(HAND_WRITTEN_SQL.format(day=DAY[dialect])).bindparams(
            bindparam("root_id", type_=Uuid),
            bindparam("org_id", type_=Uuid),
            bindparam("start", type_=UTCDateTime),
            bindparam("end", type_=UTCDateTime),
        )
        params = {"root_id": root, "org_id": org_id, "start": start, "end": end}

        async def ours() -> Any:
            async with db.read() as session:
                return await get_sentiment_radar(session, caller, campaign_id=root, now=NOW)

        async def hand_written() -> Any:
            async with db.read() as session:
                return from_hand_written(list((await session.execute(query, params)).all()))

        radar, hand = await ours(), await hand_written()
        mine = {
            "total": radar.total,
            "analyzed": radar.analyzed,
            "positive": radar.positive,
            "negative": radar.negative,
            "days": {d.isoformat(): n for d, n in zip(radar.over_time.start, radar.over_time.total, strict=True) if n},
            "alert_total": radar.negative_vibes_total,
        }
        if mine != hand:
            diff = {k: (mine[k], hand[k]) for k in mine if mine[k] != hand[k]}
            raise SystemExit(f"MISMATCH between the radar and the hand-written query: {diff}")
        print(
            f"backend={args.backend}: {radar.total:,} comments in range ({radar.analyzed:,} analyzed) of a "
            f"{shape.creators}-creator campaign, {radar.negative_vibes_total} videos with negative vibes; "
            f"figures equal {first}..{last}"
        )
        print(f"before timing: {_load()}")
        times: dict[str, list[float]] = {"hand-written SQL": [], "get_sentiment_radar": []}
        calls: dict[str, Callable[[], Awaitable[Any]]] = {"hand-written SQL": hand_written, "get_sentiment_radar": ours}
        for run_no in range(args.warmup + args.runs):
            for label, fn in calls.items() if run_no % 2 == 0 else reversed(calls.items()):
                started = time.perf_counter()
                await fn()
                if run_no >= args.warmup:
                    times[label].append(time.perf_counter() - started)
        print(f"after timing:  {_load()}")
    finally:
        await db.dispose()
    hand_s, ours_s = statistics.median(times["hand-written SQL"]), statistics.median(times["get_sentiment_radar"])
    ratio = ours_s / hand_s
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    for label, median in (("hand-written SQL", hand_s), ("get_sentiment_radar", ours_s)):
        runs = ", ".join(f"{t * 1000:.0f}" for t in times[label])
        print(f"{label:<20} median {median * 1000:8.1f} ms  ({runs})")
    print(f"ratio {ratio:.2f}x (target <= {TARGET_RATIO}x: {verdict}); the machine is shared, see the load average")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--creators", type=int, default=500, help="Creators in the campaign (default 500).")
    parser.add_argument("--videos", type=int, default=4, help="Counted videos per creator (default 4).")
    parser.add_argument("--comments", type=int, default=500, help="Comments per campaign video (default 500).")
    parser.add_argument("--runs", type=int, default=7, help="Timed runs of each (default 7); the median counts.")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="Build the data again even if cached.")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="Any database URL on the PostgreSQL server.")
    anyio.run(run, parser.parse_args())


if __name__ == "__main__":
    main()
