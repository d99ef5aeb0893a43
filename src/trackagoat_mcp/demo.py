"""`trackagoat-mcp demo`: the whole system on one machine, offline, in well under a minute.

1. A fresh SQLite store in a new temporary directory (or an empty store given with `--database-url`),
   migrated to head.
2. The simulated TikTok site (`tiktok.sim`) served by uvicorn on a loopback port, with a dozen accounts
   whose followers and views grow with the demo's clock.
3. `build_demo` fills the store: `seed_program` (an organization, a project with human instructions, twelve
   creators of which one is selective, a three-level campaign tree), then `scrape_history` runs the real
   scrape cycle once a day for the last few days over the loopback connection, so videos are discovered
   and every counter has a history of snapshots. Then `seed_goals_and_payouts`: weekly `posts` and `views`
   goals for a few creators, one payout structure of each criteria type assigned from the tracking start date
   (two weeks back), and one accrual run, so the weeks that ended long enough ago are evaluated. Each step is
   a function of `(db, clock, program)`.
4. A scripted MCP session: `trackagoat-mcp serve --no-jobs` as a stdio subprocess, driven by `mcp.Client`,
   whose answers are printed readably (creators, campaign statistics, the inbox, a `scrape_now` with
   progress, the job status, goal compliance, a leaderboard, program health, the payout structures and
   balance, and one payment that settles what the creator owed the most has earned, approved by the demo's
   "person" through elicitation); then a second session without elicitation pays the next creator through the
   token flow (preview and token, then the confirmed call). See `server.confirm`.
5. The command to explore the same store with an agent. The store is kept (its directory is printed, to
   delete when done); the simulated site stops with the demo, so that command runs without the jobs.

Nothing reaches the network: the store's scraper only ever talks to the loopback site.
"""

from __future__ import annotations

import os
import random
import shlex
import socket
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import uvicorn

from trackagoat_mcp.clock import FrozenClock, SystemClock
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import campaigns, creators, goals, notes, orgs, projects
from trackagoat_mcp.domain.payouts import assignments, structures
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller
from trackagoat_mcp.errors import ConfigError
from trackagoat_mcp.jobs.accruals import AccrualReport, run_accruals
from trackagoat_mcp.jobs.scraper import ScrapeReport, ScrapeSettings, run_scrape_cycle
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.sim import SimAccount, SimulatedTikTok, SimVideo

__all__ = [
    "DemoProgram",
    "build_demo",
    "compliance_lines",
    "demo_accounts",
    "run_demo",
    "scrape_history",
    "seed_goals_and_payouts",
    "seed_program",
    "serve_site",
]

HISTORY_DAYS = 3
"""Daily scrape cycles before "now" (plus the one at now), so every counter has a short history."""
TRACKING_DAYS = 14
"""How far back the creators' tracking start date lies (older posts are not tracked)."""
SELECTIVE = "laughs_lee"
HANDLES = (
    "nova.dance",
    "chefmarco",
    "glowwithkai",
    "techtess",
    "fitfam_jo",
    "petpals",
    "travelwithlu",
    "diy_dan",
    "bookish.bea",
    "gamer_gus",
    "styleby.sam",
    SELECTIVE,
)
TREE = {
    "Lifestyle": ("nova.dance", "glowwithkai", "styleby.sam", "travelwithlu"),
    "Fitness": ("fitfam_jo", "techtess"),
    "Food & home": ("chefmarco", "diy_dan", "petpals"),
}
"""Sub-campaigns of the root campaign and their creators; Fitness sits inside Lifestyle."""
GOALS = {"nova.dance": (2, 20_000), "chefmarco": (2, 20_000), "techtess": (3, 50_000), "fitfam_jo": (1, 5_000)}
"""Creators with weekly goals: (posts, views) per week."""
STRUCTURES: tuple[tuple[str, str, int, dict[str, Any], str, tuple[str, ...]], ...] = (
    ("Weekly retainer", "recurring", 5_000, {}, "daily", tuple(h for h in HANDLES if h != SELECTIVE)),
    ("Goal bonus", "goals", 10_000, {}, "none", tuple(GOALS)),
    ("CPM $3", "cpm", 300, {"max_cents": 50_000}, "none", TREE["Lifestyle"]),
    (
        "Viral video bonus",
        "view_threshold",
        2_500,
        {"threshold_views": 20_000, "max_videos": 5},
        "none",
        TREE["Food & home"],
    ),
)
"""Payout structures, one per criteria type: (name, criteria_type, amount_cents, criteria_params, proration_mode,
handles assigned). All weekly, all assigned from the tracking start date."""
PROJECT_INSTRUCTIONS = (
    "Spring launch of the Bloom skincare line. Count only videos that show a Bloom product; flag anything "
    "sponsored by a competitor in the video's readme. Report views to the brand every Monday."
)


@dataclass
class DemoProgram:
    """What `seed_program` created: the caller acting for the demo organization and the ids of everything."""

    caller: Caller
    project_id: uuid.UUID
    creator_ids: dict[str, uuid.UUID]
    campaign_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    goal_ids: list[uuid.UUID] = field(default_factory=list)
    structure_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    accruals: AccrualReport | None = None

    @property
    def root_campaign_id(self) -> uuid.UUID:
        return self.campaign_ids["Spring launch"]


def demo_accounts(now: datetime, *, seed: int = 7) -> list[SimAccount]:
    """A dozen simulated accounts whose posts span the last two weeks (and a few to come) and keep gaining views."""
    rng = random.Random(seed)
    accounts = []
    for number, handle in enumerate(HANDLES):
        posts = []
        for seq in range(rng.randint(4, 7)):
            age = timedelta(hours=rng.randint(-30, 24 * (TRACKING_DAYS + 4)))  # a few appear while the demo runs
            posts.append(
                SimVideo.posted(
                    now - age,
                    number * 16 + seq,  # distinct ids even for posts of two accounts in the same second
                    description=f"{handle} video {seq + 1} #bloom",
                    base_plays=rng.randint(200, 20_000),
                    plays_per_hour=rng.randint(20, 1_500),
                    is_photo=seq == 3,
                )
            )
        accounts.append(
            SimAccount(
                handle,
                followers=rng.randint(2_000, 400_000),
                followers_per_hour=rng.randint(1, 60),
                base_hearts=rng.randint(1_000, 90_000),
                videos=posts,
                verified=number % 4 == 0,
            )
        )
    return accounts


async def seed_program(db: Database, clock: FrozenClock) -> DemoProgram:
    """An organization with one project, twelve creators (one selective) and a three-level campaign tree."""
    now = clock.now()
    start = (now - timedelta(days=TRACKING_DAYS)).date()
    async with db.write() as session:
        org = await orgs.create_org(session, name="Demo agency", timezone="UTC", now=now)
        caller = Caller(org.id, frozenset(ALL_SCOPES))
        project = await projects.create_project(session, caller, name="Spring launch program", now=now)
        await notes.set_description(session, caller, "project", project.id, PROJECT_INSTRUCTIONS, now=now)
        added = await creators.add_creators(
            session,
            caller,
            project_id=project.id,
            handles=[h for h in HANDLES if h != SELECTIVE],
            now=now,
            tracking_start_date=start,
        )
        selective = await creators.add_creators(
            session,
            caller,
            project_id=project.id,
            handles=[SELECTIVE],
            now=now,
            tracking_mode="selective",
            tracking_start_date=start,
        )
        ids = {r.tiktok_handle: r.creator_id for r in [*added.results, *selective.results]}
        program = DemoProgram(caller, project.id, ids)
        for name, target in (("Spring launch", 10_000_000), *((name, None) for name in TREE)):
            campaign = await campaigns.create_campaign(
                session, caller, project_id=project.id, name=name, now=now, target_views=target
            )
            program.campaign_ids[name] = campaign.id
        for name, handles in TREE.items():
            members: list[campaigns.ItemRef] = [("creator", ids[h]) for h in handles]
            await campaigns.set_campaign_items(session, caller, program.campaign_ids[name], add=members, now=now)
        tree = (("Spring launch", "Lifestyle"), ("Spring launch", "Food & home"), ("Lifestyle", "Fitness"))
        for parent, child in tree:
            await campaigns.set_campaign_items(
                session, caller, program.campaign_ids[parent], add=[("campaign", program.campaign_ids[child])], now=now
            )
        await campaigns.set_campaign_items(
            session, caller, program.root_campaign_id, add=[("creator", ids["gamer_gus"])], now=now
        )
    return program


async def scrape_history(
    db: Database, clock: FrozenClock, tiktok: TikTokClient, *, days: int = HISTORY_DAYS
) -> list[ScrapeReport]:
    """Run the scrape cycle once a day for `days` days, ending at `clock`'s start plus `days` (the real now)."""
    reports = []
    for day in range(days + 1):
        if day:
            clock.advance(timedelta(days=1))
        reports.append(await run_scrape_cycle(db, tiktok, clock, ScrapeSettings(), worker_id="demo"))
    return reports


async def seed_goals_and_payouts(db: Database, clock: FrozenClock, program: DemoProgram) -> None:
    """Weekly goals, one weekly payout structure per criteria type, assignments from the tracking start, accruals.

    Goals and assignments start on the tracking start date (`TRACKING_DAYS` back), so the week containing it has
    ended at least five days ago and is always evaluated (goals, cpm and view_threshold wait 48 h after a week
    ends), and so is the next week from Wednesday on. The accrual run evaluates those weeks with the scraped
    figures; the week in progress is left open.
    """
    now = clock.now()
    start = (now - timedelta(days=TRACKING_DAYS)).date()
    caller, ids = program.caller, program.creator_ids
    async with db.write() as session:
        for handle, (posts, views) in GOALS.items():
            for metric, target in (("posts", posts), ("views", views)):
                goal = await goals.create_goal(
                    session,
                    caller,
                    creator_id=ids[handle],
                    metric=metric,
                    period="weekly",
                    target_value=target,
                    now=now,
                    start_date=start,
                )
                program.goal_ids.append(goal.id)
        for name, criteria, amount, params, proration, handles in STRUCTURES:
            structure = await structures.create_structure(
                session,
                caller,
                project_id=program.project_id,
                name=name,
                period="weekly",
                amount_cents=amount,
                criteria_type=criteria,
                criteria_params=params,
                proration_mode=proration,
                now=now,
            )
            program.structure_ids[name] = structure.id
            await assignments.assign_creators(
                session, caller, structure.id, [ids[h] for h in handles], now=now, starts_on=start
            )
    program.accruals = await run_accruals(db, clock, worker_id="demo")


async def build_demo(db: Database, clock: FrozenClock, tiktok: TikTokClient) -> tuple[DemoProgram, list[ScrapeReport]]:
    """Every step that fills the demo store, in order (`clock` starts `HISTORY_DAYS` before now)."""
    program = await seed_program(db, clock)
    reports = await scrape_history(db, clock, tiktok)
    for step in (seed_goals_and_payouts,):  # further steps: `async def step(db, clock, program) -> None`
        await step(db, clock, program)
    return program, reports


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is listening."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = anyio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@asynccontextmanager
async def serve_site(site: SimulatedTikTok) -> AsyncIterator[str]:
    """Serve the simulated site with uvicorn on a free loopback port; yields its base URL.

    The socket is bound here (no race for the port) with an explicit `IPPROTO_TCP`: asyncio turns Nagle's
    algorithm off only on sockets whose protocol says TCP, and without that every keep-alive request waits
    about 40 ms for a delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = _Server(uvicorn.Config(site.app, log_config=None, lifespan="on", timeout_graceful_shutdown=2))
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve, [sock])
            with anyio.fail_after(20):
                await server.ready.wait()
            try:
                yield f"http://127.0.0.1:{sock.getsockname()[1]}"
            finally:
                server.should_exit = True
    finally:
        sock.close()


async def run_demo(database_url: str | None, *, out: Callable[[str], None]) -> int:
    """The `demo` command (see the module docstring); returns the exit code."""
    url = database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='trackagoat-demo-')) / 'demo.db'}"
    await upgrade(url)
    db = Database.connect(url)
    try:
        async with db.read() as session:
            if await orgs.list_orgs(session):
                raise ConfigError(f"The store {url!r} already has data; give the demo an empty one (or none at all).")
        now = SystemClock().now()
        clock = FrozenClock(now - timedelta(days=HISTORY_DAYS))
        site = SimulatedTikTok(clock=clock)
        for account in demo_accounts(now):
            site.add_account(account)
        async with serve_site(site) as site_url, httpx2.AsyncClient(timeout=10.0) as http:
            out(f"trackagoat-mcp demo\n  store: {url}\n  simulated TikTok: {site_url} ({len(HANDLES)} accounts)\n")
            tiktok = TikTokClient(http, base_url=site_url, rate=None, clock=clock)
            program, reports = await build_demo(db, clock, tiktok)
            _print_seeded(out, program, reports)
            clock.advance(timedelta(hours=6))  # the site moves on, so scrape_now has something to find
            await _scripted_session(out, url, site_url, program)
    finally:
        await db.dispose()
    _print_explore(out, url)
    return 0


def _print_seeded(out: Callable[[str], None], program: DemoProgram, reports: list[ScrapeReport]) -> None:
    discovered = sum(r.videos_discovered for r in reports)
    snapshots = sum(r.video_snapshots for r in reports)
    first, last = reports[0].started_at, reports[-1].started_at
    out(
        f"Seeded organization 'Demo agency', project 'Spring launch program': {len(program.creator_ids)} creators "
        f"(@{SELECTIVE} selective), {len(program.campaign_ids)} nested campaigns.\n"
        f"Scraped {len(reports)} daily cycles ({first:%Y-%m-%d} → {last:%Y-%m-%d}): {discovered} videos discovered, "
        f"{snapshots} video snapshots, failures: {sum(sum(r.failures.values()) for r in reports)}."
    )
    if program.accruals is not None:
        totals = program.accruals.totals
        start = (program.accruals.as_of - timedelta(days=TRACKING_DAYS)).date()
        out(
            f"Set {len(program.goal_ids)} weekly goals for {len(GOALS)} creators and "
            f"{len(program.structure_ids)} weekly payout structures ({', '.join(c for _, c, *_ in STRUCTURES)}) "
            f"assigned from the tracking start ({start}: only videos from then on count, so its week is partial); "
            f"accrual run: {totals.evaluated} creator-weeks evaluated, {totals.accrued} accrued "
            f"({_usd(totals.accrued_cents)}), {totals.zero} earned nothing.\n"
        )


def _usd(cents: int) -> str:
    return f"{'-' if cents < 0 else ''}${abs(cents) / 100:,.2f}"


async def _scripted_session(out: Callable[[str], None], url: str, site_url: str, program: DemoProgram) -> None:
    from mcp import Client, StdioServerParameters

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKAGOAT_")}
    env |= {"TRACKAGOAT_DATABASE_URL": url, "TRACKAGOAT_TIKTOK_BASE_URL": site_url, "TRACKAGOAT_SCRAPE_RATE": "100"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "trackagoat_mcp", "serve", "--no-jobs"], env=env)
    out("Scripted MCP session (`trackagoat-mcp serve --no-jobs` over stdio):")
    second: dict[str, Any] | None = None
    with anyio.fail_after(60):
        async with Client(params, read_timeout_seconds=30, elicitation_callback=_person(out)) as client:

            async def call(tool: str, arguments: dict[str, Any], **options: Any) -> dict[str, Any]:
                result = await client.call_tool(tool, arguments, **options)
                if result.is_error or result.structured_content is None:
                    raise ConfigError(f"The demo's {tool} call failed: {result.content}.")
                content: dict[str, Any] = result.structured_content
                return content

            listed = await call("list_creators", {"limit": 100})
            out(f"> list_creators → {len(listed['items'])} creators")
            for item in sorted(listed["items"], key=lambda c: -(c["follower_count"] or 0))[:5]:
                followers = item["follower_count"] or 0
                out(f"    @{item['tiktok_handle']:<14} {followers:>9,} followers  {item['scrape_state']}")

            stats = await call("get_campaign_stats", {"campaign_id": str(program.root_campaign_id)})
            out(
                f"> get_campaign_stats 'Spring launch' → {stats['lifetime']['views']:,} views on "
                f"{stats['lifetime']['videos']} videos, {stats['target_progress_pct']}% of the "
                f"{stats['target_views']:,} target; {stats['views_gained']:,} views gained in the last 30 days"
            )
            for child in stats["children"][:4]:
                out(f"    {child['item_type']:<8} {child['label']:<14} {child['lifetime']['views']:>10,} views")

            inbox = await call("list_videos", {"tracking_status": "pending_review"})
            out(f"> list_videos tracking_status=pending_review → {len(inbox['items'])} videos wait for review_videos")

            star = max(listed["items"], key=lambda c: c["follower_count"] or 0)
            steps: list[str] = []

            async def progress(done: float, total: float | None, _message: str | None) -> None:
                steps.append(f"{done:g}/{total:g}")

            scraped = await call("scrape_now", {"creator_ids": [star["id"]]}, progress_callback=progress)
            [change] = scraped["creators"]
            gained = sum((v["views"]["new"] or 0) - (v["views"]["old"] or 0) for v in scraped["videos"])
            out(
                f"> scrape_now @{change['tiktok_handle']} (6 hours later on the site; progress {', '.join(steps)}) → "
                f"followers {change['followers']['old']:,} → {change['followers']['new']:,}, "
                f"+{gained:,} views on {len(scraped['videos'])} videos, {change['new_videos']} new"
            )

            status = await call("get_job_status", {})
            scrape = status["jobs"][0]
            last = scrape["runs"][0] if scrape["runs"] else None
            out(
                f"> get_job_status → scrape runs {scrape['schedule']} (last: {last['status'] if last else 'never'}); "
                f"scrape_now used {status['scrape_now']['used_today']} of {status['scrape_now']['daily_cap']} today; "
                f"{status['stale_creator_count']} stale creators"
            )
            await _goals_and_analytics(out, call, program)
            second = await _payouts(out, call, program)
    if second is not None:
        await _token_flow(out, StdioServerParameters(command=sys.executable, args=params.args, env=params.env), second)


def _person(out: Callable[[str], None]) -> Any:
    """The demo's person: reads each confirmation the server asks for (elicitation) and approves it."""
    from mcp.types import ElicitRequestParams, ElicitResult

    async def approve(_context: Any, params: ElicitRequestParams) -> ElicitResult:
        out("  [elicitation] the server asks the person, who approves:")
        for line in params.message.splitlines():
            if line:
                out(f"    | {line}")
        return ElicitResult(action="accept", content={"approve": True})

    return approve


async def _token_flow(out: Callable[[str], None], params: Any, payment: dict[str, Any]) -> None:
    """The same confirmation for a client without elicitation: a preview and a token, then the confirmed call."""
    from mcp import Client

    params.env = {**params.env, "TRACKAGOAT_MONEY_CONFIRMATION": "token"}
    out("A client without elicitation (here forced with TRACKAGOAT_MONEY_CONFIRMATION=token) gets a token instead:")
    with anyio.fail_after(60):
        async with Client(params, read_timeout_seconds=30) as client:
            first = await client.call_tool("create_payout_payment", payment)
            preview = first.structured_content or {}
            if not first.is_error or "confirmation_token" not in preview:
                raise ConfigError(f"The demo expected a confirmation_required answer, got {first.content}.")
            effect = preview["effect"]
            out(
                f"> create_payout_payment @{effect['creator_handle']} → [confirmation_required], nothing written; "
                f"token valid until {preview['expires_at']}; the agent shows the person:"
            )
            for item in effect["items"]:
                out(f"    | {item['what']}: {_usd(item['cents'])}")
            confirmed = await client.call_tool(
                "create_payout_payment", {**payment, "confirmation_token": preview["confirmation_token"]}
            )
            if confirmed.is_error or confirmed.structured_content is None:
                raise ConfigError(f"The demo's confirmed create_payout_payment failed: {confirmed.content}.")
            paid = confirmed.structured_content
            out(
                f"> create_payout_payment + confirmation_token → {_usd(paid['total_amount_cents'])} on "
                f"{len(paid['payout_payment_lines'])} accruals (written once; the token is spent)\n"
            )


Call = Callable[..., Awaitable[dict[str, Any]]]


async def _goals_and_analytics(out: Callable[[str], None], call: Call, program: DemoProgram) -> None:
    """Goal compliance of this week, the creators leaderboard by views, and program health."""
    project = str(program.project_id)
    compliance = await call("get_goal_compliance", {"project_id": project, "period": "weekly"})
    for line in compliance_lines(compliance):
        out(line)

    board = await call("get_leaderboard", {"project_id": project, "kind": "creators", "order_by": "views", "limit": 5})
    out(
        f"> get_leaderboard creators by views ({board['range_from']} → {board['range_to']}) → top {len(board['items'])}"
    )
    for item in board["items"]:
        out(f"    {item['rank']}. {item['label']:<15} {item['views']:>10,} views on {item['posts']} posts")

    health = await call("get_program_health", {"project_id": project})
    owed = health["outstanding_payouts"]
    out(
        f"> get_program_health → {health['creators']['count']} creators need attention, "
        f"{health['inbox']['pending_review_count']} videos in the inbox, goals: {health['goals']['missed_count']} "
        f"missed last week and {health['goals']['at_risk_count']} at risk, {_usd(owed['total_cents'])} unpaid "
        f"to {owed['creator_count']} creators"
    )
    for line in health["summary"][:4]:
        out(f"    - {line}")


async def _payouts(out: Callable[[str], None], call: Call, program: DemoProgram) -> dict[str, Any] | None:
    """The payout structures, the project's balance, and one payment of everything the top creator has earned,
    approved by the person through elicitation; returns the arguments of a payment to the next creator owed the
    most (for the token flow), if any."""
    project = str(program.project_id)
    listed = await call("list_payout_structures", {"project_id": project})
    out(f"> list_payout_structures → {len(listed['items'])} structures")
    for item in listed["items"]:
        out(
            f"    {item['name']:<18} {item['criteria_type']:<14} {item['period']} {_usd(item['amount_cents']):>8}  "
            f"{item['assignment_count']} creators"
        )

    balance = await call("get_payout_balance", {"project_id": project, "limit": 100})
    out(
        f"> get_payout_balance project → {_usd(balance['owed_cents'])} owed on {balance['earned_accrual_count']} "
        f"accruals to {len(balance['creators'])} creators"
    )
    if not balance["creators"]:
        out("    (no accrual has been earned yet: no week has been evaluated with money in it, so no payment)\n")
        return None
    ranked = sorted(balance["creators"], key=lambda c: -c["owed_cents"])
    top = ranked[0]
    methods = await call("list_payout_methods", {})
    method = next(m for m in methods["items"] if m["is_active"])
    payment = await call(
        "create_payout_payment",
        {
            "project_id": project,
            "creator_id": str(top["creator_id"]),
            "method_id": str(method["id"]),
            "idempotency_key": str(uuid.uuid4()),
            "auto_apply_outstanding": True,
        },
    )
    lines = payment["payout_payment_lines"]
    out(
        f"> create_payout_payment @{top['tiktok_handle']} via {payment['method_name_snapshot']}, "
        f"auto_apply_outstanding → {_usd(payment['total_amount_cents'])} on {len(lines)} accruals"
    )
    for line in lines:
        out(
            f"    {line['structure_name']:<18} week of {line['period_start_at'][:10]}  "
            f"{_usd(line['applied_amount_cents']):>9}"
        )
    after = await call("get_payout_balance", {"creator_id": str(top["creator_id"])})
    project_after = await call("get_payout_balance", {"project_id": project, "limit": 1})
    out(
        f"> get_payout_balance @{top['tiktok_handle']} → {_usd(after['owed_cents'])} owed; project now "
        f"{_usd(project_after['owed_cents'])} owed\n"
    )
    if len(ranked) < 2 or ranked[1]["owed_cents"] <= 0:
        return None
    return {
        "project_id": project,
        "creator_id": str(ranked[1]["creator_id"]),
        "method_id": str(method["id"]),
        "idempotency_key": str(uuid.uuid4()),
        "auto_apply_outstanding": True,
    }


def compliance_lines(compliance: dict[str, Any]) -> list[str]:
    """The demo's printout of a weekly `get_goal_compliance` result.

    While the week has just begun (`advisory.period_just_started`), its pace says little, so each creator's line
    shows the week just completed (`previous`) with its statuses, then this week's figures without a status.
    """
    groups = compliance["creators"]
    early = [r for g in groups for r in g["compliance"] if r["advisory"]["period_just_started"]]
    head = (
        f"> get_goal_compliance weekly → {len(groups)} creators with goals this week (as of "
        f"{compliance['reference_date']}), {compliance['creators_without_goals']} without"
    )
    if early:
        began = datetime.fromisoformat(early[0]["advisory"]["period_start"])
        hours = (datetime.fromisoformat(compliance["evaluated_at"]) - began).total_seconds() / 3600
        head += f"; this week began {hours:.0f} h ago, so the week just completed comes first"
    lines = [head]
    for group in groups:
        results = sorted(group["compliance"], key=lambda r: r["goal"]["metric"])  # posts, then views
        if any(r["advisory"]["period_just_started"] for r in results):
            last = [_judged(r["goal"]["metric"], r["previous"], r["target"]) for r in results if r["previous"]]
            now = [f"{r['goal']['metric']} {_figure(r['actual'])}/{r['target']:,.0f}" for r in results]
            shown = f"last week: {', '.join(last) or 'no goal yet'}; this week so far: {', '.join(now)}"
        else:
            shown = ", ".join(_judged(r["goal"]["metric"], r, r["target"]) for r in results)
        lines.append(f"    @{group['creator']['tiktok_handle']:<14} {shown}")
    return lines


def _judged(metric: str, result: dict[str, Any], target: float) -> str:
    """`metric actual/target status` of a judged goal or of its previous period."""
    return f"{metric} {_figure(result['actual'])}/{target:,.0f} {result['status'] or 'not started'}"


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _print_explore(out: Callable[[str], None], url: str) -> None:
    command = Path(sys.executable).parent / "trackagoat-mcp"
    out(
        "Explore this store with an agent (the simulated site has stopped, so run it without the jobs):\n"
        f"  TRACKAGOAT_DATABASE_URL={shlex.quote(url)} {shlex.quote(str(command))} serve --no-jobs\n"
        'Claude Desktop: {"command": "' + str(command) + '", "args": ["serve", "--no-jobs"], '
        '"env": {"TRACKAGOAT_DATABASE_URL": "' + url + '"}}'
    )
    if url.startswith("sqlite") and "trackagoat-demo-" in url:
        out(f"Delete it when done: rm -r {shlex.quote(str(Path(url.split(':///', 1)[1]).parent))}")
