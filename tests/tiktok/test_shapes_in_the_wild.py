"""Page shapes seen in the wild (issue 18), served by the simulated site and read by the parser and the client.

The mobile post page (`webapp.reflow.video.detail`, `statusMessage`, a `shareUser` who is not the author), the
2021-22 `window['SIGI_STATE']=…;window['SIGI_RETRY']=…` script form, 10221 with an empty `userInfo` for a handle
that does not exist (not a ban), a private profile whose `videoCount` 0 is not a count, and HTTP 403/451.
"""

from __future__ import annotations

import httpx2
import pytest

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.errors import Blocked
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.parsing import block_kind, parse_profile_page, parse_video_page
from trackagoat_mcp.tiktok.sim import Fault, SimulatedTikTok
from trackagoat_mcp.tiktok.sim_pages import item_struct, render_mobile_video_page, render_universal_page


async def test_mobile_post_page_reads_the_item_not_the_sharer(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, clock: FrozenClock
) -> None:
    alice = sim.account("alice")
    photo = alice.videos[2]
    sim.set_fault("mobile_pages", handle="alice")

    html = (await http.get(f"/@alice/photo/{photo.video_id}")).text
    result = parse_video_page(html, photo.video_id)

    assert "webapp.reflow.video.detail" in html and "webapp.video-detail" not in html and "shareUser" in html
    assert result.state == "ok" and result.data is not None
    video = result.data
    assert (video.video_id, video.author_handle, video.is_photo) == (photo.video_id, "alice", True)
    assert video.play_count == photo.plays_at(clock.now()) and video.digg_count == photo.plays_at(clock.now()) // 10


def test_mobile_page_status_message_is_read(sim: SimulatedTikTok, clock: FrozenClock) -> None:
    alice = sim.account("alice")
    html = render_mobile_video_page(item_struct(alice, alice.videos[0], clock.now()), status_code=10216)

    result = parse_video_page(html)

    assert (result.state, result.status_code, result.detail) == ("private", 10216, "item is private")


async def test_sigi_script_form_profile_and_post(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, clock: FrozenClock
) -> None:
    alice = sim.account("alice")
    sim.set_fault("sigi_script", handle="alice")

    profile_html = (await http.get("/@alice")).text
    post = alice.videos[1]
    post_html = (await http.get(f"/@alice/video/{post.video_id}")).text

    assert "window['SIGI_STATE']={" in profile_html and "window['SIGI_RETRY']=" in profile_html
    assert 'type="application/json"' not in profile_html  # a script, not a JSON blob
    profile = parse_profile_page(profile_html, "alice")
    assert profile.state == "ok" and profile.data is not None
    assert (profile.data.user_id, profile.data.follower_count) == (alice.user_id, alice.followers_at(clock.now()))
    video = parse_video_page(post_html, post.video_id)
    assert video.state == "ok" and video.data is not None and video.data.play_count == post.plays_at(clock.now())


def test_sigi_script_form_that_is_cut_short_is_blocked_not_data() -> None:
    html = '<script id="sigi-persisted-data">window[\'SIGI_STATE\']={"UserModule":{"users":'

    assert parse_profile_page(html).state == "blocked"


async def test_10221_with_an_empty_user_info_is_not_found_and_a_named_one_is_banned(
    http: httpx2.AsyncClient, sim: SimulatedTikTok
) -> None:
    nobody = parse_profile_page((await http.get("/@nobody.here")).text)
    sim.set_fault("missing", handle="alice")
    missing = parse_profile_page((await http.get("/@alice")).text)
    sim.set_fault("banned", handle="alice")
    banned = parse_profile_page((await http.get("/@alice")).text)

    assert (nobody.state, nobody.status_code, nobody.data) == ("not_found", 10221, None)
    assert (missing.state, missing.status_code) == ("not_found", 10221)
    assert (banned.state, banned.status_code, banned.data) == ("banned", 10221, None)


async def test_private_profile_shows_no_video_count_rather_than_zero(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, clock: FrozenClock
) -> None:
    sim.set_fault("private", handle="alice")

    html = (await http.get("/@alice")).text
    result = parse_profile_page(html)

    assert '"videoCount":0' in html
    assert result.state == "private" and result.data is not None
    assert result.data.video_count is None
    assert result.data.follower_count == sim.account("alice").followers_at(clock.now())


@pytest.mark.parametrize(("status", "reason"), [(403, "http_403"), (451, "http_451")])
async def test_403_and_451_are_blocks_with_their_reason(
    client: TikTokClient, sim: SimulatedTikTok, status: int, reason: str
) -> None:
    sim.set_fault(Fault("forbidden", status=status), handle="alice")

    with pytest.raises(Blocked) as caught:
        await client.fetch_profile("alice")

    assert caught.value.reason == reason and f"HTTP {status}" in caught.value.message
    assert sim.count("/@alice") == 1  # a refusal is not retried


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("challenge", "challenge"), ("script_challenge", "challenge"), ("empty_shell", "shell")],
)
async def test_blocked_pages_say_what_blocked_them(
    client: TikTokClient, sim: SimulatedTikTok, fault: str, reason: str
) -> None:
    sim.set_fault(fault, handle="alice")  # type: ignore[arg-type]

    with pytest.raises(Blocked) as profile:
        await client.fetch_profile("alice")
    with pytest.raises(Blocked) as listing:
        await client.fetch_videos(sim.account("alice").sec_uid)

    assert profile.value.reason == reason
    # The API answers a plain challenge with the captcha JSON; the script challenge stands in front of it too.
    assert (
        listing.value.reason == {"challenge": "captcha", "script_challenge": "challenge", "empty_shell": "empty"}[fault]
    )


def test_block_kind_of_unknown_details_is_shell() -> None:
    assert block_kind("page without a data blob (shell page)") == "shell"
    assert block_kind("captcha") == "captcha"


@pytest.mark.parametrize(
    "assignment",
    ["window['SIGI_STATE']=%s;window['SIGI_RETRY']={}", 'window["SIGI_STATE"] = %s; other()', "window.SIGI_STATE=%s"],
)
def test_every_spelling_of_the_sigi_assignment_is_read(assignment: str) -> None:
    state = (
        '{"UserModule":{"users":{"zed":{"id":"7","uniqueId":"zed"}},"stats":{"zed":{"followerCount":5,'
        '"followingCount":1,"heartCount":2,"videoCount":3}}},"UserPage":{"statusCode":0}}'
    )
    html = f'<script id="sigi-persisted-data">{assignment % state}</script>'

    result = parse_profile_page(html, "zed")

    assert result.state == "ok" and result.data is not None
    assert (result.data.follower_count, result.data.video_count) == (5, 3)


@pytest.mark.parametrize("extra", [{"userInfo": {}}, {"userInfo": {"user": {}}}, {}], ids=["empty", "no-user", "none"])
def test_10221_without_an_account_named_is_not_found(extra: dict[str, object]) -> None:
    html = render_universal_page({"webapp.user-detail": {"statusCode": 10221, "statusMsg": "", **extra}})

    assert parse_profile_page(html).state == "not_found"
