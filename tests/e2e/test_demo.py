"""`trackagoat-mcp demo` runs offline from start to end and leaves a store an agent can explore."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import pytest
from sqlalchemy import func, select

from tests.e2e.support import child_env, describe_result, run_cli
from trackagoat_mcp.db.models import (
    Creator,
    CreatorSnapshot,
    Goal,
    PayoutPayment,
    PayoutStructure,
    Video,
    VideoSnapshot,
)
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.demo import STRUCTURES

pytestmark = pytest.mark.slow


async def test_the_demo_fills_a_store_from_the_simulated_site_and_shows_an_mcp_session(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    env = child_env(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"
    )  # the demo must not touch the configured store

    result = await anyio.to_thread.run_sync(lambda: run_cli(["demo", "--database-url", url], env, timeout=90))

    shown = describe_result(result)
    assert result.returncode == 0, shown
    out = result.stdout
    assert "12 creators (@laughs_lee selective), 4 nested campaigns" in out, shown
    assert re.search(r"Scraped 4 daily cycles .*: [1-9]\d* videos discovered, \d+ video snapshots, failures: 0", out)
    assert "> list_creators → 12 creators" in out
    assert re.search(r"> get_campaign_stats 'Spring launch' → [\d,]+ views on [1-9]\d* videos", out), shown
    assert re.search(r"> scrape_now @\S+ \(.*progress 1/1\) → followers ([\d,]+) → (?!\1\b)[\d,]+", out), shown
    assert "scrape_now used 1 of 20 today" in out
    assert re.search(
        r"Set 8 weekly goals for 4 creators and 4 weekly payout structures \(recurring, goals, cpm, view_threshold\)"
        r".*accrual run: [1-9]\d* creator-weeks evaluated, [1-9]\d* accrued \(\$[\d,]+\.\d\d\)",
        out,
    ), shown
    # Early in a week (the demo's week is UTC) each line leads with the week just completed.
    compliance = re.findall(
        r"^ {4}@\S+ +(?:last week: )?(?:posts|views) [\d,—]+/[\d,]+ \w+, (?:posts|views) .*$", out, re.M
    )
    assert "> get_goal_compliance weekly → 4 creators with goals" in out and len(compliance) == 4, shown
    assert re.search(r"> get_leaderboard creators by views .* → top 5\n {4}1\. @\S+ +[\d,]+ views on \d+ posts", out)
    assert re.search(r"> get_program_health → \d+ creators need attention, .*\$[\d,]+\.\d\d unpaid to 11 creators", out)
    assert "> list_payout_structures → 4 structures" in out, shown
    for kind in ("recurring", "goals", "cpm", "view_threshold"):
        assert re.search(rf"^ {{4}}.+ {kind} +weekly +\$[\d,]+\.\d\d +\d+ creators$", out, re.M), kind
    owed = re.search(r"> get_payout_balance project → \$([\d,]+\.\d\d) owed on [1-9]\d* accruals to 11 creators", out)
    paid = re.search(r"> create_payout_payment @\S+ via .*, auto_apply_outstanding → \$([\d,]+\.\d\d) on (\d+)", out)
    left = re.search(r"> get_payout_balance @\S+ → \$0\.00 owed; project now \$([\d,]+\.\d\d) owed", out)
    assert owed and paid and left, shown
    dollars = [float(m.group(1).replace(",", "")) for m in (owed, paid, left)]
    assert dollars[1] > 0 and round(dollars[0] - dollars[1], 2) == dollars[2], dollars
    names = "|".join(re.escape(name) for name, *_ in STRUCTURES)
    lines = re.findall(rf"^ {{4}}(?:{names}) +week of \d{{4}}-\d\d-\d\d +\$[\d,]+\.\d\d$", out, re.M)
    assert len(lines) == int(paid.group(2)), shown
    assert len({line.rsplit("$", 1)[0] for line in lines}) == len(lines), "each line names its structure and week"
    # Both confirmation flows: the person approves the first payment through elicitation, the second is confirmed
    # with a token by a client without elicitation.
    asked = re.search(
        r"\[elicitation\] .*\n {4}\| Approve this change\?.*\n(?: {4}\|.*\n)*? {4}\| Record a payment of "
        r"\d+ cents \(\$([\d,]+\.\d\d)\) to @\S+ by ",
        out,
    )
    assert asked and asked.group(1) == paid.group(1), shown
    token = re.search(
        r"> create_payout_payment @\S+ → \[confirmation_required\], nothing written; token valid until", out
    )
    confirmed = re.search(r"> create_payout_payment \+ confirmation_token → \$[\d,]+\.\d\d on [1-9]\d* accruals", out)
    assert token and confirmed, shown
    assert f"TRACKAGOAT_DATABASE_URL={url} " in out and "serve --no-jobs" in out
    assert "Traceback" not in result.stderr, shown

    db = Database.connect(url)
    async with db.read() as session:
        counts = [
            (await session.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Creator, Video, CreatorSnapshot, VideoSnapshot, Goal, PayoutStructure, PayoutPayment)
        ]
    await db.dispose()
    creators, videos, creator_snapshots, video_snapshots, goals, structures, payments = counts
    assert (goals, structures, payments) == (8, 4, 2)
    assert creators == 12 and videos > 12
    assert creator_snapshots == 12 * 4 + 1, "four daily cycles for everyone, then one scrape_now"
    assert video_snapshots > videos, "videos have a history, not just one snapshot each"
    assert not (tmp_path / "unused.db").exists()
