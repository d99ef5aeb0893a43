"""The simulated site itself: growth with the clock, faults that switch on and off, request counting."""

from __future__ import annotations

from datetime import timedelta

import httpx2

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.tiktok.parsing import parse_item_list, parse_profile_page, parse_video_page
from trackagoat_mcp.tiktok.sim import Fault, SimulatedTikTok, video_id_for


async def test_views_and_followers_grow_as_the_clock_moves(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, clock: FrozenClock
) -> None:
    video_id = sim.account("alice").videos[1].video_id
    before = parse_video_page((await http.get(f"/@alice/video/{video_id}")).text).data
    clock.advance(timedelta(hours=2))
    after = parse_video_page((await http.get(f"/@alice/video/{video_id}")).text).data
    profile = parse_profile_page((await http.get("/@alice")).text).data

    assert before is not None and after is not None and profile is not None
    assert after.play_count == (before.play_count or 0) + 100
    assert profile.follower_count == 12_000 + 20


async def test_a_scheduled_post_appears_once_its_time_comes(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, clock: FrozenClock
) -> None:
    params = {"secUid": sim.account("alice").sec_uid}
    now = parse_item_list((await http.get("/api/creator/item_list/", params=params)).text).data
    clock.advance(timedelta(hours=6))
    later = parse_item_list((await http.get("/api/creator/item_list/", params=params)).text).data

    assert now is not None and len(now.videos) == 3
    assert later is not None and len(later.videos) == 4
    assert later.videos[0].description == "not posted yet"


async def test_a_fault_with_a_count_clears_itself_and_requests_are_counted(
    http: httpx2.AsyncClient, sim: SimulatedTikTok
) -> None:
    sim.set_fault(Fault("server_error", times=2))

    statuses = [(await http.get("/@alice")).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert sim.count("/@alice") == 3


async def test_an_account_fault_leaves_other_accounts_alone(http: httpx2.AsyncClient, sim: SimulatedTikTok) -> None:
    sim.set_fault("banned", handle="alice")

    assert parse_profile_page((await http.get("/@alice")).text).state == "banned"
    assert parse_profile_page((await http.get("/@bigstar")).text).state == "ok"
    sim.set_fault(None, handle="alice")
    assert parse_profile_page((await http.get("/@alice")).text).state == "ok"


async def test_rate_limit_fault_sends_retry_after(http: httpx2.AsyncClient, sim: SimulatedTikTok) -> None:
    sim.set_fault(Fault("rate_limited", retry_after=7))

    response = await http.get("/@alice")

    assert (response.status_code, response.headers["retry-after"]) == (429, "7")


async def test_short_links_redirect_to_the_post_and_unknown_ones_to_the_home_page(
    http: httpx2.AsyncClient, sim: SimulatedTikTok
) -> None:
    video_id = sim.account("alice").videos[0].video_id
    sim.add_short_link("ZMabc", "alice", video_id)

    known = await http.get("https://vm.tiktok.com/ZMabc/")
    unknown = await http.get("https://www.tiktok.com/t/nope/")

    assert known.status_code == 301
    assert known.headers["location"].startswith(f"https://www.tiktok.com/@alice/video/{video_id}?_r=1")
    assert unknown.headers["location"] == "https://www.tiktok.com/?_r=1"


def test_video_ids_carry_their_creation_time(clock: FrozenClock) -> None:
    assert int(video_id_for(clock.now(), 5)) >> 32 == int(clock.now().timestamp())
