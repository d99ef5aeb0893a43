"""`trackagoat-mcp demo` runs offline from start to end and leaves a store an agent can explore."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import pytest
from sqlalchemy import func, select

from tests.e2e.support import child_env, describe_result, run_cli
from trackagoat_mcp.db.models import Creator, CreatorSnapshot, Video, VideoSnapshot
from trackagoat_mcp.db.session import Database

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
    assert f"TRACKAGOAT_DATABASE_URL={url} " in out and "serve --no-jobs" in out
    assert "Traceback" not in result.stderr, shown

    db = Database.connect(url)
    async with db.read() as session:
        counts = [
            (await session.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Creator, Video, CreatorSnapshot, VideoSnapshot)
        ]
    await db.dispose()
    creators, videos, creator_snapshots, video_snapshots = counts
    assert creators == 12 and videos > 12
    assert creator_snapshots == 12 * 4 + 1, "four daily cycles for everyone, then one scrape_now"
    assert video_snapshots > videos, "videos have a history, not just one snapshot each"
    assert not (tmp_path / "unused.db").exists()
