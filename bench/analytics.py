"""`get_analytics` (weekly, new views) of a 500-creator campaign vs ONE hand-written SQL query of the same series.

The synthetic program (defaults): an organization in Europe/Berlin (so the year crosses two DST changes), one
project with 550 creators, each with 10 counted videos (8 auto_tracked, 1 included, 1 direct_add) plus one
excluded and one pending_review video. The campaign tree is a root with two child campaigns of 250 creators each
(25 creators sit in both) and 20 direct video items on the root (10 of creators already in the tree, 10 of the 50
creators outside it) plus 2 excluded ones, so the tree holds 500 creators and 5,010 counted videos, each reached
once however many paths lead to it. Videos are posted over the 400 days before "now" (2026-06-30 12:00 UTC)
and every one is snapshotted about daily from a few hours after posting until now, the heaviest history a year of
tracking can leave: about 4% of days missed plus multi-day outages, occasional view drops, and 2% of the counted
videos tracking-disabled midway (with a few snapshots after that moment, which must be ignored).

The data is bulk-inserted with Core executemany (batches of 20,000) into a database migrated by
`trackagoat_mcp.db.migrate.upgrade` and cached (SQLite: `bench/.data/analytics_*.db`; PostgreSQL: a database
`trackagoat_bench_analytics_*`), so reruns skip the build. Timed, in alternation after a warm-up, each in its
own read session: `get_analytics(entity_type="campaign", granularity="week", mode="new", metric="views")` over
the year 2025-07-01..2026-06-30 called directly; the hand-written query below; and the same series through
the `get_analytics` tool over a real in-memory `mcp.Client`. Before any timing the script stops with
MISMATCH unless all three series are equal bucket by bucket. It prints the medians and the ratios to the
hand-written query (target <= 2x) and the load average.

    .venv/bin/python bench/analytics.py                       # SQLite (the first run builds the data, ~1 min)
    .venv/bin/python bench/analytics.py --backend postgres
    .venv/bin/python bench/analytics.py --creators 50         # quick
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from mcp import Client
from sqlalchemy import Uuid, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from _common import DEFAULT_PG_SERVER
from _stores import cached_store
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import Settings
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
from trackagoat_mcp.domain.analytics import get_analytics
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.server.app import build_server

DATA_VERSION = 1  # bump when the generator changes, so cached databases are rebuilt
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
TIMEZONE = "Europe/Berlin"
RANGE_FROM, RANGE_TO = date(2025, 7, 1), date(2026, 6, 30)
HISTORY_DAYS = 400
BATCH = 20_000
TARGET_RATIO = 2.0
COUNTERS = ("view_count", "like_count", "comment_count", "share_count", "save_count")

# The weekly `new` views of a campaign's tree, written from the definition (see trackagoat_mcp.domain.analytics)
# without its machinery: the counted videos of the tree, each once; for every video and every week edge (a local
# Monday midnight, given as the `edges` rows) its views at the edge = the latest snapshot taken before the edge,
# or its first snapshot while it has none yet (a video's first snapshot is its baseline and adds nothing);
# snapshots from a video's `tracking_disabled_at` on are ignored. A week's value is the sum over the videos of
# (views at its end - views at its start), and NULL when no video had a snapshot before its end.
# MATERIALIZED (SQLite >= 3.35, PostgreSQL >= 12) computes each of those CTEs once: without it PostgreSQL inlines
# them and runs the snapshot look-ups up to three times per (video, edge), which made this baseline 3.7x slower.
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
counted(video_id, cutoff, first_at, first_views) AS MATERIALIZED (
    SELECT v.id, v.tracking_disabled_at,
        (SELECT s.captured_at FROM video_snapshots AS s
         WHERE s.video_id = v.id AND (v.tracking_disabled_at IS NULL OR s.captured_at < v.tracking_disabled_at)
         ORDER BY s.captured_at LIMIT 1),
        (SELECT s.view_count FROM video_snapshots AS s
         WHERE s.video_id = v.id AND (v.tracking_disabled_at IS NULL OR s.captured_at < v.tracking_disabled_at)
         ORDER BY s.captured_at LIMIT 1)
    FROM members JOIN videos AS v ON v.id = members.video_id
    WHERE v.project_id = :project_id AND v.tracking_status IN ('auto_tracked', 'included', 'direct_add')
),
edges(idx, at) AS (VALUES {edges}),
at_edge AS MATERIALIZED (
    SELECT e.idx, c.video_id,
        CASE WHEN c.first_at < e.at THEN 1 ELSE 0 END AS has_data,
        COALESCE(
            (SELECT s.view_count FROM video_snapshots AS s
             WHERE s.video_id = c.video_id AND s.captured_at < e.at
               AND (c.cutoff IS NULL OR s.captured_at < c.cutoff)
             ORDER BY s.captured_at DESC LIMIT 1),
            c.first_views) AS views
    FROM counted AS c CROSS JOIN edges AS e
),
steps AS (
    SELECT idx, has_data, views - LAG(views) OVER (PARTITION BY video_id ORDER BY idx) AS gained
    FROM at_edge
)
SELECT idx, SUM(has_data) AS with_data, SUM(gained) AS gained
FROM steps WHERE idx > 0
GROUP BY idx ORDER BY idx
"""


@dataclass(frozen=True)
class Shape:
    """How big the synthetic program is."""

    creators: int
    """Creators in the campaign tree; a tenth as many more sit outside it."""
    videos: int
    """Counted videos per creator (each creator also has one excluded and one pending_review video)."""
    seed: int

    @property
    def outside(self) -> int:
        return max(10, self.creators // 10)

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
        self._videos: list[dict[str, Any]] = []
        self._snapshots: list[dict[str, Any]] = []
        self._video_no = 0

    async def insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), BATCH):
            await self.conn.execute(table.insert(), rows[start : start + BATCH])
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)

    async def flush(self) -> None:
        """Insert the pending videos, then their snapshots (which refer to them)."""
        await self.insert(Video.__table__, self._videos)  # type: ignore[attr-defined]
        await self.insert(VideoSnapshot.__table__, self._snapshots)  # type: ignore[attr-defined]
        self._videos, self._snapshots = [], []

    async def build(self) -> None:
        created = NOW - timedelta(days=HISTORY_DAYS + 10)
        await self.insert(
            Organization.__table__,  # type: ignore[attr-defined]
            [
                {
                    "id": self.org_id,
                    "name": "Bench org",
                    "timezone": TIMEZONE,
                    "created_at": created,
                    "updated_at": created,
                }
            ],
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
        creator_ids = [_uuid(self.rng) for _ in range(self.shape.creators + self.shape.outside)]
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
                for i, cid in enumerate(creator_ids)
            ],
        )
        statuses = ["auto_tracked"] * (self.shape.videos - 2) + ["included", "direct_add"]
        counted: dict[uuid.UUID, list[uuid.UUID]] = {}
        excluded: dict[uuid.UUID, uuid.UUID] = {}
        for cid in creator_ids:
            counted[cid] = [await self._video(cid, status) for status in statuses]
            excluded[cid] = await self._video(cid, "excluded")
            await self._video(cid, "pending_review", posted_within=timedelta(days=30))
        await self.flush()
        await self._campaigns(creator_ids, counted, excluded)

    async def _video(self, creator_id: uuid.UUID, status: str, posted_within: timedelta | None = None) -> uuid.UUID:
        rng = self.rng
        vid = _uuid(rng)
        posted = NOW - (posted_within or timedelta(days=HISTORY_DAYS)) * rng.random()
        disabled_at = None
        if status not in ("excluded", "pending_review") and rng.random() < 0.02:
            disabled_at = posted + (NOW - posted) * rng.random()
        last = self._history(vid, posted, disabled_at)
        self._video_no += 1
        self._videos.append(
            {
                "id": vid,
                "org_id": self.org_id,
                "project_id": self.project_id,
                "creator_id": creator_id,
                "tiktok_video_id": str(7_300_000_000_000_000_000 + self._video_no),
                "url": f"https://www.tiktok.com/@c/video/{7_300_000_000_000_000_000 + self._video_no}",
                "metadata": {},
                **{name: last.get(name, 0) for name in COUNTERS},  # 0 until its first snapshot
                "posted_at": posted,
                "last_scraped_at": last.get("captured_at"),
                "scrape_state": "ok",
                "tracking_status": status,
                "tracking_disabled_at": disabled_at,
                "is_photo": False,
                "created_at": posted,
                "updated_at": last.get("captured_at", posted),
            }
        )
        if len(self._snapshots) >= BATCH:
            await self.flush()
        return vid

    def _history(self, vid: uuid.UUID, posted: datetime, disabled_at: datetime | None) -> dict[str, Any]:
        """Append the video's daily snapshots; returns the last one (empty if it has none)."""
        rng = self.rng
        final = min(rng.paretovariate(1.1) * 2_000, 50_000_000)
        tau = rng.uniform(2, 40)  # days until ~63% of the final views
        like, comment, share, save = rng.uniform(0.02, 0.12), rng.uniform(1 / 400, 1 / 150), 1 / 400, 1 / 300
        stop = NOW if disabled_at is None else min(NOW, disabled_at + timedelta(days=rng.uniform(0, 3)))
        at = posted + timedelta(hours=rng.uniform(1, 6))
        removed, outage, last = 0, 0, {}
        while at < stop:
            if outage:
                outage -= 1
            elif rng.random() < 0.01:  # the scraper could not reach it for a few days
                outage = rng.randint(2, 6)
            elif rng.random() >= 0.04:  # else: a missed day
                views = int(final * (1 - math.exp(-(at - posted).total_seconds() / 86_400 / tau)))
                if rng.random() < 0.003:  # TikTok removes some views for good
                    removed += views // 50
                views = max(0, views - removed)
                last = {
                    "video_id": vid,
                    "captured_at": at,
                    "view_count": views,
                    "like_count": int(views * like),
                    "comment_count": int(views * comment),
                    "share_count": int(views * share),
                    "save_count": int(views * save),
                }
                self._snapshots.append(last)
            at += timedelta(days=1, minutes=rng.uniform(-40, 40))
        return last

    async def _campaigns(
        self,
        creator_ids: list[uuid.UUID],
        counted: dict[uuid.UUID, list[uuid.UUID]],
        excluded: dict[uuid.UUID, uuid.UUID],
    ) -> None:
        rng, at = self.rng, NOW - timedelta(days=HISTORY_DAYS)
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
                    "created_at": at,
                    "updated_at": at,
                }
            )
            return cid

        def item(parent: uuid.UUID, item_type: str, item_id: uuid.UUID) -> None:
            items.append(
                {"id": _uuid(rng), "campaign_id": parent, "item_type": item_type, "item_id": item_id, "created_at": at}
            )

        root, north, south = campaign("root"), campaign("north"), campaign("south")
        item(root, "campaign", north)
        item(root, "campaign", south)
        members, outside = creator_ids[: self.shape.creators], creator_ids[self.shape.creators :]
        half = len(members) // 2
        for cid in members[:half]:
            item(north, "creator", cid)
        for cid in members[half:]:
            item(south, "creator", cid)
        for cid in members[: max(1, len(members) // 20)]:  # 5% of the creators are in both children
            item(south, "creator", cid)
        for cid in rng.sample(members, 10):  # videos the creator items already bring in
            item(root, "video", rng.choice(counted[cid]))
        for cid in rng.sample(outside, 10):  # videos of creators outside the tree
            item(root, "video", rng.choice(counted[cid]))
        for cid in rng.sample(outside, 2):  # not counted: they add nothing
            item(root, "video", excluded[cid])
        await self.insert(Campaign.__table__, campaigns)  # type: ignore[attr-defined]
        await self.insert(CampaignItem.__table__, items)  # type: ignore[attr-defined]


async def prepare(args: argparse.Namespace, shape: Shape) -> str:
    """The URL of a database holding the synthetic program, building it unless a complete one is cached."""
    return await cached_store(
        "analytics",
        shape.key,
        lambda conn: Builder(conn, shape),
        backend=args.backend,
        pg_server=args.pg_server,
        rebuild=args.rebuild,
    )


# --- the hand-written series ----------------------------------------------------------------------------------


def week_edges(first: date, last: date, tz: str) -> list[datetime]:
    """The local Monday midnights (as UTC instants) from the week holding `first` to the end of the one holding
    `last`: N + 1 edges for N weeks."""
    zone, day = ZoneInfo(tz), first - timedelta(days=first.weekday())
    edges = [datetime.combine(day, clock_time.min, tzinfo=zone).astimezone(UTC)]
    while day <= last:
        day += timedelta(days=7)
        edges.append(datetime.combine(day, clock_time.min, tzinfo=zone).astimezone(UTC))
    return edges


def hand_written_query(edges: list[datetime]) -> Any:
    """`HAND_WRITTEN_SQL` with the week edges bound as typed parameters (row `idx`, instant `at`)."""
    rows = ", ".join(f"({i}, :edge_{i})" for i in range(len(edges)))
    return text(HAND_WRITTEN_SQL.format(edges=rows)).bindparams(
        bindparam("root_id", type_=Uuid),
        bindparam("project_id", type_=Uuid),
        *(bindparam(f"edge_{i}", value=at, type_=UTCDateTime) for i, at in enumerate(edges)),
    )


def hand_written_series(rows: list[Any], weeks: int) -> list[int | None]:
    """One value per week (NULL where no video had a snapshot by the week's end) from the query's rows."""
    by_idx = {row.idx: row for row in rows}
    assert sorted(by_idx) == list(range(1, weeks + 1)), sorted(by_idx)
    return [int(by_idx[j].gained or 0) if by_idx[j].with_data else None for j in range(1, weeks + 1)]


# --- timing ---------------------------------------------------------------------------------------------------


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} CPUs)"


async def run(args: argparse.Namespace) -> None:
    shape = Shape(creators=args.creators, videos=args.videos, seed=args.seed)
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
                for table in (Creator, Video, VideoSnapshot, CampaignItem)
            }
        caller = Caller(org_id=org_id, scopes=frozenset({"read"}))
        edges = week_edges(RANGE_FROM, RANGE_TO, TIMEZONE)
        weeks = len(edges) - 1
        query = hand_written_query(edges)
        params = {"root_id": root.id, "project_id": root.project_id}
        arguments = {
            "entity_type": "campaign",
            "entity_id": str(root.id),
            "metric": "views",
            "granularity": "week",
            "mode": "new",
            "from": RANGE_FROM.isoformat(),
            "to": RANGE_TO.isoformat(),
        }
        server = build_server(Settings(database_url=url), db=db, clock=FrozenClock(NOW), caller=caller)

        async with Client(server) as client:

            async def ours() -> Any:
                async with db.read() as session:
                    return await get_analytics(
                        session,
                        caller,
                        entity_type="campaign",
                        entity_id=root.id,
                        metric="views",
                        granularity="week",
                        mode="new",
                        range_from=RANGE_FROM,
                        range_to=RANGE_TO,
                        now=NOW,
                    )

            async def hand_written() -> Any:
                async with db.read() as session:
                    return hand_written_series((await session.execute(query, params)).all(), weeks)

            async def through_mcp() -> Any:
                result = await client.call_tool("get_analytics", arguments)
                if result.is_error or result.structured_content is None:
                    raise SystemExit(f"get_analytics tool failed: {result.content}")
                return result.structured_content

            series = await ours()
            problem = mismatch(series, await hand_written(), await through_mcp(), edges)
            if problem is None:
                print(f"backend={args.backend}, {_sizes(sizes, series, shape)}")
                times = await _interleaved(
                    {
                        "hand-written SQL": hand_written,
                        "get_analytics (domain)": ours,
                        "get_analytics (MCP tool)": through_mcp,
                    },
                    args,
                )
    finally:
        await db.dispose()
    if problem is not None:
        raise SystemExit(f"MISMATCH: {problem}")
    report(times, args)


async def _interleaved(
    calls: dict[str, Callable[[], Awaitable[Any]]], args: argparse.Namespace
) -> dict[str, list[float]]:
    """Seconds per call of each, taking turns (so load on the machine hits every series alike)."""
    print(f"before timing: {_load()}")
    times: dict[str, list[float]] = {label: [] for label in calls}
    for run_no in range(args.warmup + args.runs):
        for label, fn in calls.items():
            started = time.perf_counter()
            await fn()
            if run_no >= args.warmup:
                times[label].append(time.perf_counter() - started)
    print(f"after timing:  {_load()}")
    return times


def mismatch(series: Any, hand: list[int | None], tool: dict[str, Any], edges: list[datetime]) -> str | None:
    """What differs between the domain's series, the hand-written one and the tool's answer (None: all equal)."""
    zone = ZoneInfo(TIMEZONE)
    starts = [at.astimezone(zone).date() for at in edges[:-1]]
    ours = list(series.buckets.value)
    if list(series.buckets.start) != starts or ours != hand:
        for j, (start, mine, theirs) in enumerate(zip(starts, ours, hand, strict=False)):
            if mine != theirs:
                print(f"  week {j} ({start}): get_analytics {mine} != hand-written {theirs}")
        return (
            f"get_analytics has {len(ours)} weeks from {series.buckets.start[0]}, the hand-written query {len(hand)} "
            f"from {starts[0]}, and their values differ as listed"
        )
    if (tool["buckets"]["start"], tool["buckets"]["value"]) != ([s.isoformat() for s in starts], ours):
        return "the get_analytics tool's buckets differ from the domain function's"
    partial = sum(series.buckets.partial)
    print(
        f"series equal: {len(ours)} weeks {starts[0]}..{series.range_to}, {partial} partial, "
        f"{sum(v for v in ours if v is not None):,} views gained (total {series.total:,})"
    )
    return None


def _sizes(sizes: dict[str, int], series: Any, shape: Shape) -> str:
    return (
        f"campaign of {shape.creators} creators x {shape.videos} counted videos; {series.videos:,} counted videos in "
        f"the tree; store: {sizes['creators']:,} creators, {sizes['videos']:,} videos, "
        f"{sizes['video_snapshots']:,} video snapshots, {sizes['campaign_items']:,} campaign items"
    )


def report(times: dict[str, list[float]], args: argparse.Namespace) -> None:
    """Medians, ratios to the hand-written query, and what the MCP layer adds to a call."""
    hand_s = statistics.median(times["hand-written SQL"])
    print(f"{'':<26} {'median ms':>10} {'min ms':>9} {'max ms':>9} {'ratio':>7}   ({args.runs} runs, interleaved)")
    for label, samples in times.items():
        median = statistics.median(samples)
        print(
            f"{label:<26} {median * 1000:>10.1f} {min(samples) * 1000:>9.1f} {max(samples) * 1000:>9.1f} "
            f"{median / hand_s:>6.2f}x"
        )
    ratio = statistics.median(times["get_analytics (domain)"]) / hand_s
    verdict = "OK" if ratio <= TARGET_RATIO else "MISSED"
    print(f"ratio of medians, get_analytics / hand-written: {ratio:.2f}x  (target <= {TARGET_RATIO:.0f}x: {verdict})")
    domain, tool = times["get_analytics (domain)"], times["get_analytics (MCP tool)"]
    overhead = statistics.median(t - d for t, d in zip(tool, domain, strict=True))
    print(f"MCP tool call - domain call, median of the per-round differences: {overhead * 1000:+.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--creators", type=int, default=500, help="Creators in the campaign (default 500).")
    parser.add_argument("--videos", type=int, default=10, help="Counted videos per creator (default 10).")
    parser.add_argument("--runs", type=int, default=7, help="Timed runs of each (default 7); the median counts.")
    parser.add_argument("--warmup", type=int, default=1, help="Untimed runs of each first (default 1).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="Build the data again even if cached.")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="Any database URL on the PostgreSQL server.")
    args = parser.parse_args()
    if args.videos < 3 or args.creators < 20:
        parser.error("--videos must be at least 3 and --creators at least 20")
    anyio.run(run, args)


if __name__ == "__main__":
    main()
