"""`campaign_stats` on a large synthetic program vs ONE hand-written recursive-CTE query for the same totals.

The synthetic project (at --scale 1): 10,000 creators, 500,000 videos, one snapshot per video plus a second,
recent one for every video scraped in the last 30 days, and a campaign tree four levels deep: root -> 4
regions -> 4 sub-campaigns each -> 4 leaf campaigns each (64 leaves). Leaves hold creators (some creators in
two leaves) and direct video items (half of them videos their creators already bring in), four leaves also
hang under a second sub-campaign of another region, and the root holds a few videos directly, so many videos
are reachable along more than one path and must still count once.

The data is bulk-inserted with Core executemany into a database migrated by `trackagoat_mcp.db.migrate.upgrade`
and cached (SQLite: `bench/.data/*.db`; PostgreSQL: a database named after the parameters), so reruns skip the
build. The timed part: `campaign_stats(...)` for the root over the default range (the last 30 days) against
the hand-written query below, each the median of --runs runs after a warm-up, in alternation. The totals
must be equal or the script stops: lifetime, posted in range, views gained, videos without baseline.

    .venv/bin/python bench/campaign_stats.py                      # SQLite, full size (first run builds)
    .venv/bin/python bench/campaign_stats.py --scale 0.05         # a quick run
    .venv/bin/python bench/campaign_stats.py --backend postgres
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import Uuid, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from _common import DEFAULT_PG_SERVER
from _stores import cached_store
from trackagoat_mcp.db.models import (
    Campaign,
    CampaignItem,
    Creator,
    Organization,
    Project,
    Video,
    VideoSnapshot,
)
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.db.types import UTCDateTime
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.domain.stats import campaign_stats

DATA_VERSION = 1  # bump when the generator changes, so cached databases are rebuilt
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
RANGE_DAYS = 30
BATCH = 20_000
TARGET_RATIO = 1.5
TARGET_SECONDS = 1.0

# Lifetime totals, totals of videos posted in [start_at, end_at), views gained in that range and the videos
# whose gain lacks a baseline, for a campaign's whole tree, following the definitions in the docstring of
# trackagoat_mcp.domain.stats (for a range that reaches now, so the end value is the current counter).
HAND_WRITTEN_SQL = """
WITH RECURSIVE tree(campaign_id) AS (
    SELECT c.id FROM campaigns AS c WHERE c.id = :root_id
    UNION
    SELECT ci.item_id
    FROM campaign_items AS ci JOIN tree ON ci.campaign_id = tree.campaign_id
    WHERE ci.item_type = 'campaign'
),
members(video_id) AS (
    SELECT v.id
    FROM campaign_items AS ci
    JOIN tree ON ci.campaign_id = tree.campaign_id
    JOIN videos AS v ON v.creator_id = ci.item_id
    WHERE ci.item_type = 'creator'
    UNION
    SELECT ci.item_id
    FROM campaign_items AS ci JOIN tree ON ci.campaign_id = tree.campaign_id
    WHERE ci.item_type = 'video'
),
counted AS (
    SELECT
        v.view_count, v.like_count, v.comment_count, v.share_count, v.save_count,
        CASE WHEN v.posted_at >= :start_at AND v.posted_at < :end_at THEN 1 ELSE 0 END AS in_range,
        CASE
            WHEN v.posted_at >= :end_at THEN 0
            WHEN v.posted_at >= :start_at THEN v.view_count
            WHEN v.last_scraped_at IS NULL OR v.last_scraped_at < :start_at THEN 0
            ELSE v.view_count - COALESCE(
                (SELECT s.view_count FROM video_snapshots AS s
                 WHERE s.video_id = v.id AND s.captured_at < :start_at
                 ORDER BY s.captured_at DESC LIMIT 1),
                (SELECT s.view_count FROM video_snapshots AS s
                 WHERE s.video_id = v.id AND s.captured_at >= :start_at AND s.captured_at < :end_at
                 ORDER BY s.captured_at LIMIT 1),
                v.view_count)
        END AS gain,
        CASE
            WHEN v.posted_at < :start_at AND v.last_scraped_at >= :start_at AND NOT EXISTS (
                SELECT 1 FROM video_snapshots AS s WHERE s.video_id = v.id AND s.captured_at < :start_at
            ) THEN 1 ELSE 0
        END AS no_baseline
    FROM members JOIN videos AS v ON v.id = members.video_id
    WHERE v.project_id = :project_id
      AND v.tracking_status IN ('auto_tracked', 'included', 'direct_add')
      AND v.tracking_disabled_at IS NULL
)
SELECT
    COUNT(*), SUM(view_count), SUM(like_count), SUM(comment_count), SUM(share_count), SUM(save_count),
    SUM(in_range), SUM(in_range * view_count), SUM(in_range * like_count), SUM(in_range * comment_count),
    SUM(in_range * share_count), SUM(in_range * save_count),
    SUM(CASE WHEN gain > 0 THEN gain ELSE 0 END),
    SUM(no_baseline)
FROM counted
"""


@dataclass(frozen=True)
class Shape:
    """How big the synthetic program is."""

    creators: int
    videos: int
    seed: int

    @classmethod
    def at(cls, scale: float, seed: int) -> Shape:
        return cls(creators=max(64, round(10_000 * scale)), videos=max(640, round(500_000 * scale)), seed=seed)

    @property
    def key(self) -> str:
        return f"c{self.creators}_v{self.videos}_s{self.seed}_d{DATA_VERSION}"


# --- building the synthetic program --------------------------------------------------------------------------


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


class Builder:
    """Generates the rows (deterministically from the seed) and inserts them in batches with executemany."""

    def __init__(self, conn: AsyncConnection, shape: Shape) -> None:
        self.conn = conn
        self.shape = shape
        self.rng = random.Random(shape.seed)
        self.org_id = _uuid(self.rng)
        self.project_id = _uuid(self.rng)
        self.counts: dict[str, int] = {}

    async def insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), BATCH):
            await self.conn.execute(table.insert(), rows[start : start + BATCH])
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)

    async def build(self) -> None:
        rng, created = self.rng, NOW - timedelta(days=420)
        await self.insert(
            Organization.__table__,  # type: ignore[attr-defined]
            [{"id": self.org_id, "name": "Bench org", "timezone": "UTC", "created_at": created, "updated_at": created}],
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
        creator_ids = [_uuid(rng) for _ in range(self.shape.creators)]
        await self.insert(
            Creator.__table__,  # type: ignore[attr-defined]
            [
                {
                    "id": cid,
                    "org_id": self.org_id,
                    "project_id": self.project_id,
                    "tiktok_handle": f"creator{i:06d}",
                    "metadata": {},
                    "tracking_mode": "auto" if i % 5 else "selective",
                    "tracking_start_date": date(2025, 1, 1),
                    "scrape_state": "ok",
                    "is_active": True,
                    "created_at": created,
                    "updated_at": created,
                }
                for i, cid in enumerate(creator_ids)
            ],
        )
        video_ids, video_creator = await self._videos(creator_ids)
        await self._campaigns(creator_ids, video_ids, video_creator)

    async def _videos(self, creator_ids: list[uuid.UUID]) -> tuple[list[uuid.UUID], list[uuid.UUID | None]]:
        rng = self.rng
        video_ids: list[uuid.UUID] = []
        video_creator: list[uuid.UUID | None] = []
        videos: list[dict[str, Any]] = []
        snapshots: list[dict[str, Any]] = []
        video_table = Video.__table__  # type: ignore[attr-defined]
        snapshot_table = VideoSnapshot.__table__  # type: ignore[attr-defined]
        for i in range(self.shape.videos):
            vid = _uuid(rng)
            roll = rng.random()
            creator_id: uuid.UUID | None = rng.choice(creator_ids)
            disabled_at = None
            if roll < 0.85:
                status = "auto_tracked"
                if rng.random() < 0.02:
                    disabled_at = NOW - timedelta(days=rng.uniform(1, 60))
            elif roll < 0.89:
                status = "included"
            elif roll < 0.93:
                status = "pending_review"
            elif roll < 0.97:
                status = "excluded"
            else:
                status, creator_id = "direct_add", (None if rng.random() < 0.5 else creator_id)
            posted = NOW - timedelta(days=rng.uniform(0, 400))
            age = NOW - posted
            recent = age < timedelta(days=90) or rng.random() < 0.2
            if recent:  # scraped within the last two days (or since it was posted)
                scraped = NOW - min(age, timedelta(days=2)) * rng.random()
            else:  # last scraped long ago: more than 31 days before now
                scraped = posted + (age - timedelta(days=31)) * rng.uniform(0.05, 1.0)
            views = min(int(rng.paretovariate(1.1) * 800), 200_000_000)
            counters = {
                "view_count": views,
                "like_count": views * rng.randint(2, 12) // 100,
                "comment_count": views // rng.randint(150, 400),
                "share_count": views // rng.randint(200, 600),
                "save_count": views // rng.randint(150, 500),
            }
            videos.append(
                {
                    "id": vid,
                    "org_id": self.org_id,
                    "project_id": self.project_id,
                    "creator_id": creator_id,
                    "tiktok_video_id": str(7_300_000_000_000_000_000 + i),
                    "url": f"https://www.tiktok.com/@c/video/{7_300_000_000_000_000_000 + i}",
                    "metadata": {},
                    **counters,
                    "posted_at": posted,
                    "last_scraped_at": scraped,
                    "scrape_state": "ok",
                    "tracking_status": status,
                    "tracking_disabled_at": disabled_at,
                    "is_photo": False,
                    "created_at": posted,
                    "updated_at": scraped,
                }
            )
            if recent:  # an earlier snapshot with smaller counters, then the current one
                share = rng.uniform(0.3, 0.95)
                first = posted + (scraped - posted) * rng.uniform(0.02, 0.5)
                snapshots.append(
                    {"video_id": vid, "captured_at": first, **{k: int(v * share) for k, v in counters.items()}}
                )
            snapshots.append({"video_id": vid, "captured_at": scraped, **counters})
            video_ids.append(vid)
            video_creator.append(creator_id)
            if len(videos) >= BATCH:  # videos first: the snapshots refer to them
                await self.insert(video_table, videos)
                await self.insert(snapshot_table, snapshots)
                videos, snapshots = [], []
        await self.insert(video_table, videos)
        await self.insert(snapshot_table, snapshots)
        return video_ids, video_creator

    async def _campaigns(
        self, creator_ids: list[uuid.UUID], video_ids: list[uuid.UUID], video_creator: list[uuid.UUID | None]
    ) -> None:
        rng = self.rng
        campaigns: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []

        def campaign(name: str) -> uuid.UUID:
            cid = _uuid(rng)
            campaigns.append(
                {
                    "id": cid,
                    "org_id": self.org_id,
                    "project_id": self.project_id,
                    "name": name,
                    "metadata": {},
                    "target_views": 10**9 if name == "root" else None,
                    "created_at": NOW - timedelta(days=400),
                    "updated_at": NOW - timedelta(days=400),
                }
            )
            return cid

        def item(parent: uuid.UUID, item_type: str, item_id: uuid.UUID) -> None:
            items.append(
                {
                    "id": _uuid(rng),
                    "campaign_id": parent,
                    "item_type": item_type,
                    "item_id": item_id,
                    "created_at": NOW - timedelta(days=400),
                }
            )

        root = campaign("root")
        subs: list[uuid.UUID] = []
        leaves: list[uuid.UUID] = []
        for r in range(4):
            region = campaign(f"region {r}")
            item(root, "campaign", region)
            for s in range(4):
                sub = campaign(f"region {r} / sub {s}")
                item(region, "campaign", sub)
                subs.append(sub)
                for leaf_no in range(4):
                    leaf = campaign(f"region {r} / sub {s} / leaf {leaf_no}")
                    item(sub, "campaign", leaf)
                    leaves.append(leaf)
        # Four leaves also hang under a sub-campaign of another region: their videos are reachable twice.
        for n in range(4):
            item(subs[(n * 4 + 5) % 16], "campaign", leaves[n * 16])
        # 90% of the creators sit in one leaf each, 5% of those in a second leaf as well.
        in_tree = creator_ids[: int(len(creator_ids) * 0.9)]
        for cid in in_tree:
            first = rng.randrange(len(leaves))
            item(leaves[first], "creator", cid)
            if rng.random() < 0.05:
                item(leaves[(first + rng.randrange(1, len(leaves))) % len(leaves)], "creator", cid)
        # Direct video items: half from creators already in the tree (reachable twice), half from elsewhere.
        members = set(in_tree)
        known = [i for i, c in enumerate(video_creator) if c in members]
        others = [i for i, c in enumerate(video_creator) if c not in members]
        per_leaf = max(2, len(video_ids) // 16_000)
        for leaf in leaves:
            chosen = {video_ids[i] for i in rng.sample(known, per_leaf // 2) + rng.sample(others, per_leaf // 2)}
            for vid in chosen:
                item(leaf, "video", vid)
        for i in rng.sample(others, 10):
            item(root, "video", video_ids[i])
        await self.insert(Campaign.__table__, campaigns)  # type: ignore[attr-defined]
        await self.insert(CampaignItem.__table__, items)  # type: ignore[attr-defined]


async def prepare(args: argparse.Namespace, shape: Shape) -> str:
    """The URL of a database holding the synthetic program, building it unless a complete one is cached."""
    return await cached_store(
        "campaign_stats",
        shape.key,
        lambda conn: Builder(conn, shape),
        backend=args.backend,
        pg_server=args.pg_server,
        rebuild=args.rebuild,
    )


# --- timing ---------------------------------------------------------------------------------------------------


def _hand_written_query() -> Any:
    return text(HAND_WRITTEN_SQL).bindparams(
        bindparam("root_id", type_=Uuid),
        bindparam("project_id", type_=Uuid),
        bindparam("start_at", type_=UTCDateTime),
        bindparam("end_at", type_=UTCDateTime),
    )


async def run(args: argparse.Namespace) -> None:
    shape = Shape.at(args.scale, args.seed)
    url = await prepare(args, shape)
    db = Database.connect(url)
    try:
        async with db.read() as session:
            org_id = (await session.execute(select(Organization.id))).scalar_one()  # type: ignore[call-overload]
            root = (
                await session.execute(select(Campaign.id, Campaign.project_id).where(Campaign.name == "root"))  # type: ignore[call-overload]
            ).one()
            sizes = {
                table.__tablename__: (await session.execute(select(func.count()).select_from(table))).scalar_one()
                for table in (Creator, Video, VideoSnapshot, Campaign, CampaignItem)
            }
        caller = Caller(org_id=org_id, scopes=frozenset({"read"}))
        last = NOW.date()
        start_at = datetime.combine(last - timedelta(days=RANGE_DAYS - 1), datetime.min.time(), tzinfo=UTC)
        end_at = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        params = {"root_id": root.id, "project_id": root.project_id, "start_at": start_at, "end_at": end_at}
        query = _hand_written_query()

        async def ours() -> Any:
            async with db.read() as session:
                return await campaign_stats(session, caller, root.id, now=NOW)

        async def hand_written() -> Any:
            async with db.read() as session:
                return (await session.execute(query, params)).one()

        ours_times: list[float] = []
        hand_times: list[float] = []
        result = row = None
        for run_no in range(args.warmup + args.runs):
            for fn, times in ((ours, ours_times), (hand_written, hand_times)):
                started = time.perf_counter()
                value = await fn()
                elapsed = time.perf_counter() - started
                if run_no >= args.warmup:
                    times.append(elapsed)
                if fn is ours:
                    result = value
                else:
                    row = value
    finally:
        await db.dispose()

    assert result is not None and row is not None
    assert (result.range_from, result.range_to) == (start_at.date(), end_at.date() - timedelta(days=1)), result
    ours_totals = _ours_totals(result)
    hand_totals = [int(v or 0) for v in row]
    if ours_totals != hand_totals:
        raise SystemExit(f"MISMATCH: campaign_stats totals {ours_totals} != hand-written {hand_totals}")
    ours_s, hand_s = statistics.median(ours_times), statistics.median(hand_times)
    ratio = ours_s / hand_s
    print(f"campaign_stats vs hand-written SQL: backend={args.backend}, scale={args.scale}, {sizes}")
    print(
        f"tree: {result.campaigns_in_tree} campaigns, {result.creators_in_tree} creators, {result.lifetime.videos} "
        f"counted videos, {result.in_range.videos} posted in {result.range_from}..{result.range_to}, "
        f"{result.videos_without_baseline} without baseline"
    )
    print(f"totals equal: {hand_totals}")
    print(f"{'':<26} {'median s':>9} {'min s':>9} {'max s':>9}   ({args.runs} runs after {args.warmup} warm-up)")
    for label, times in (("hand-written SQL", hand_times), ("campaign_stats (ours)", ours_times)):
        print(f"{label:<26} {statistics.median(times):>9.3f} {min(times):>9.3f} {max(times):>9.3f}")
    ratio_ok = "OK" if ratio <= TARGET_RATIO else "MISSED"
    abs_ok = "OK" if ours_s < TARGET_SECONDS else "MISSED"
    print(f"ratio of medians (ours / hand-written): {ratio:.2f}x  (target <= {TARGET_RATIO}x: {ratio_ok})")
    print(f"absolute: {ours_s * 1000:.0f} ms  (target well under {TARGET_SECONDS:.0f} s: {abs_ok})")


def _ours_totals(result: Any) -> list[int]:
    def six(t: Any) -> list[int]:
        return [t.videos, t.views, t.likes, t.comments, t.shares, t.saves]

    return [*six(result.lifetime), *six(result.in_range), result.views_gained, result.videos_without_baseline]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 10,000 creators and 500,000 videos.")
    parser.add_argument("--runs", type=int, default=5, help="Timed runs of each (default 5); the median counts.")
    parser.add_argument("--warmup", type=int, default=1, help="Untimed runs of each first (default 1).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="Build the data again even if cached.")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="Any database URL on the PostgreSQL server.")
    args = parser.parse_args()
    anyio.run(run, args)


if __name__ == "__main__":
    main()
