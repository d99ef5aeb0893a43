"""Two organizations with one of everything, written straight into the store, for the reliability suites.

`seed_program(db, clock, org, prefix, ...)` writes, for one organization: a project, an auto creator with a
display name and bio, a counted and a pending video with snapshots, a campaign holding the creator and a
video, a goal, a payout method, a payout structure with a version and an assignment, an evaluation with its
accrual, a payment with a line and an adjustment, and an API key. Rows go in as the jobs and domain would
leave them (plain ORM inserts), so the suites do not depend on which tools exist yet.

Every text and number can be made distinctive (`marker`), so an isolation check can search another
organization's responses for them, and every text can be poisoned with instructions (`poison`), so the
injection-hygiene suite can track where third-party text goes.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.domain._support import insert_video
from tests.server.conftest import dump_store
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import (
    Campaign,
    CampaignItem,
    Creator,
    CreatorSnapshot,
    Goal,
    JobRun,
    PayoutAccrual,
    PayoutAdjustment,
    PayoutAssignment,
    PayoutEvaluation,
    PayoutMethod,
    PayoutPayment,
    PayoutPaymentLine,
    PayoutStructure,
    PayoutStructureVersion,
    SQLModel,
    VideoSnapshot,
    table_of,
)
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys
from trackagoat_mcp.domain.scope import Caller

PERIOD_START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


@dataclass
class Program:
    """One organization's seeded rows: ids by entity kind, plus the texts and numbers written."""

    caller: Caller
    ids: dict[str, uuid.UUID]
    handle: str
    texts: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)

    def __getitem__(self, kind: str) -> uuid.UUID:
        return self.ids[kind]

    def id_strings(self) -> list[str]:
        return [str(v) for v in self.ids.values()]


async def seed_program(
    db: Database,
    clock: FrozenClock,
    org: tuple[Caller, uuid.UUID],
    prefix: str,
    *,
    views: int = 1_200,
    followers: int = 3_400,
    amount_cents: int = 5_000,
    poison: str = "",
) -> Program:
    """Write one organization's program (see the module docstring); `poison` is appended to third-party text."""
    caller, project_id = org
    now = clock.now()
    texts = {
        "handle": f"{prefix}handle",
        "display_name": f"{prefix} Display{poison}",
        "bio": f"{prefix} bio text{poison}",
        "caption": f"{prefix} caption words{poison}",
        "pending_caption": f"{prefix} pending caption{poison}",
        "campaign": f"{prefix} Campaign Name",
        "structure": f"{prefix} Structure Name",
        "method": f"{prefix} Method",
        "reason": f"{prefix} adjustment reason",
    }
    ids: dict[str, uuid.UUID] = {"project": project_id, "org": caller.org_id}
    async with db.write() as session:
        creator = Creator(
            org_id=caller.org_id,
            project_id=project_id,
            tiktok_handle=texts["handle"],
            tiktok_user_id=str(7_000_000_000_000_000_000 + followers),
            sec_uid=f"MS4wLjABAAAA{prefix}secuid",
            display_name=texts["display_name"],
            bio=texts["bio"],
            tracking_mode="auto",
            tracking_start_date=date(2026, 1, 1),
            follower_count=followers,
            total_likes_count=followers * 3,
            video_count=2,
            last_scraped_at=now - timedelta(hours=1),
            scrape_state="ok",
            created_at=now - timedelta(days=30),
            updated_at=now,
        )
        session.add(creator)
        await session.flush()
        session.add(
            CreatorSnapshot(creator_id=creator.id, captured_at=now - timedelta(days=1), follower_count=followers)
        )
        counted = await insert_video(
            session,
            caller,
            project_id,
            creator_id=creator.id,
            status="auto_tracked",
            caption=texts["caption"],
            views=views,
            likes=views // 10,
            posted_at=PERIOD_START + timedelta(days=1),
            last_scraped_at=now - timedelta(hours=1),
            created_at=now - timedelta(days=7),
            snapshots=[(PERIOD_START + timedelta(days=2), views // 2), (now - timedelta(hours=1), views)],
        )
        pending = await insert_video(
            session,
            caller,
            project_id,
            creator_id=creator.id,
            status="pending_review",
            caption=texts["pending_caption"],
            views=views + 7,
            posted_at=PERIOD_START + timedelta(days=2),
            created_at=now - timedelta(days=6),
        )
        campaign = Campaign(
            org_id=caller.org_id,
            project_id=project_id,
            name=texts["campaign"],
            target_views=views * 10,
            created_at=now,
            updated_at=now,
        )
        session.add(campaign)
        await session.flush()
        session.add(CampaignItem(campaign_id=campaign.id, item_type="creator", item_id=creator.id, created_at=now))
        session.add(CampaignItem(campaign_id=campaign.id, item_type="video", item_id=counted.id, created_at=now))
        goal = Goal(
            org_id=caller.org_id,
            project_id=project_id,
            creator_id=creator.id,
            metric="views",
            period="weekly",
            target_value=float(views * 2),
            start_date=date(2026, 1, 5),
            created_at=now,
            updated_at=now,
        )
        method = PayoutMethod(org_id=caller.org_id, name=texts["method"], created_at=now, updated_at=now)
        structure = PayoutStructure(
            org_id=caller.org_id, project_id=project_id, name=texts["structure"], created_at=now, updated_at=now
        )
        session.add_all([goal, method, structure])
        await session.flush()
        version = PayoutStructureVersion(
            structure_id=structure.id,
            version=1,
            period="weekly",
            amount_cents=amount_cents,
            criteria_type="recurring",
            created_at=now - timedelta(days=30),
        )
        assignment = PayoutAssignment(
            org_id=caller.org_id,
            structure_id=structure.id,
            creator_id=creator.id,
            starts_on=date(2026, 1, 5),
            created_at=now,
            updated_at=now,
        )
        session.add_all([version, assignment])
        await session.flush()
        accrual = PayoutAccrual(
            org_id=caller.org_id,
            project_id=project_id,
            creator_id=creator.id,
            structure_id=structure.id,
            structure_version_id=version.id,
            period_start_at=PERIOD_START - timedelta(days=7),
            period_end_at=PERIOD_START,
            amount_cents=amount_cents,
            status="paid",
            outstanding_cents=0,
            inputs_snapshot={"criteria_type": "recurring"},
            created_at=now,
            updated_at=now,
        )
        earned = PayoutAccrual(
            org_id=caller.org_id,
            project_id=project_id,
            creator_id=creator.id,
            structure_id=structure.id,
            structure_version_id=version.id,
            period_start_at=PERIOD_START,
            period_end_at=PERIOD_START + timedelta(days=7),
            amount_cents=amount_cents,
            status="earned",
            outstanding_cents=amount_cents,
            inputs_snapshot={"criteria_type": "recurring"},
            created_at=now,
            updated_at=now,
        )
        session.add_all([accrual, earned])
        await session.flush()
        session.add(
            PayoutEvaluation(
                org_id=caller.org_id,
                structure_id=structure.id,
                structure_version_id=version.id,
                creator_id=creator.id,
                period_start_at=accrual.period_start_at,
                period_end_at=accrual.period_end_at,
                amount_cents=amount_cents,
                accrual_id=accrual.id,
                evaluated_at=now,
            )
        )
        payment = PayoutPayment(
            org_id=caller.org_id,
            project_id=project_id,
            creator_id=creator.id,
            method_id=method.id,
            method_name_snapshot=method.name,
            total_amount_cents=amount_cents + 1,
            paid_at=now - timedelta(days=1),
            idempotency_key=f"{prefix}-payment-1",
            created_at=now,
            updated_at=now,
        )
        session.add(payment)
        await session.flush()
        line = PayoutPaymentLine(
            payment_id=payment.id, accrual_id=accrual.id, applied_amount_cents=amount_cents, created_at=now
        )
        adjustment = PayoutAdjustment(
            payment_id=payment.id,
            creator_id=creator.id,
            kind="overpayment",
            amount_cents=1,
            reason=texts["reason"],
            created_at=now,
        )
        session.add_all([line, adjustment])
        key, _ = await keys.create_key(session, org_id=caller.org_id, name=f"{prefix} key", now=now)
    ids.update(
        creator=creator.id,
        video=counted.id,
        pending_video=pending.id,
        campaign=campaign.id,
        goal=goal.id,
        method=method.id,
        structure=structure.id,
        version=version.id,
        assignment=assignment.id,
        accrual=accrual.id,
        earned_accrual=earned.id,
        payment=payment.id,
        line=line.id,
        adjustment=adjustment.id,
        api_key=key.id,
    )
    numbers = [views, views + 7, followers, followers * 3, amount_cents, amount_cents + 1]
    return Program(caller, ids, texts["handle"], texts=list(texts.values()), numbers=numbers)


async def org_row_ids(db: Database, org_id: uuid.UUID) -> set[str]:
    """The id of every row of every table that carries `org_id` (as strings)."""
    found: set[str] = set()
    async with db.read() as session:
        for table in SQLModel.metadata.sorted_tables:
            if "org_id" in table.c and "id" in table.c:
                rows = await session.execute(select(table.c.id).where(table.c.org_id == org_id))
                found |= {str(r) for r in rows.scalars()}
    return found


def diff_dumps(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """Per table, how many rows appeared, vanished or changed between two `dump_store` results."""
    out = []
    for table in sorted(set(before) | set(after)):
        old, new = {repr(r) for r in before.get(table, [])}, {repr(r) for r in after.get(table, [])}
        if old != new:
            out.append(f"{table}: {len(new - old)} new/changed, {len(old - new)} gone/changed")
    return out


class StoreWatch:
    """Tells cheaply whether a failed call wrote anything, with a `dump_store` diff when it may have.

    A counter read on a connection of its own moves whenever something may have been written: SQLite's
    `PRAGMA data_version` (any commit by another connection), PostgreSQL's next transaction id (handed out only
    to transactions that write; reading it assigns none). A full dump is taken before a call only when the
    counter moved since the last one, and compared after the call only when it moved during it, so a run of
    refused calls costs one small query each.
    """

    def __init__(self, db: Database, url: str) -> None:
        self.db = db
        self._sqlite = sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///")) if url.startswith("sqlite") else None
        self._engine = None if self._sqlite else create_async_engine(url, isolation_level="AUTOCOMMIT")
        self._snapshot: dict[str, list[tuple[Any, ...]]] = {}
        self._snapshot_at: int | None = None
        self._call_at: int | None = None

    async def counter(self) -> int:
        if self._sqlite is not None:
            return int(self._sqlite.execute("PRAGMA data_version").fetchone()[0])
        assert self._engine is not None
        async with self._engine.connect() as conn:
            return int((await conn.execute(text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text"))).scalar_one())

    async def before_call(self) -> None:
        """Remember the store as it is now (dumping it only if it may have changed since the last dump)."""
        at = await self.counter()
        if at != self._snapshot_at:
            self._snapshot = await dump_store(self.db)
            at = self._snapshot_at = await self.counter()
        self._call_at = at

    async def changes(self) -> list[str]:
        """What the call since `before_call` changed in the store (empty when nothing)."""
        if await self.counter() == self._call_at:
            return []
        return diff_dumps(self._snapshot, await dump_store(self.db))

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._engine is not None:
            await self._engine.dispose()


# --- a large program (result sizes) -------------------------------------------------------------------------

CAPS = {"handle": 30, "display_name": 30, "bio": 80, "caption": 4_000, "name": 200}
"""Third-party text at TikTok's own caps (handle, display name, bio, caption) and our name cap."""


def long_text(seed: str, length: int) -> str:
    """`length` characters of word-like text starting with `seed` (JSON-plain: no quotes or escapes)."""
    return (seed + " " + "lorem ipsum dolor sit amet " * (length // 27 + 1))[:length]


async def grow_program(
    db: Database,
    clock: FrozenClock,
    program: Program,
    *,
    creators: int = 6,
    videos_per_creator: int = 20,
    heavy_posts_per_day: int = 3,
    days: int = 365,
    versions: int = 15,
    campaigns: int = 60,
    api_keys: int = 60,
    methods: int = 20,
    light_creators: int = 100,
) -> None:
    """Make `program` (from `seed_program`) realistically large, as the result-size test needs it.

    Adds `creators` creators with handles, names and bios at TikTok's caps, each with `videos_per_creator` videos
    spread over the last `days` days (4,000-character captions, a snapshot every day since posting) and a creator
    snapshot a day; one of them ("heavy") also posts `heavy_posts_per_day` videos a day for the last 60 days. A
    root campaign (200-character names, like every name here) holds every creator, 100 videos and `campaigns`
    sub-campaigns; each creator has a daily, a weekly and a monthly goal; a daily recurring structure changed
    `versions - 1` times (from 30 days back) and a monthly cpm structure (from 90 days back) are assigned to every
    creator, and the accrual job has run (about 200 accruals, the cpm ones listing every video); plus `api_keys`
    keys and `methods` payout methods. `light_creators` more creators without videos each have the three goals and a
    weekly recurring structure from two weeks back, so compliance and balances have a row each; every other one is
    stale, and ten scrape runs and ten scrape_now calls failed for every creator. `program.ids` then
    points at the biggest of each kind (creator "heavy", its
    oldest video, the root campaign, the daily structure, a cpm accrual).
    """
    from trackagoat_mcp.domain.payouts import assignments as payout_assignments
    from trackagoat_mcp.domain.payouts import structures as payout_structures
    from trackagoat_mcp.jobs.accruals import run_accruals

    caller, project_id = program.caller, program["project"]
    now = clock.now()
    first_day = now - timedelta(days=days)
    ids: list[uuid.UUID] = []
    heavy: uuid.UUID | None = None
    video_ids: list[uuid.UUID] = []
    snapshot_rows: list[dict[str, Any]] = []
    async with db.write() as session:
        for c in range(creators):
            handle = f"creator{c}_" + "x" * (CAPS["handle"] - len(f"creator{c}_"))
            creator = Creator(
                org_id=caller.org_id,
                project_id=project_id,
                tiktok_handle=handle,
                tiktok_user_id=str(7_100_000_000_000_000_000 + c),
                sec_uid="MS4wLjABAAAA" + "s" * 64,
                display_name=long_text(f"Creator {c}", CAPS["display_name"]),
                bio=long_text(f"Bio of creator {c}", CAPS["bio"]),
                tracking_mode="auto",
                tracking_start_date=first_day.date(),
                follower_count=100_000 * (c + 1),
                total_likes_count=9_000_000,
                video_count=videos_per_creator,
                last_scraped_at=now - timedelta(hours=2),
                scrape_state="ok",
                created_at=first_day,
                updated_at=now,
            )
            session.add(creator)
            await session.flush()
            ids.append(creator.id)
            heavy = heavy or creator.id
            posts = [
                first_day + timedelta(days=days * v / videos_per_creator, hours=3) for v in range(videos_per_creator)
            ]
            if creator.id == heavy:
                posts += [
                    now - timedelta(days=d, hours=h * 5 + 1) for d in range(60) for h in range(heavy_posts_per_day)
                ]
            for posted_at in posts:
                age = max(1, (now - posted_at).days)
                video = await insert_video(
                    session,
                    caller,
                    project_id,
                    creator_id=creator.id,
                    caption=long_text(f"Caption {len(video_ids)} #fyp", CAPS["caption"]),
                    views=1_000 * age * (c + 1),
                    likes=90 * age,
                    comments=7 * age,
                    shares=3 * age,
                    saves=5 * age,
                    posted_at=posted_at,
                    last_scraped_at=now - timedelta(hours=2),
                    created_at=posted_at,
                )
                video_ids.append(video.id)
                snapshot_rows += [
                    {
                        "video_id": video.id,
                        "captured_at": posted_at + timedelta(days=d, hours=1),
                        "view_count": 1_000 * d,
                    }
                    for d in range(age)
                ]
            await session.execute(
                insert(table_of(CreatorSnapshot)),
                [
                    {
                        "creator_id": creator.id,
                        "captured_at": first_day + timedelta(days=d),
                        "follower_count": 1_000 * d,
                    }
                    for d in range(days)
                ],
            )
        await session.execute(insert(table_of(VideoSnapshot)), snapshot_rows)  # one statement: ~30,000 rows
        light: list[uuid.UUID] = []
        for n in range(light_creators):
            handle = f"light{n}_" + "x" * (CAPS["handle"] - len(f"light{n}_"))
            row = Creator(
                org_id=caller.org_id,
                project_id=project_id,
                tiktok_handle=handle,
                display_name=long_text(f"Light {n}", CAPS["display_name"]),
                tracking_start_date=first_day.date(),
                last_scraped_at=now - timedelta(days=3 if n % 2 else 0, hours=2),  # every other one is stale
                scrape_state="stale" if n % 2 else "ok",
                created_at=first_day,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            light.append(row.id)
        # Ten scrape runs and ten scrape_now calls, every fetch of each failed (a TikTok outage).
        outage = [
            {"kind": "unavailable", "message": long_text("TikTok answered 503", 300), "creator_id": str(c)}
            for c in ids + light
        ]
        for n in range(10):
            for job, slot in (("scrape", f"outage-{n}"), ("scrape_now", f"{caller.org_id.hex}/{now:%Y-%m-%d}/{n}")):
                session.add(
                    JobRun(
                        job=job,
                        slot=slot,
                        status="ok",
                        claimed_by="worker-host.example.internal:123456",
                        started_at=now - timedelta(minutes=5 * n + 5),
                        heartbeat_at=now - timedelta(minutes=5 * n + 4),
                        finished_at=now - timedelta(minutes=5 * n + 4),
                        report={"failed": outage},
                    )
                )
        root = Campaign(
            org_id=caller.org_id,
            project_id=project_id,
            name=long_text("Root campaign", CAPS["name"]),
            target_views=10**9,
            created_at=now,
            updated_at=now,
        )
        session.add(root)
        await session.flush()
        items = [("creator", i) for i in ids] + [("video", v) for v in video_ids[:100]]
        for n in range(campaigns):
            child = Campaign(
                org_id=caller.org_id,
                project_id=project_id,
                name=long_text(f"Sub-campaign {n}", CAPS["name"]),
                created_at=now,
                updated_at=now,
            )
            session.add(child)
            await session.flush()
            items.append(("campaign", child.id))
            session.add(
                CampaignItem(campaign_id=child.id, item_type="creator", item_id=ids[n % creators], created_at=now)
            )
        session.add_all(CampaignItem(campaign_id=root.id, item_type=t, item_id=i, created_at=now) for t, i in items)
        for creator_id in ids + light:
            for metric, period, target in (
                ("posts", "daily", 1),
                ("views", "weekly", 50_000),
                ("engagement", "monthly", 5),
            ):
                session.add(
                    Goal(
                        org_id=caller.org_id,
                        project_id=project_id,
                        creator_id=creator_id,
                        metric=metric,
                        period=period,
                        target_value=float(target),
                        start_date=first_day.date(),
                        created_at=now,
                        updated_at=now,
                    )
                )
        for n in range(api_keys):
            await keys.create_key(session, org_id=caller.org_id, name=long_text(f"Key {n}", CAPS["name"]), now=now)
        session.add_all(
            PayoutMethod(
                org_id=caller.org_id,
                name=long_text(f"Method {n}", 100),
                icon_url="https://cdn.example.com/icons/" + "i" * 170 + f"{n}.png",
                created_at=now,
                updated_at=now,
            )
            for n in range(methods)
        )
        structures: dict[str, uuid.UUID] = {}
        plans = (
            ("daily", "daily", "recurring", 30, ids),
            ("cpm", "monthly", "cpm", 90, ids),
            ("light", "weekly", "recurring", 14, light),
        )
        for key, period, criteria, back, assigned in plans:
            made = await payout_structures.create_structure(
                session,
                caller,
                project_id=project_id,
                name=long_text(f"{key} structure", CAPS["name"]),
                period=period,
                amount_cents=500,
                criteria_type=criteria,
                now=first_day,
            )
            structures[key] = made.id
            for batch in range(0, len(assigned), payout_assignments.MAX_CREATORS):
                await payout_assignments.assign_creators(
                    session,
                    caller,
                    made.id,
                    assigned[batch : batch + payout_assignments.MAX_CREATORS],
                    now=now,
                    starts_on=(now - timedelta(days=back)).date(),
                )
        for v in range(versions - 1):
            await payout_structures.update_structure(
                session, caller, structures["daily"], now=first_day + timedelta(hours=v + 1), amount_cents=501 + v
            )
    await run_accruals(db, clock, worker_id="grow", org_id=caller.org_id)
    async with db.read() as session:
        accrual = (
            await session.scalars(
                select(PayoutAccrual)
                .where(PayoutAccrual.structure_id == structures["cpm"], PayoutAccrual.creator_id == heavy)
                .order_by(PayoutAccrual.period_start_at.desc())  # type: ignore[attr-defined]
            )
        ).first()
    assert heavy is not None and accrual is not None, "the cpm structure earned nothing for the heavy creator"
    program.ids.update(
        creator=heavy, video=video_ids[0], campaign=root.id, structure=structures["daily"], accrual=accrual.id
    )
