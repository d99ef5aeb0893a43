"""The browser fetcher on the machine's real Chromium, against the simulated site served on loopback.

The site's `script_challenge` fault answers a "Please wait…" page whose script works out a pass cookie, sets it
and reloads: the plain client never gets past it, headless Chromium does. One Chromium is launched for the whole
module (through a local forwarding proxy, with cookies, so those settings are tested in the browser too).

Without Chromium (or Playwright) these tests skip, saying why; with `TRACKAGOAT_REQUIRE_CHROMIUM=1` (CI) they fail
instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest

from tests.chromium import EXECUTABLE, unavailable
from tests.conftest import make_org
from tests.jobs.conftest import SETTINGS, add_creator
from tests.jobs.support import creator_row
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.demo import serve_site
from trackagoat_mcp.errors import Blocked
from trackagoat_mcp.jobs.scraper import run_scrape_cycle
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess
from trackagoat_mcp.tiktok.browser import BrowserFetcher, browser_available
from trackagoat_mcp.tiktok.client import BROWSER_HEADERS, TikTokClient
from trackagoat_mcp.tiktok.outbound import OutboundCookie
from trackagoat_mcp.tiktok.sim import Fault, SimulatedTikTok

from .forward_proxy import ForwardProxy, forward_proxy


@pytest.fixture(scope="module")
def anyio_backend(sqlite_template: Path) -> str:
    # One event loop for the module, so one Chromium serves every test. The migrated SQLite template is made
    # first: it runs its own event loop, which it cannot do inside this one.
    return "asyncio"


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    """A real SQLite store (this module's loop outlives tests, so it keeps to SQLite, made without a loop)."""
    return sqlite_db


@pytest.fixture(scope="module")
async def proxy(anyio_backend: str) -> AsyncIterator[ForwardProxy]:
    async with forward_proxy() as running:
        yield running


@pytest.fixture(scope="module")
async def browser(proxy: ForwardProxy) -> AsyncIterator[BrowserFetcher]:
    reason = browser_available(EXECUTABLE)
    if reason is not None:
        unavailable(f"browser fetcher tests need Chromium and Playwright: {reason}")
    fetcher = BrowserFetcher(
        executable=EXECUTABLE,
        proxy=proxy.url,
        cookies=[OutboundCookie("ttwid", "from-settings", "127.0.0.1")],
        user_agent=BROWSER_HEADERS["User-Agent"],
        timeout=20.0,
        no_sandbox=os.geteuid() == 0,
    )
    try:
        yield fetcher
    finally:
        await fetcher.aclose()


def make(http: httpx2.AsyncClient, base_url: str, clock: FrozenClock, browser: BrowserFetcher | None) -> TikTokClient:
    return TikTokClient(http, base_url=base_url, rate=None, max_attempts=1, timeout=20.0, clock=clock, browser=browser)


async def test_a_script_challenge_stops_the_plain_client_and_the_browser_reads_the_page(
    browser: BrowserFetcher, proxy: ForwardProxy, sim: SimulatedTikTok, clock: FrozenClock
) -> None:
    alice = sim.account("alice")
    post = alice.videos[1]
    sim.set_fault(Fault("script_challenge", seed=uuid.uuid4().hex), handle="alice")
    async with serve_site(sim) as base_url, httpx2.AsyncClient() as http:
        with pytest.raises(Blocked) as plain:
            await make(http, base_url, clock, None).fetch_profile("alice")
        client = make(http, base_url, clock, browser)
        before = len(proxy.forwarded)
        profile = await client.fetch_profile("alice")
        video = await client.fetch_video("alice", post.video_id)
        listing = await client.fetch_videos(alice.sec_uid)

    assert plain.value.reason == "challenge"
    assert profile.ok and profile.data is not None and profile.blocked_by == "challenge"
    assert (profile.data.follower_count, profile.data.video_count) == (12_000, 3)
    assert video.ok and video.data is not None and video.data.play_count == post.plays_at(clock.now())
    assert listing.ok and listing.data is not None and len(listing.data.videos) == 3
    # The plain client alone; then the plain client and Chromium twice (the challenge, the reload with its cookie).
    assert sim.count("/@alice") == 4
    browsed = proxy.forwarded[before:]
    assert {"/@alice", f"/@alice/video/{post.video_id}", "/api/creator/item_list/"} <= {p.path for p in browsed}
    assert all("ttwid=from-settings" in p.headers.get("cookie", "") for p in browsed)


async def test_a_whole_cycle_gets_through_with_the_browser_and_counts_the_blocks(
    browser: BrowserFetcher, sim: SimulatedTikTok, clock: FrozenClock, db: Database
) -> None:
    caller, project_id = await make_org(db, clock)
    alice_id = await add_creator(db, clock, caller, project_id, "alice", "auto")
    sim.set_fault(Fault("script_challenge", seed=uuid.uuid4().hex), handle="alice")
    async with serve_site(sim) as base_url, httpx2.AsyncClient() as http:
        report = await run_scrape_cycle(db, make(http, base_url, clock, browser), clock, SETTINGS, worker_id="browser")
        clock.advance(timedelta(hours=7))
        again = await run_scrape_cycle(db, make(http, base_url, clock, browser), clock, SETTINGS, worker_id="browser")

    row = await creator_row(db, alice_id)
    assert (row.scrape_state, row.follower_count, row.video_count) == ("ok", 12_070, 4)  # a post went up meanwhile
    blocks = report.blocks_json()
    assert not report.failures and (blocks["blocked"], blocks["browser_passed"]) == (2, 2)
    assert blocks["by_kind"] == {"challenge": 2} and blocks["browser_fetcher"] is True
    assert "read every one" in blocks["hint"]
    # The pass cookie lives in the browser context: the next cycle's pages pass at the first load.
    assert not again.failures and again.browser_passed == 2


async def test_a_login_wall_is_not_tried_in_the_browser(
    browser: BrowserFetcher, sim: SimulatedTikTok, clock: FrozenClock
) -> None:
    sim.set_fault("login_redirect", handle="alice")
    pages = browser.pages
    async with serve_site(sim) as base_url, httpx2.AsyncClient() as http:
        with pytest.raises(Blocked) as caught:
            await make(http, base_url, clock, browser).fetch_profile("alice")

    assert caught.value.code == "login_required" and browser.pages == pages


async def test_without_chromium_the_block_stands_and_says_why(sim: SimulatedTikTok, clock: FrozenClock) -> None:
    missing = BrowserFetcher(executable="/nonexistent/chromium", timeout=5.0)
    sim.set_fault("challenge", handle="alice")
    async with serve_site(sim) as base_url, httpx2.AsyncClient() as http:
        with pytest.raises(Blocked) as caught:
            await make(http, base_url, clock, missing).fetch_profile("alice")

    assert caught.value.reason == "challenge" and "browser fetcher did not get past it" in caught.value.message
    assert not missing.running


async def test_the_access_object_hands_the_browser_to_the_client_and_closes_it(
    sim: SimulatedTikTok, clock: FrozenClock
) -> None:
    sim.set_fault("empty_shell", handle="alice")
    async with serve_site(sim) as base_url:
        settings = Settings(
            database_url="sqlite+aiosqlite:///unused.db",
            tiktok_base_url=base_url,
            browser_fetcher=True,
            browser_executable="/nonexistent/chromium",
        )
        access = TikTokAccess(settings, rate=None, clock=clock, max_attempts=1)
        client = access.client()
        try:
            with pytest.raises(Blocked) as caught:
                await client.fetch_profile("alice")
        finally:
            await access.aclose()

    assert client.uses_browser and access.browser is None
    assert caught.value.reason == "shell" and "No browser at '/nonexistent/chromium'" in caught.value.message
