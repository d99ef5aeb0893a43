"""Each prompt's tool path, followed through a real MCP client on a seeded program, finds the right answers.

For every prompt: `get_prompt` with real ids renders them into the text, and the text names the tools of its path
in the order the test calls them; then the test calls exactly those tools, in that order, with the arguments the
prompt asks for, and checks that the answers name the creators, campaigns and amounts the seed made true on purpose
(`tests/prompts/seed.py`). Every tool result is also checked for the seeded prompt injection: it may appear only
inside an `<untrusted-data-…>` fence.

The program is seeded once per backend (module scope) and every test starts from a fresh copy of it, so the tests
stay independent and the module stays fast on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.conftest import REQUIRE_PG, _pg_create, _pg_drop, make_server, pg_url
from tests.prompts import seed
from tests.prompts.seed import INJECTION, Program
from tests.server.conftest import FENCE_OPEN, error_text, ok, text_of, unfence
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.session import Database

# --- stores -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    """A seeded store to start each test from: which backend, where it is, and what is in it."""

    backend: str
    where: str
    program: Program


@pytest.fixture(scope="module")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Seeded:
    path = tmp_path_factory.mktemp("prompt_paths") / "seeded.db"
    seed.copy_sqlite(sqlite_template, path)
    return Seeded("sqlite", str(path), anyio.run(seed.seed_store, f"sqlite+aiosqlite:///{path}"))


@pytest.fixture(scope="module")
def seeded_postgres() -> Iterator[Seeded]:
    name = f"tga_prompts_{uuid.uuid4().hex[:10]}"
    try:
        anyio.run(_pg_create, name)
    except Exception as exc:  # any connection failure means "no PostgreSQL here", as in tests/conftest.py
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (TRACKAGOAT_REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = pg_url(name)
    try:
        anyio.run(upgrade, url)
        program = anyio.run(seed.seed_store, url)
        anyio.run(seed.snapshot_postgres, url)
        yield Seeded("postgres", url, program)
    finally:
        anyio.run(_pg_drop, name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded(request: pytest.FixtureRequest) -> Seeded:
    """The seeded store of each backend (resolved outside the event loop: seeding runs its own)."""
    return request.getfixturevalue(f"seeded_{request.param}")  # type: ignore[no-any-return]


@pytest.fixture
async def store(seeded: Seeded, tmp_path: Path) -> AsyncIterator[tuple[Database, Program]]:
    """The seeded store as it was right after seeding (a private copy), and what the seed put in it."""
    if seeded.backend == "sqlite":
        copy = tmp_path / "store.db"
        seed.copy_sqlite(Path(seeded.where), copy)
        db = Database.connect(f"sqlite+aiosqlite:///{copy}")
    else:
        db = Database.connect(seeded.where)
        await seed.restore_postgres(db)
    try:
        yield db, seeded.program
    finally:
        await db.dispose()


# --- an agent following a prompt ------------------------------------------------------------------------------


@dataclass
class Agent:
    """Calls tools through a real MCP client and keeps what a model would have read."""

    client: Client
    called: list[str] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)

    async def prompt(self, name: str, **arguments: object) -> str:
        """The prompt's text, rendered by the server with `arguments`."""
        result = await self.client.get_prompt(name, {k: str(v) for k, v in arguments.items()})
        return " ".join(m.content.text for m in result.messages)  # type: ignore[union-attr]

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call a tool that must succeed; returns its structured content."""
        result = await self.client.call_tool(tool, arguments)
        self.called.append(tool)
        self.texts.append((tool, text_of(result)))
        return ok(result)

    async def refused(self, tool: str, arguments: dict[str, Any]) -> str:
        """Call a tool that must fail; returns the error text."""
        result = await self.client.call_tool(tool, arguments)
        self.called.append(tool)
        return error_text(result)

    def path(self) -> list[str]:
        """The tools called, each at its first call."""
        return list(dict.fromkeys(self.called))

    def check_untrusted_text(self) -> set[str]:
        """Fail if the seeded injection was shown outside a fence; returns the tools that showed it fenced."""
        fenced = set()
        for tool, text in self.texts:
            if FENCE_OPEN.search(text):
                parts = unfence(text)
                assert INJECTION not in parts.outside, f"{tool} shows TikTok text outside its fence"
                if any(INJECTION in value for value in parts.inside):
                    fenced.add(tool)
            else:
                assert INJECTION not in text, f"{tool} shows TikTok text without a fence: {text[:300]}"
        return fenced


@pytest.fixture
async def agent(store: tuple[Database, Program], clock: FrozenClock) -> AsyncIterator[Agent]:
    db, program = store
    async with Client(make_server(db, clock, program.caller)) as client:
        yield Agent(client)


@pytest.fixture
def program(store: tuple[Database, Program]) -> Program:
    return store[1]


def assert_names_in_order(text: str, tools: list[str]) -> None:
    """The prompt names each tool of the path, first mentions in path order."""
    missing = [tool for tool in tools if f"`{tool}`" not in text]
    assert not missing, f"the prompt never names {missing}"
    firsts = [text.index(f"`{tool}`") for tool in tools]
    assert firsts == sorted(firsts), f"the prompt names the tools in another order than {tools}"


def by_handle(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["tiktok_handle"]: row for row in rows}


# --- the prompts ----------------------------------------------------------------------------------------------

ANALYZE = ["get_agent_context", "get_campaign", "get_campaign_stats", "list_videos", "write_readme"]


async def test_analyze_campaign_surfaces_the_campaign_exclusion_first_then_its_stats_and_top_videos(
    agent: Agent, program: Program
) -> None:
    q1 = str(program.campaigns["q1"])
    text = await agent.prompt("analyze_campaign", campaign_id=q1, focus="shares")
    assert q1 in text and "shares" in text
    assert_names_in_order(text, ANALYZE)

    context = await agent.call("get_agent_context", {"entity_type": "campaign", "entity_id": q1})
    campaign = await agent.call("get_campaign", {"campaign_id": q1})
    stats = await agent.call("get_campaign_stats", {"campaign_id": q1})
    top = await agent.call("list_videos", {"campaign_id": q1, "order": "views_desc", "limit": 5})
    await agent.call("write_readme", {"entity_type": "campaign", "entity_id": q1, "readme": "Excluding @spammy: ..."})
    again = await agent.call("get_agent_context", {"entity_type": "campaign", "entity_id": q1})

    assert agent.path() == ANALYZE
    first = context["chain"][0]
    assert (first["relation"], first["id"], first["description"]) == ("self", q1, seed.CAMPAIGN_DESCRIPTION)
    assert "Exclude @spammy" in first["description"]
    assert [(link["entity_type"], link["description"]) for link in context["chain"][1:]] == [
        ("project", seed.PROJECT_DESCRIPTION)
    ]
    assert context["caveats"] == []  # everything is freshly scraped and nothing waits in the inbox
    assert campaign["target_views"] == 500_000
    assert sorted(item["label"] for item in campaign["items"]) == ["@ana", "@bo", "@spammy", "Hero clips"]
    # 13 + 13 + 2 videos; the Hero clips videos belong to @ana and @bo and count once.
    assert (stats["lifetime"]["videos"], stats["lifetime"]["views"], stats["target_progress_pct"]) == (
        28,
        541_500,
        108.3,
    )
    children = {child["label"]: child for child in stats["children"]}
    assert children["@spammy"]["lifetime"]["views"] == 400_000  # what following the exclusion takes out
    assert stats["lifetime"]["views"] - children["@spammy"]["lifetime"]["views"] == 141_500
    spammy = {str(program.videos["spammy_1"]), str(program.videos["spammy_2"])}
    assert {row["id"] for row in top["items"][:2]} == spammy and top["items"][2]["id"] == str(
        program.videos["bo_w3_thu"]
    )
    assert [row["view_count"] for row in top["items"]] == [200_000, 200_000, 40_000, 16_000, 16_000]
    assert agent.check_untrusted_text() == {"list_videos"}
    assert again["chain"][0]["readme"] == "Excluding @spammy: ..."
    assert again["chain"][0]["description"] == seed.CAMPAIGN_DESCRIPTION  # the agent's notes never touch it


FIND_UNDERPERFORMING = [
    "get_agent_context",
    "get_goal_compliance",
    "get_leaderboard",
    "get_program_health",
    "get_creator",
    "write_readme",
]


async def test_find_underperforming_creators_names_exactly_the_two_seeded_underperformers(
    agent: Agent, program: Program
) -> None:
    project = str(program.project)
    text = await agent.prompt("find_underperforming_creators", project_id=project, period="weekly")
    assert project in text and "weekly" in text
    assert_names_in_order(text, FIND_UNDERPERFORMING)

    context = await agent.call("get_agent_context", {"entity_type": "project", "entity_id": project})
    compliance = await agent.call("get_goal_compliance", {"project_id": project, "period": "weekly"})
    board = await agent.call("get_leaderboard", {"project_id": project, "kind": "creators", "order_by": "views_gained"})
    health = await agent.call("get_program_health", {"project_id": project})
    profiles = {}
    for name in ("cy", "dee"):
        creator = str(program.creators[name])
        profiles[name] = await agent.call("get_creator", {"creator_id": creator})
        await agent.call("get_agent_context", {"entity_type": "creator", "entity_id": creator})
    await agent.call("write_readme", {"entity_type": "project", "entity_id": project, "readme": "@cy, @dee behind"})

    assert agent.path() == FIND_UNDERPERFORMING
    assert context["chain"][0]["description"] == seed.PROJECT_DESCRIPTION
    statuses = {
        group["creator"]["tiktok_handle"]: sorted(goal["status"] for goal in group["compliance"])
        for group in compliance["creators"]
    }
    assert statuses == {
        "ana": ["on_track"],
        "bo": ["on_track"],
        "cy": ["at_risk"],
        "dee": ["at_risk", "at_risk"],
    }
    assert compliance["creators_without_goals"] == 1  # @spammy, whom the description excludes anyway
    advisories = [goal["advisory"] for group in compliance["creators"] for goal in group["compliance"]]
    assert not any(a["scrape_stale"] or a["period_recently_ended"] for a in advisories)  # firm verdicts
    assert [item["label"] for item in board["items"]] == ["@spammy", "@ana", "@bo", "@cy", "@dee"]
    assert [item["views_gained"] for item in board["items"][-2:]] == [300, 150]
    goal_issues = {(item["tiktok_handle"], item["status"]) for item in health["goals"]["items"]}
    assert goal_issues == {("cy", "at_risk"), ("cy", "missed"), ("dee", "at_risk"), ("dee", "missed")}
    seeded_goals = {program.goals[g] for g in ("cy_posts", "dee_posts", "dee_views")}
    assert {uuid.UUID(item["goal_id"]) for item in health["goals"]["items"]} == seeded_goals
    assert health["creators"]["count"] == 0 and health["over_posting"]["recent_count"] == 0
    assert profiles["cy"]["bio"] == seed.INJECTED_BIO and profiles["cy"]["is_active"]
    assert agent.check_untrusted_text() == {"get_creator"}


CONTENT = ["get_agent_context", "list_videos", "get_video", "write_readme", "write_metadata"]


async def test_content_analysis_pages_every_campaign_video_and_sees_captions_only_inside_fences(
    agent: Agent, program: Program
) -> None:
    q1 = str(program.campaigns["q1"])
    outlier, injected = str(program.videos["bo_w3_thu"]), str(program.videos["ana_w6_mon"])
    text = await agent.prompt("content_analysis", campaign_id=q1)
    assert q1 in text
    assert_names_in_order(text, CONTENT)

    context = await agent.call("get_agent_context", {"entity_type": "campaign", "entity_id": q1})
    rows: list[dict[str, Any]] = []
    pages = 0
    cursor = None
    while True:
        page = await agent.call(
            "list_videos",
            {"campaign_id": q1, "order": "views_desc", "limit": 10, **({"cursor": cursor} if cursor else {})},
        )
        rows += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    standout = await agent.call("get_video", {"video_id": outlier})
    flagged = await agent.call("get_agent_context", {"entity_type": "video", "entity_id": outlier})
    full_caption = await agent.call("get_video", {"video_id": injected})
    await agent.call("write_readme", {"entity_type": "campaign", "entity_id": q1, "readme": "Dance and looks win."})
    tagged = await agent.call(
        "write_metadata", {"entity_type": "video", "entity_id": outlier, "patch": {"theme": "dance", "outlier": True}}
    )

    assert agent.path() == CONTENT
    assert "@spammy" in context["chain"][0]["description"]
    tree = {vid for name, vid in program.videos.items() if name.startswith(("ana", "bo", "spammy"))}
    assert pages == 3 and len(rows) == len(tree) == 28
    assert {uuid.UUID(row["id"]) for row in rows} == tree
    views = [row["view_count"] for row in rows]
    assert views == sorted(views, reverse=True) and views[:3] == [200_000, 200_000, 40_000]
    assert (standout["view_count"], standout["description"]) == (40_000, seed.OUTLIER_DESCRIPTION)
    chain = [
        (link["relation"], link["label"] if link["entity_type"] != "video" else "self") for link in flagged["chain"]
    ]
    assert chain == [
        ("self", "self"),
        ("creator", "@bo"),
        ("campaign", "Hero clips"),
        ("campaign", "Q1 push"),
        ("project", "Acme program"),
    ]
    assert flagged["chain"][0]["description"] == seed.OUTLIER_DESCRIPTION
    assert full_caption["caption"] == seed.INJECTED_CAPTION
    assert tagged["metadata"] == {"theme": "dance", "outlier": True}
    # The caption reached the model in list_videos and get_video, and only inside their fences.
    assert agent.check_untrusted_text() == {"list_videos", "get_video"}


TREND = ["get_agent_context", "get_analytics", "get_leaderboard", "write_readme"]


def points(series: dict[str, Any], since: str = "") -> list[tuple[str, Any, bool]]:
    """The buckets of a get_analytics result as (start, value, partial), from `since` on."""
    columns = series["buckets"]
    rows = zip(columns["start"], columns["value"], columns["partial"], strict=True)
    return [row for row in rows if row[0] >= since]


async def test_trend_analysis_shows_the_rising_creator_doubling_weekly_and_marks_partial_buckets(
    agent: Agent, program: Program
) -> None:
    ana = str(program.creators["ana"])
    text = await agent.prompt("trend_analysis", entity_type="creator", entity_id=ana, metric="views")
    assert ana in text and "creator" in text
    assert_names_in_order(text, TREND)

    context = await agent.call("get_agent_context", {"entity_type": "creator", "entity_id": ana})
    base = {"entity_type": "creator", "entity_id": ana, "metric": "views"}
    weekly = await agent.call("get_analytics", {**base, "granularity": "week", "mode": "new", "from": "2025-12-11"})
    daily = await agent.call("get_analytics", {**base, "granularity": "day", "mode": "new"})
    growth = await agent.call(
        "get_analytics",
        {**base, "metric": "growth_rate_pop", "base_metric": "views", "granularity": "week", "from": "2025-12-11"},
    )
    quality = await agent.call(
        "get_analytics", {**base, "metric": "engagement_rate_by_views", "granularity": "week", "from": "2026-01-26"}
    )
    videos = await agent.call(
        "get_leaderboard", {"project_id": str(program.project), "kind": "videos", "order_by": "views_gained"}
    )
    await agent.call("write_readme", {"entity_type": "creator", "entity_id": ana, "readme": "Doubling every week."})

    assert agent.path() == TREND
    assert [link["label"] for link in context["chain"]] == ["@ana", "Q1 push", "Acme program"]
    assert context["chain"][0]["description"] == seed.ANA_DESCRIPTION
    # No data before her first post is null, not zero; then 1,000 .. 32,000 a week; this week is in progress.
    assert {value for start, value, _ in points(weekly) if start < "2026-01-26"} == {None}
    full_weeks = [(w.isoformat(), views, False) for w, views in zip(seed.WEEKS, seed.ANA_WEEKLY, strict=False)]
    assert points(weekly, "2026-01-26") == [*full_weeks, ("2026-03-09", seed.ANA_THIS_WEEK, True)]
    assert weekly["buckets"]["why"][-1] == ["in_progress"]
    # The scrape outage of 02-17/18 is reported as partial days, and their growth shows up on 02-19, not as a drop.
    # (7 of her videos were posted before; the Monday video of 02-16 gains its 4,000 views between 02-16 and 02-19.)
    columns = daily["buckets"]
    days = dict(
        zip(columns["start"], zip(columns["value"], columns["partial"], columns["why"], strict=True), strict=True)
    )
    assert [days[day] for day in ("2026-02-17", "2026-02-18")] == [(0, True, ["videos_not_scraped:7"])] * 2
    assert days["2026-02-19"] == (4000, False, None)
    assert daily["total"] == sum(seed.ANA_WEEKLY[2:]) + seed.ANA_THIS_WEEK
    assert [value for _, value, partial in points(growth, "2026-02-02") if not partial] == [100.0] * 5
    assert [value for _, value, partial in points(quality) if not partial] == [10.0] * 6
    leaders = [item["id"] for item in videos["items"] if item["creator_id"] == ana]
    assert set(leaders[:2]) == {str(program.videos["ana_w6_mon"]), str(program.videos["ana_w6_thu"])}
    assert agent.check_untrusted_text() == {"get_leaderboard"}


WEEKLY_REVIEW = [
    "get_agent_context",
    "list_payout_structures",
    "get_payout_structure",
    "get_payout_balance",
    "list_payout_accruals",
    "preview_accruals",
    "get_job_status",
    "write_readme",
]


async def test_weekly_payout_review_lists_what_each_creator_is_owed_and_what_the_next_runs_add(
    agent: Agent, program: Program
) -> None:
    project = str(program.project)
    text = await agent.prompt("weekly_payout_review", project_id=project)
    assert project in text and "`include_inputs: true`" in text
    assert_names_in_order(text, WEEKLY_REVIEW)

    context = await agent.call("get_agent_context", {"entity_type": "project", "entity_id": project})
    listed = await agent.call("list_payout_structures", {"project_id": project})
    rules = {
        s["name"]: (await agent.call("get_payout_structure", {"structure_id": s["id"]}))["current_version"]
        for s in listed["items"]
        if s["is_active"]
    }
    balance = await agent.call("get_payout_balance", {"project_id": project})
    earned = await agent.call(
        "list_payout_accruals", {"project_id": project, "status": "earned", "include_inputs": True}
    )
    preview = await agent.call("preview_accruals", {"project_id": project})
    jobs = await agent.call("get_job_status", {"project_id": project})
    await agent.call("write_readme", {"entity_type": "project", "entity_id": project, "readme": "Review of week 10"})

    assert agent.path() == WEEKLY_REVIEW
    assert "Dana approves" in context["chain"][0]["description"]
    assert {
        name: (r["criteria_type"], r["amount_cents"], r["proration_mode"], r["version"]) for name, r in rules.items()
    } == {
        "Weekly retainer": ("recurring", 5000, "none", 1),
        "Goal bonus": ("goals", 2000, "skip_partial", 1),
    }
    rows = {
        handle: (
            row["owed_cents"],
            row["credit_cents"],
            row["net_cents"],
            (row["oldest_unpaid_period_start_at"] or "")[:10],
        )
        for handle, row in by_handle(balance["creators"]).items()
    }
    assert rows == {
        "ana": (12_000, 0, 12_000, "2026-02-23"),
        "bo": (0, 3000, -3000, ""),  # paid in full with 30 $ too much: a credit the next accruals use first
        "cy": (45_000, 0, 45_000, "2026-01-05"),
    }
    assert (balance["owed_cents"], balance["credit_cents"], balance["net_cents"]) == (57_000, 3000, 54_000)
    owed: dict[str, int] = {}
    for row in earned["items"]:
        owed[row["tiktok_handle"]] = owed.get(row["tiktok_handle"], 0) + row["outstanding_cents"]
    assert owed == {"ana": 12_000, "cy": 45_000} and earned["next_cursor"] is None
    assert all(
        row["inputs_snapshot"] is not None and not row["inputs_snapshot"].get("stale") for row in earned["items"]
    )
    upcoming = {
        (i["tiktok_handle"], i["structure_name"], i["period_start_at"][:10], i["state"], i["amount_cents"])
        for i in preview["items"]
    }
    assert upcoming == {
        ("ana", "Goal bonus", "2026-03-02", "scheduled", 2000),  # both posted twice last week: due 48 h after it
        ("bo", "Goal bonus", "2026-03-02", "scheduled", 2000),
        ("ana", "Goal bonus", "2026-03-09", "open", 0),  # one post so far this week
        ("bo", "Goal bonus", "2026-03-09", "open", 0),
        ("ana", "Weekly retainer", "2026-03-09", "open", 5000),
        ("bo", "Weekly retainer", "2026-03-09", "open", 5000),
        ("cy", "Weekly retainer", "2026-03-09", "open", 5000),
    }
    assert preview["total_cents"] == {"scheduled": 4000, "open": 15_000}
    accrual_job = next(job for job in jobs["jobs"] if job["job"] == "accruals")
    assert accrual_job["runs"][0]["status"] == "ok" and accrual_job["runs"][0]["finished_at"] is not None
    assert jobs["stale_creator_count"] == 0
    assert agent.check_untrusted_text() == set()


AUDIT = [
    "get_agent_context",
    "get_payout_balance",
    "list_payout_accruals",
    "list_payout_payments",
    "get_creator",
    "list_payout_methods",
    "write_readme",
]


async def test_audit_unpaid_creators_finds_the_old_balance_with_its_oldest_period_and_the_bounced_payment(
    agent: Agent, program: Program, clock: FrozenClock
) -> None:
    project = str(program.project)
    text = await agent.prompt("audit_unpaid_creators", project_id=project, older_than_days=30)
    assert project in text and "30" in text and "`include_inactive: true`" in text
    assert_names_in_order(text, AUDIT)

    await agent.call("get_agent_context", {"entity_type": "project", "entity_id": project})
    balance = await agent.call("get_payout_balance", {"project_id": project})
    cutoff = clock.now().date().toordinal() - 30
    overdue = [
        row
        for row in balance["creators"]
        if row["oldest_unpaid_period_start_at"]
        and date.fromisoformat(row["oldest_unpaid_period_start_at"][:10]).toordinal() < cutoff
    ]
    assert [(row["tiktok_handle"], row["oldest_unpaid_period_start_at"]) for row in overdue] == [
        ("cy", "2026-01-05T00:00:00Z")
    ]
    cy = overdue[0]["creator_id"]
    owed = await agent.call("list_payout_accruals", {"creator_id": cy, "status": "earned"})
    paid = await agent.call("list_payout_payments", {"creator_id": cy})
    profile = await agent.call("get_creator", {"creator_id": cy})
    active = await agent.call("list_payout_methods", {})
    every = await agent.call("list_payout_methods", {"include_inactive": True})
    await agent.call("write_readme", {"entity_type": "project", "entity_id": project, "readme": "@cy: bounced"})

    assert agent.path() == AUDIT
    assert cy == str(program.creators["cy"]) and overdue[0]["owed_cents"] == 45_000
    assert [row["period_start_at"][:10] for row in owed["items"]][:2] == ["2026-01-05", "2026-01-12"]
    assert (len(owed["items"]), sum(row["outstanding_cents"] for row in owed["items"])) == (9, 45_000)
    assert [(p["id"], p["status"], p["method_name_snapshot"], p["total_amount_cents"]) for p in paid["items"]] == [
        (str(program.payments["cy_bounced"]), "voided", "Cash App", 45_000)
    ]
    assert profile["is_active"] and profile["disabled_reason"] is None
    assert "Cash App" not in {m["name"] for m in active["items"]}
    assert {m["name"]: m["is_active"] for m in every["items"]} == {"Cash App": False, "PayPal": True, "Venmo": True}
    assert agent.check_untrusted_text() == {"get_creator"}


SQLITE_ONLY = pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)
"""For checks of what a tool's text looks like, which does not depend on the backend."""


@SQLITE_ONLY
async def test_audit_reads_why_the_payment_was_voided(agent: Agent, program: Program) -> None:
    paid = await agent.call("list_payout_payments", {"creator_id": str(program.creators["cy"]), "status": "voided"})

    assert paid["items"][0].get("void_reason") == seed.VOID_REASON


@SQLITE_ONLY
async def test_get_video_and_get_creator_show_the_people_s_description_outside_the_untrusted_fence(
    agent: Agent, program: Program
) -> None:
    video = await agent.client.call_tool("get_video", {"video_id": str(program.videos["bo_w3_thu"])})
    creator = await agent.client.call_tool("get_creator", {"creator_id": str(program.creators["ana"])})

    for result, description in ((video, seed.OUTLIER_DESCRIPTION), (creator, seed.ANA_DESCRIPTION)):
        fenced = unfence(text_of(result))
        assert json.loads(fenced.json_text)["description"] == description  # as sent: not wrapped in the fence tags
        assert not any(description in value for value in fenced.inside)


RECORD = ["get_agent_context", "get_payout_balance", "list_payout_methods", "create_payout_payment"]


async def test_record_payment_settles_the_oldest_accruals_first_exactly_once_and_leaves_nothing_owed(
    agent: Agent, program: Program
) -> None:
    ana = str(program.creators["ana"])
    text = await agent.prompt("record_payment", creator_id=ana, amount_cents=5000, method="PayPal")
    assert ana in text and "5000" in text and "PayPal" in text
    assert_names_in_order(text, RECORD)

    context = await agent.call("get_agent_context", {"entity_type": "creator", "entity_id": ana})
    before = await agent.call("get_payout_balance", {"creator_id": ana})
    methods = {m["name"]: m["id"] for m in (await agent.call("list_payout_methods", {}))["items"]}
    payment = {
        "project_id": before["project_id"],
        "creator_id": ana,
        "method_id": methods["PayPal"],
        "auto_apply_outstanding": True,
        "total_amount_cents": 5000,
        "idempotency_key": "pay-ana-1",
    }
    first = await agent.call("create_payout_payment", payment)
    retry = await agent.call("create_payout_payment", payment)
    reused = await agent.refused("create_payout_payment", {**payment, "total_amount_cents": 6000})
    between = await agent.call("get_payout_balance", {"creator_id": ana})
    # The same prompt again without an amount: pay the rest.
    rest_text = await agent.prompt("record_payment", creator_id=ana, method="PayPal")
    rest = await agent.call(
        "create_payout_payment",
        {**{k: v for k, v in payment.items() if k != "total_amount_cents"}, "idempotency_key": "pay-ana-2"},
    )
    after = await agent.call("get_payout_balance", {"creator_id": ana})
    cash_app = await agent.refused(
        "create_payout_payment",
        {**payment, "method_id": str(program.methods["Cash App"]), "idempotency_key": "pay-ana-3"},
    )

    assert agent.path() == RECORD
    assert "PayPal" in context["chain"][0]["description"]
    assert (before["owed_cents"], before["oldest_unpaid_period_start_at"]) == (12_000, "2026-02-23T00:00:00Z")
    assert first["total_amount_cents"] == 5000 and first["payout_adjustments"] == []
    assert {line["period_start_at"][:10] for line in first["payout_payment_lines"]} == {
        "2026-02-23"
    }  # the oldest week first
    assert sum(line["applied_amount_cents"] for line in first["payout_payment_lines"]) == 5000
    assert (retry["id"], retry["replayed"], first["replayed"]) == (first["id"], True, False)
    assert "[idempotency_key_reused]" in reused
    assert between["owed_cents"] == 7000
    assert "(not given)" in rest_text
    assert (
        rest["total_amount_cents"] == 7000
        and sum(line["applied_amount_cents"] for line in rest["payout_payment_lines"]) == 7000
    )
    assert "2026-03-02" in {line["period_start_at"][:10] for line in rest["payout_payment_lines"]}
    assert (after["owed_cents"], after["credit_cents"], after["net_cents"], after["earned_accrual_count"]) == (
        0,
        0,
        0,
        0,
    )
    assert after["oldest_unpaid_period_start_at"] is None
    assert "[method_inactive] Payout method 'Cash App'" in cash_app  # disabled methods receive no payments
    assert agent.check_untrusted_text() == set()


ONBOARD = [
    "get_agent_context",
    "add_creators",
    "get_job_status",
    "create_goal",
    "list_payout_structures",
    "create_payout_structure",
    "assign_payout_structure",
    "preview_accruals",
    "get_goal_compliance",
    "write_readme",
]


async def test_onboard_creator_with_goal_payout_links_the_creator_goal_structure_and_preview(
    agent: Agent, program: Program
) -> None:
    project = str(program.project)
    text = await agent.prompt(
        "onboard_creator_with_goal_payout",
        project_id=project,
        handle="@newbie",
        goal="4 posts per week",
        amount_cents=2500,
    )
    assert project in text and "@newbie" in text and "4 posts per week" in text and "2500" in text
    assert "`until`" in text
    assert_names_in_order(text, ONBOARD)

    await agent.call("get_agent_context", {"entity_type": "project", "entity_id": project})
    added = await agent.call("add_creators", {"project_id": project, "handles": ["@newbie"]})
    newbie = added["results"][0]["creator_id"]
    jobs = await agent.call("get_job_status", {"project_id": project})
    goal = await agent.call(
        "create_goal", {"creator_id": newbie, "metric": "posts", "period": "weekly", "target_value": 4}
    )
    existing = await agent.call("list_payout_structures", {"project_id": project})
    fits = [
        s
        for s in existing["items"]
        if (s["criteria_type"], s["period"], s["amount_cents"]) == ("goals", "weekly", 2500)
    ]
    structure = await agent.call(
        "create_payout_structure",
        {
            "project_id": project,
            "name": "Goal bonus 4 posts",
            "period": "weekly",
            "amount_cents": 2500,
            "criteria_type": "goals",
            "proration_mode": "skip_partial",
        },
    )
    assigned = await agent.call("assign_payout_structure", {"structure_id": structure["id"], "creator_ids": [newbie]})
    preview = await agent.call("preview_accruals", {"creator_id": newbie, "until": "2026-03-24T00:00:00Z"})
    compliance = await agent.call("get_goal_compliance", {"project_id": project, "creator_id": newbie})
    await agent.call("write_readme", {"entity_type": "creator", "entity_id": newbie, "readme": "Onboarded 03-10"})

    assert agent.path() == ONBOARD
    assert [(r["tiktok_handle"], r["outcome"]) for r in added["results"]] == [("newbie", "created")]
    assert {(c["tiktok_handle"], c["never_scraped"]) for c in jobs["stale_creators"]} == {("newbie", True)}
    assert (goal["creator_id"], goal["metric"], goal["period"], goal["target_value"], goal["start_date"]) == (
        newbie,
        "posts",
        "weekly",
        4.0,
        "2026-03-10",
    )
    assert {uuid.UUID(s["id"]) for s in existing["items"]} == set(program.structures.values())
    assert fits == []  # the seeded goal bonus pays 2,000, not 2,500: a new structure is needed
    assert structure["current_version"]["version"] == 1
    assert [(r["creator_id"], r["outcome"]) for r in assigned["results"]] == [(newbie, "assigned")]
    periods = [
        (i["structure_id"], i["creator_id"], i["structure_version"], i["period_start_at"][:10], i["state"])
        for i in preview["items"]
    ]
    assert periods == [
        (structure["id"], newbie, 1, "2026-03-09", "open"),
        (structure["id"], newbie, 1, "2026-03-16", "scheduled"),
    ]
    first = preview["items"][0]
    assert (first["days_covered"], first["days_in_period"], first["amount_cents"]) == (6, 7, 0)  # skip_partial
    [group] = compliance["creators"]
    assert group["creator"]["id"] == newbie
    assert [(g["goal"]["id"], g["status"]) for g in group["compliance"]] == [(goal["id"], "at_risk")]
    assert group["compliance"][0]["advisory"]["scrape_stale"]  # never scraped yet: a provisional verdict
    assert agent.check_untrusted_text() == set()
