"""The TikTok client against the simulated site: retries, pacing, concurrency, classification, short links.

Time is fake: the client sleeps through `FakeTime.sleep`, which records each wait, so the assertions are on the
delays it asked for and on how many requests the site saw.
"""

from __future__ import annotations

import random
from datetime import timedelta
from email.utils import format_datetime

import anyio
import anyio.lowlevel
import httpx2
import pytest

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.errors import Blocked, InvalidInput, NotFound, RateLimited, Unavailable
from trackagoat_mcp.tiktok.client import TikTokClient, TokenBucket
from trackagoat_mcp.tiktok.sim import Fault, FaultKind, SimAccount, SimulatedTikTok
from trackagoat_mcp.tiktok.sim_pages import render_profile_page

from .conftest import BASE_URL, FakeTime, MidRandom


def make_client(http: httpx2.AsyncClient, fake_time: FakeTime, clock: FrozenClock, **options: object) -> TikTokClient:
    settings: dict[str, object] = {
        "base_url": BASE_URL,
        "rate": None,
        "max_attempts": 3,
        "timeout": 5.0,
        "clock": clock,
        "monotonic": fake_time.monotonic,
        "sleep": fake_time.sleep,
        "rng": MidRandom(),
        **options,
    }
    return TikTokClient(http, **settings)  # type: ignore[arg-type]


# --- happy path --------------------------------------------------------------------------------------------


async def test_profile_fetch_sends_browser_headers_and_keeps_cookies(
    client: TikTokClient, sim: SimulatedTikTok
) -> None:
    first = await client.fetch_profile("@Alice")
    await client.fetch_profile("alice")

    assert first.state == "ok" and first.data is not None and first.data.handle == "alice"
    assert "Chrome/" in sim.last_headers["user-agent"]
    assert sim.last_headers["accept-language"].startswith("en-US")
    assert "ttwid=" in sim.last_headers["cookie"]  # set by the first answer, sent with the second


async def test_video_fetch_works_without_knowing_the_author(client: TikTokClient, sim: SimulatedTikTok) -> None:
    posted = sim.account("alice").videos[0]

    result = await client.fetch_video(None, posted.video_id)

    assert result.data is not None
    assert (result.data.video_id, result.data.author_handle) == (posted.video_id, "alice")


async def test_item_list_pages_back_through_every_post(client: TikTokClient, sim: SimulatedTikTok) -> None:
    alice = sim.account("alice")
    seen: list[str] = []
    cursor = None
    while True:
        result = await client.fetch_videos(alice.sec_uid, cursor, count=2)
        assert result.data is not None
        seen += [v.video_id for v in result.data.videos]
        if not result.data.has_more:
            break
        cursor = result.data.cursor

    assert seen == [v.video_id for v in reversed(alice.videos[:3])]
    assert sim.count("/api/creator/item_list/") == 2


async def test_bad_input_is_refused_before_any_request(client: TikTokClient, sim: SimulatedTikTok) -> None:
    with pytest.raises(InvalidInput, match="'no spaces!' is not a TikTok handle"):
        await client.fetch_profile("no spaces!")
    with pytest.raises(InvalidInput, match="'12ab'"):
        await client.fetch_video("alice", "12ab")
    with pytest.raises(InvalidInput, match="secUid"):
        await client.fetch_videos(" ")

    assert sum(sim.requests.values()) == 0


# --- retries -----------------------------------------------------------------------------------------------


async def test_429_is_retried_after_the_retry_after_seconds(
    client: TikTokClient, sim: SimulatedTikTok, fake_time: FakeTime
) -> None:
    sim.set_fault(Fault("rate_limited", times=2, retry_after=7))

    result = await client.fetch_profile("alice")

    assert result.state == "ok"
    assert sim.count("/@alice") == 3
    assert fake_time.sleeps == [7.0, 7.0]


async def test_429_that_never_stops_raises_rate_limited_with_retry_after(
    client: TikTokClient, sim: SimulatedTikTok, fake_time: FakeTime
) -> None:
    sim.set_fault(Fault("rate_limited", retry_after=7))

    with pytest.raises(RateLimited) as caught:
        await client.fetch_profile("alice")

    assert caught.value.retry_after == 7.0
    assert sim.count("/@alice") == 3
    assert fake_time.sleeps == [7.0, 7.0]


async def test_429_without_retry_after_backs_off_exponentially(
    client: TikTokClient, sim: SimulatedTikTok, fake_time: FakeTime
) -> None:
    sim.set_fault(Fault("rate_limited", retry_after=None))

    with pytest.raises(RateLimited):
        await client.fetch_profile("alice")

    assert fake_time.sleeps == [1.0, 2.0]


async def test_backoff_is_jittered(http: httpx2.AsyncClient, sim: SimulatedTikTok, clock: FrozenClock) -> None:
    sim.set_fault(Fault("server_error", retry_after=None))
    runs: list[list[float]] = []
    for seed in (1, 2):
        fake = FakeTime()
        client = make_client(http, fake, clock, rng=random.Random(seed), max_attempts=4)
        with pytest.raises(Unavailable):
            await client.fetch_profile("alice")
        runs.append(fake.sleeps)

    assert runs[0] != runs[1]
    for sleeps in runs:
        assert all(0.5 * nominal <= slept < 1.5 * nominal for slept, nominal in zip(sleeps, [1, 2, 4], strict=True))


async def test_a_retry_after_longer_than_the_cap_raises_at_once(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, fake_time: FakeTime, clock: FrozenClock
) -> None:
    client = make_client(http, fake_time, clock, max_retry_after=60.0)
    sim.set_fault(Fault("rate_limited", retry_after=3600))

    with pytest.raises(RateLimited) as caught:
        await client.fetch_profile("alice")

    assert caught.value.retry_after == 3600.0
    assert sim.count("/@alice") == 1
    assert fake_time.sleeps == []


async def test_retry_after_given_as_an_http_date_is_honoured(
    sim: SimulatedTikTok, fake_time: FakeTime, clock: FrozenClock
) -> None:
    calls = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            when = format_datetime(clock.now() + timedelta(seconds=30), usegmt=True)
            return httpx2.Response(429, headers={"Retry-After": when})
        return httpx2.Response(200, text=render_profile_page(sim.account("alice"), clock.now()))

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as http:
        result = await make_client(http, fake_time, clock).fetch_profile("alice")

    assert result.state == "ok"
    assert fake_time.sleeps == [30.0]


async def test_server_errors_are_retried_then_succeed(
    client: TikTokClient, sim: SimulatedTikTok, fake_time: FakeTime
) -> None:
    sim.set_fault(Fault("server_error", times=1, retry_after=None))

    result = await client.fetch_profile("alice")

    assert result.state == "ok"
    assert sim.count("/@alice") == 2
    assert fake_time.sleeps == [1.0]


async def test_server_errors_that_persist_raise_unavailable(
    client: TikTokClient, sim: SimulatedTikTok, fake_time: FakeTime
) -> None:
    sim.set_fault(Fault("server_error", status=502, retry_after=None), handle="alice")

    with pytest.raises(Unavailable, match="HTTP 502"):
        await client.fetch_profile("alice")

    assert sim.count("/@alice") == 3
    assert fake_time.sleeps == [1.0, 2.0]


async def test_a_slow_answer_times_out_and_is_retried(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, fake_time: FakeTime, clock: FrozenClock
) -> None:
    # The one real wait in this file: the client's own 10 ms deadline on a response that would take a minute.
    client = make_client(http, fake_time, clock, timeout=0.01)
    sim.set_fault(Fault("slow", times=1, delay=60.0))

    with anyio.fail_after(5):
        result = await client.fetch_profile("alice")

    assert result.state == "ok"
    assert sim.count("/@alice") == 2
    assert fake_time.sleeps == [1.0]


async def test_transport_timeouts_that_persist_raise_unavailable(fake_time: FakeTime, clock: FrozenClock) -> None:
    calls = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        raise httpx2.ReadTimeout("read timed out", request=request)

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as http:
        with pytest.raises(Unavailable, match="did not answer"):
            await make_client(http, fake_time, clock).fetch_profile("alice")

    assert calls == 3
    assert fake_time.sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    ("fault", "state"),
    [("not_found", "not_found"), ("private", "private"), ("banned", "banned"), ("region_locked", "region_locked")],
)
async def test_page_states_are_returned_and_never_retried(
    client: TikTokClient, sim: SimulatedTikTok, fake_time: FakeTime, fault: FaultKind, state: str
) -> None:
    sim.set_fault(fault, handle="alice")
    video_id = sim.account("alice").videos[0].video_id

    profile = await client.fetch_profile("alice")
    video = await client.fetch_video("alice", video_id)
    videos = await client.fetch_videos(sim.account("alice").sec_uid)

    assert profile.state == video.state == videos.state == state
    assert sim.count("/@alice") == sim.count(f"/@alice/video/{video_id}") == 1
    assert sim.count("/api/creator/item_list/") == 1
    assert fake_time.sleeps == []


# --- blocked -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["challenge", "empty_shell"])
async def test_challenge_and_shell_pages_raise_blocked_without_hot_retries(
    client: TikTokClient, sim: SimulatedTikTok, fake_time: FakeTime, fault: FaultKind
) -> None:
    sim.set_fault(fault)

    with pytest.raises(Blocked) as profile_error:
        await client.fetch_profile("alice")
    with pytest.raises(Blocked) as list_error:
        await client.fetch_videos(sim.account("alice").sec_uid)

    assert profile_error.value.code == list_error.value.code == "blocked"
    assert sim.count("/@alice") == 1
    assert fake_time.sleeps == []


async def test_login_redirect_raises_blocked_with_login_required(client: TikTokClient, sim: SimulatedTikTok) -> None:
    sim.set_fault("login_redirect", handle="alice")

    with pytest.raises(Blocked, match="login page") as caught:
        await client.fetch_profile("alice")

    assert caught.value.code == "login_required"


async def test_http_403_raises_blocked(fake_time: FakeTime, clock: FrozenClock) -> None:
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(lambda request: httpx2.Response(403))) as http:
        with pytest.raises(Blocked, match="HTTP 403"):
            await make_client(http, fake_time, clock).fetch_profile("alice")

    assert fake_time.sleeps == []


# --- pacing and concurrency --------------------------------------------------------------------------------


async def test_token_bucket_spaces_requests_to_the_rate(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, fake_time: FakeTime, clock: FrozenClock
) -> None:
    client = make_client(http, fake_time, clock, rate=2.0)

    for _ in range(4):
        await client.fetch_profile("alice")

    assert fake_time.sleeps == [0.5, 0.5, 0.5]
    assert sim.count("/@alice") == 4


async def test_each_host_has_its_own_bucket(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, fake_time: FakeTime, clock: FrozenClock
) -> None:
    sim.add_short_link("ZMx", "alice")
    client = make_client(http, fake_time, clock, rate=0.5)

    await client.fetch_profile("alice")
    await client.resolve_short_link("https://vm.tiktok.com/ZMx/")
    assert fake_time.sleeps == []

    await client.fetch_profile("alice")
    assert fake_time.sleeps == [2.0]


async def test_client_from_settings_uses_the_configured_site_and_rate(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, fake_time: FakeTime
) -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///unused.db", tiktok_base_url=BASE_URL, scrape_rate=0.25)
    client = TikTokClient.from_settings(http, settings, monotonic=fake_time.monotonic, sleep=fake_time.sleep)

    await client.fetch_profile("alice")
    await client.fetch_profile("alice")

    assert fake_time.sleeps == [4.0]
    assert sim.count("/@alice") == 2


async def test_token_bucket_allows_a_burst_then_paces(fake_time: FakeTime) -> None:
    bucket = TokenBucket(1.0, burst=3, monotonic=fake_time.monotonic, sleep=fake_time.sleep)

    waits = [await bucket.acquire() for _ in range(5)]

    assert waits == [0.0, 0.0, 0.0, 1.0, 1.0]


async def test_requests_in_flight_never_exceed_max_concurrency(clock: FrozenClock) -> None:
    gate = anyio.Event()

    async def held(_seconds: float) -> None:
        await gate.wait()

    site = SimulatedTikTok(clock=clock, sleep=held)
    for n in range(6):
        site.add_account(SimAccount(f"user{n}"))
    site.set_fault(Fault("slow"))
    states: list[str] = []

    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=site.app)) as http:
        client = TikTokClient(http, base_url=BASE_URL, max_concurrency=2, timeout=5.0)

        async def fetch(handle: str) -> None:
            states.append((await client.fetch_profile(handle)).state)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for n in range(6):
                    tg.start_soon(fetch, f"user{n}")
                while site.in_flight < 2:
                    await anyio.lowlevel.checkpoint()
                for _ in range(20):  # give the other four every chance to slip in
                    await anyio.lowlevel.checkpoint()
                assert site.in_flight == 2
                gate.set()

    assert states == ["ok"] * 6
    assert site.peak_in_flight == 2


# --- short links -------------------------------------------------------------------------------------------


async def test_short_links_resolve_to_the_clean_post_url_without_fetching_it(
    client: TikTokClient, sim: SimulatedTikTok
) -> None:
    video_id = sim.account("alice").videos[0].video_id
    sim.add_short_link("ZMabc123", "alice", video_id)
    sim.add_short_link("ZTprofile", "alice")

    via_vm = await client.resolve_short_link("https://vm.tiktok.com/ZMabc123/")
    via_vt = await client.resolve_short_link("vt.tiktok.com/ZMabc123/")
    via_t = await client.resolve_short_link("https://www.tiktok.com/t/ZTprofile/")

    assert via_vm == via_vt == f"https://www.tiktok.com/@alice/video/{video_id}"
    assert via_t == "https://www.tiktok.com/@alice"
    assert sim.count(f"/@alice/video/{video_id}") == 0
    assert sim.last_headers["user-agent"] == "facebookexternalhit/1.1"


async def test_short_link_to_the_home_page_is_not_found(client: TikTokClient) -> None:
    with pytest.raises(NotFound, match="home page"):
        await client.resolve_short_link("https://vm.tiktok.com/ZMgone/")


async def test_a_full_url_is_not_a_short_link(client: TikTokClient) -> None:
    with pytest.raises(InvalidInput, match="not a TikTok short link"):
        await client.resolve_short_link("https://www.tiktok.com/@alice/video/1")


async def test_short_links_are_retried_on_429(client: TikTokClient, sim: SimulatedTikTok, fake_time: FakeTime) -> None:
    sim.add_short_link("ZMx", "alice")
    sim.set_fault(Fault("rate_limited", times=1, retry_after=3))

    assert await client.resolve_short_link("https://vm.tiktok.com/ZMx/") == "https://www.tiktok.com/@alice"
    assert sim.count("/ZMx/") == 2
    assert fake_time.sleeps == [3.0]
