"""Parsing of every page shape and status, on pages the simulated site renders or serves."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.tiktok.parsing import (
    PageState,
    Profile,
    Video,
    classify_status,
    parse_count,
    parse_item,
    parse_item_list,
    parse_profile_page,
    parse_video_page,
)
from trackagoat_mcp.tiktok.sim import Fault, FaultKind, SimAccount, SimulatedTikTok, SimVideo
from trackagoat_mcp.tiktok.sim_pages import (
    item_struct,
    render_captcha_json,
    render_challenge_page,
    render_profile_page,
    render_shell_page,
    render_status_page,
    render_universal_page,
    render_video_page,
)

# --- profiles ----------------------------------------------------------------------------------------------


async def test_profile_page_yields_ids_names_and_counters(http: httpx2.AsyncClient, sim: SimulatedTikTok) -> None:
    alice = sim.account("alice")
    result = parse_profile_page((await http.get("/@alice")).text)

    assert result.state == "ok"
    profile = result.data
    assert profile is not None
    assert (profile.user_id, profile.sec_uid, profile.handle) == (alice.user_id, alice.sec_uid, "alice")
    assert (profile.nickname, profile.signature) == ("Alice A.", "dance & food")
    assert profile.avatar_url is not None and profile.avatar_url.endswith("~large.jpeg")
    assert profile.follower_count == 12_000
    assert profile.following_count == 100
    assert profile.video_count == 3  # the post scheduled for later is not counted yet
    assert profile.heart_count == sum(v.counters_at(sim.clock.now())["diggCount"] for v in alice.videos[:3])
    assert profile.private is False


def test_statsv2_string_counters_win_over_stats_even_beyond_two_to_the_53(sim: SimulatedTikTok) -> None:
    alice = sim.account("alice")
    page = render_universal_page(
        {
            "webapp.user-detail": {
                "statusCode": 0,
                "userInfo": {
                    "user": {"id": alice.user_id, "uniqueId": "Alice", "secUid": alice.sec_uid},
                    "stats": {"followerCount": 9007199254740992, "heartCount": 5},
                    "statsV2": {"followerCount": "9007199254740993", "heartCount": "7"},
                },
            }
        }
    )
    profile = parse_profile_page(page).data

    assert profile is not None
    assert profile.follower_count == 9007199254740993
    assert profile.heart_count == 7
    assert profile.handle == "alice"


async def test_negative_32_bit_wrapped_counters_are_unwrapped(http: httpx2.AsyncClient) -> None:
    body = (await http.get("/@bigstar")).text
    assert '"followerCount":-1294967296' in body  # the page really carries the wrapped value

    profile = parse_profile_page(body).data

    assert profile is not None
    assert profile.follower_count == 3_000_000_000
    assert profile.heart_count == 4_000_000_000


async def test_legacy_sigi_state_profile_is_read_as_a_fallback(http: httpx2.AsyncClient, sim: SimulatedTikTok) -> None:
    body = (await http.get("/@bob.legacy")).text
    assert "__UNIVERSAL_DATA_FOR_REHYDRATION__" not in body and "SIGI_STATE" in body

    result = parse_profile_page(body, "bob.legacy")

    assert result.state == "ok"
    assert result.data is not None
    assert result.data.user_id == sim.account("bob.legacy").user_id
    assert (result.data.follower_count, result.data.video_count) == (500, 1)


async def test_private_profile_keeps_its_name_but_says_private(http: httpx2.AsyncClient, sim: SimulatedTikTok) -> None:
    sim.set_fault("private", handle="alice")

    result = parse_profile_page((await http.get("/@alice")).text)

    assert (result.state, result.status_code) == ("private", 10222)
    assert result.data is not None and result.data.private is True


@pytest.mark.parametrize(
    ("fault", "state", "code"),
    [("not_found", "not_found", 10202), ("banned", "banned", 10221), ("region_locked", "region_locked", 10231)],
)
async def test_profile_status_codes_map_to_states_without_data(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, fault: FaultKind, state: PageState, code: int
) -> None:
    sim.set_fault(fault, handle="alice")

    result = parse_profile_page((await http.get("/@alice")).text)

    assert (result.state, result.status_code, result.data) == (state, code, None)


async def test_unknown_handle_is_not_found(http: httpx2.AsyncClient) -> None:
    result = parse_profile_page((await http.get("/@nobody_here")).text)

    assert result.state == "not_found"


def test_user_detail_with_ok_status_but_no_stats_is_unknown_not_zeros(sim: SimulatedTikTok) -> None:
    page = render_universal_page({"webapp.user-detail": {"statusCode": 0, "userInfo": {"user": {"id": "1"}}}})

    result = parse_profile_page(page)

    assert (result.state, result.data) == ("unknown", None)


# --- blocked pages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "detail"),
    [("challenge", "challenge page"), ("empty_shell", "page without a data blob (shell page)")],
)
async def test_challenge_and_shell_pages_are_blocked_never_zeros(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, fault: FaultKind, detail: str
) -> None:
    sim.set_fault(fault)

    profile = parse_profile_page((await http.get("/@alice")).text)
    video = parse_video_page((await http.get(f"/@alice/video/{sim.account('alice').videos[0].video_id}")).text)

    assert (profile.state, profile.data, profile.detail) == ("blocked", None, detail)
    assert (video.state, video.data, video.detail) == ("blocked", None, detail)


@pytest.mark.parametrize(
    "page",
    [
        "",
        "   \n",
        render_challenge_page(),
        render_shell_page(),
        render_universal_page({"seo.abtest": {}}),  # a blob without the page module
        '<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{not json</script>',
    ],
    ids=["empty", "whitespace", "challenge", "shell", "blob-without-module", "broken-json"],
)
def test_pages_without_readable_data_are_blocked(page: str) -> None:
    assert parse_profile_page(page).state == "blocked"
    assert parse_video_page(page).state == "blocked"
    assert parse_profile_page(page).data is None


async def test_login_page_reached_by_redirect_is_blocked(http: httpx2.AsyncClient, sim: SimulatedTikTok) -> None:
    sim.set_fault("login_redirect")

    response = await http.get("/@alice", follow_redirects=True)

    assert response.url.path == "/login"
    assert parse_profile_page(response.text).state == "blocked"


# --- videos ------------------------------------------------------------------------------------------------


async def test_video_page_yields_caption_time_author_and_counters(
    http: httpx2.AsyncClient, sim: SimulatedTikTok
) -> None:
    alice = sim.account("alice")
    posted = alice.videos[1]
    counters = posted.counters_at(sim.clock.now())

    result = parse_video_page((await http.get(f"/@alice/video/{posted.video_id}")).text, posted.video_id)

    assert result.state == "ok"
    video = result.data
    assert video is not None
    assert (video.video_id, video.author_handle, video.author_id) == (posted.video_id, "alice", alice.user_id)
    assert video.author_sec_uid == alice.sec_uid
    assert video.description == "second"
    assert video.create_time == posted.created_at
    assert video.play_count == counters["playCount"] == 2_400
    assert (video.digg_count, video.comment_count) == (counters["diggCount"], counters["commentCount"])
    assert (video.share_count, video.collect_count) == (counters["shareCount"], counters["collectCount"])
    assert video.is_photo is False


async def test_photo_post_is_marked_as_photo(http: httpx2.AsyncClient, sim: SimulatedTikTok) -> None:
    photo = sim.account("alice").videos[2]

    result = parse_video_page((await http.get(f"/@alice/photo/{photo.video_id}")).text)

    assert result.data is not None
    assert result.data.is_photo is True


async def test_legacy_sigi_video_with_a_bare_author_string_is_read(
    http: httpx2.AsyncClient, sim: SimulatedTikTok
) -> None:
    posted = sim.account("bob.legacy").videos[0]

    result = parse_video_page((await http.get(f"/@bob.legacy/video/{posted.video_id}")).text, posted.video_id)

    assert result.state == "ok"
    assert result.data is not None
    assert (result.data.author_handle, result.data.author_id) == ("bob.legacy", None)
    assert result.data.play_count == posted.plays_at(sim.clock.now())


@pytest.mark.parametrize(
    ("fault", "state", "code"),
    [
        ("private", "private", 10216),
        ("not_found", "not_found", 10204),
        ("banned", "banned", 10221),
        ("region_locked", "region_locked", 10231),
    ],
)
async def test_video_status_codes_map_to_states(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, fault: FaultKind, state: PageState, code: int
) -> None:
    sim.set_fault(Fault(fault), handle="alice")

    result = parse_video_page((await http.get(f"/@alice/video/{sim.account('alice').videos[0].video_id}")).text)

    assert (result.state, result.status_code, result.data) == (state, code, None)


def test_age_gated_post_needs_login(sim: SimulatedTikTok, clock: FrozenClock) -> None:
    alice = sim.account("alice")
    item = {**item_struct(alice, alice.videos[0], clock.now()), "isContentClassified": True}
    page = render_universal_page({"webapp.video-detail": {"statusCode": 0, "itemInfo": {"itemStruct": item}}})

    assert parse_video_page(page).state == "login_required"


def test_create_time_may_be_a_number_or_missing(sim: SimulatedTikTok, clock: FrozenClock) -> None:
    alice = sim.account("alice")
    item = item_struct(alice, alice.videos[0], clock.now())
    numeric = parse_item({**item, "createTime": int(item["createTime"])})
    missing = parse_item({k: v for k, v in item.items() if k != "createTime"})

    assert numeric is not None and missing is not None
    # Without createTime the id's upper 32 bits still say when the post was made.
    assert numeric.create_time == missing.create_time == alice.videos[0].created_at


def test_item_without_stats_is_not_a_video(sim: SimulatedTikTok, clock: FrozenClock) -> None:
    alice = sim.account("alice")
    item = item_struct(alice, alice.videos[0], clock.now())
    del item["stats"], item["statsV2"]
    page = render_universal_page({"webapp.video-detail": {"statusCode": 0, "itemInfo": {"itemStruct": item}}})

    assert parse_item(item) is None
    assert (parse_video_page(page).state, parse_video_page(page).data) == ("unknown", None)


# --- item list ---------------------------------------------------------------------------------------------


async def test_one_item_list_page_refreshes_many_videos_newest_first(
    http: httpx2.AsyncClient, sim: SimulatedTikTok
) -> None:
    alice = sim.account("alice")
    response = await http.get("/api/creator/item_list/", params={"secUid": alice.sec_uid, "count": 2})

    result = parse_item_list(response.content)

    assert result.state == "ok" and result.data is not None
    page = result.data
    assert [v.video_id for v in page.videos] == [alice.videos[2].video_id, alice.videos[1].video_id]
    assert page.videos[1].play_count == 2_400
    assert page.has_more is True
    assert page.cursor == int(alice.videos[1].created_at.timestamp()) * 1000

    rest = parse_item_list(
        (await http.get("/api/creator/item_list/", params={"secUid": alice.sec_uid, "cursor": page.cursor})).content
    )

    assert rest.data is not None
    assert [v.video_id for v in rest.data.videos] == [alice.videos[0].video_id]
    assert rest.data.has_more is False


async def test_empty_item_list_of_a_creator_without_posts_is_ok(http: httpx2.AsyncClient, sim: SimulatedTikTok) -> None:
    response = await http.get("/api/creator/item_list/", params={"secUid": sim.account("bigstar").sec_uid})

    result = parse_item_list(response.text)

    assert result.state == "ok" and result.data is not None
    assert (result.data.videos, result.data.cursor, result.data.has_more) == ((), None, False)


@pytest.mark.parametrize(
    ("fault", "state"),
    [("private", "private"), ("not_found", "not_found"), ("banned", "banned"), ("region_locked", "region_locked")],
)
async def test_item_list_status_codes_map_to_states(
    http: httpx2.AsyncClient, sim: SimulatedTikTok, fault: FaultKind, state: PageState
) -> None:
    sim.set_fault(fault, handle="alice")
    response = await http.get("/api/creator/item_list/", params={"secUid": sim.account("alice").sec_uid})

    assert (parse_item_list(response.text).state, parse_item_list(response.text).data) == (state, None)


@pytest.mark.parametrize(
    "body",
    [b"", "  ", render_captcha_json(), render_shell_page(), "[]", '{"hello": 1}'],
    ids=["empty-bytes", "blank", "captcha", "html", "array", "unrelated-json"],
)
def test_item_list_bodies_without_data_are_blocked(body: str | bytes) -> None:
    result = parse_item_list(body)

    assert (result.state, result.data) == ("blocked", None)


async def test_item_list_block_faults_come_back_as_captcha_or_empty_body(
    http: httpx2.AsyncClient, sim: SimulatedTikTok
) -> None:
    params = {"secUid": sim.account("alice").sec_uid}
    sim.set_fault("challenge")
    captcha = parse_item_list((await http.get("/api/creator/item_list/", params=params)).content)
    sim.set_fault("empty_shell")
    empty = parse_item_list((await http.get("/api/creator/item_list/", params=params)).content)

    assert (captcha.state, captcha.detail) == ("blocked", "captcha (verify) instead of the item list")
    assert (empty.state, empty.detail) == ("blocked", "empty body")


# --- status table and counters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message", "state"),
    [
        (0, "", "ok"),
        (10202, "", "not_found"),
        (10204, "", "not_found"),
        (10216, "", "private"),
        (10221, "", "banned"),
        (10222, "", "private"),
        (10223, "", "restricted"),
        (10000, "", "restricted"),
        (10231, "", "region_locked"),
        (10240, "", "restricted"),
        (0, "dark_post", "restricted"),
        (12345, "", "unknown"),
    ],
)
def test_status_codes_follow_the_reference_table(code: int, message: str, state: PageState) -> None:
    assert classify_status(code, message) == state


def test_unrecognised_status_code_on_a_page_is_unknown_without_data() -> None:
    result = parse_profile_page(render_status_page("webapp.user-detail", 99999, "weird"))

    assert (result.state, result.status_code, result.detail, result.data) == ("unknown", 99999, "weird", None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (5, 5),
        ("42", 42),
        (" 7 ", 7),
        (3.0, 3),
        (-1294967296, 3_000_000_000),
        (-(2**31) - 1, None),
        (None, None),
        ("", None),
        ("n/a", None),
        (True, None),
        (float("nan"), None),
        ([1], None),
    ],
)
def test_counters_are_read_leniently_and_missing_is_none(raw: object, expected: int | None) -> None:
    assert parse_count(raw) == expected


def test_render_helpers_round_trip_through_the_parsers(clock: FrozenClock) -> None:
    account = SimAccount("carol", videos=[])
    account.since = clock.now()
    when = datetime(2026, 3, 9, tzinfo=UTC)
    video = SimVideo.posted(when, 9, description="</script> in a caption")
    account.videos.append(video)

    assert parse_profile_page(render_profile_page(account, clock.now())).data is not None
    parsed = parse_video_page(render_video_page(account, video, clock.now() + timedelta(hours=1))).data
    assert parsed is not None
    assert parsed.description == "</script> in a caption"


# --- fast paths keep the slow paths' answers ---------------------------------------------------------------


def test_parsed_video_and_profile_are_ordinary_dataclasses(sim: SimulatedTikTok, clock: FrozenClock) -> None:
    alice = sim.account("alice")
    video = parse_item(item_struct(alice, alice.videos[0], clock.now()))
    profile = parse_profile_page(render_profile_page(alice, clock.now())).data

    assert video is not None and profile is not None
    assert (type(video), type(profile)) == (Video, Profile)
    assert video == Video(**dataclasses.asdict(video)) and profile == Profile(**dataclasses.asdict(profile))
    assert dataclasses.replace(video, play_count=1).play_count == 1


def test_unreadable_statsv2_counters_fall_back_to_stats_one_by_one(sim: SimulatedTikTok, clock: FrozenClock) -> None:
    alice = sim.account("alice")
    item = item_struct(alice, alice.videos[0], clock.now())
    item["stats"] = {"playCount": 10, "diggCount": 20, "commentCount": 30, "shareCount": 40, "collectCount": 50}
    # Unreadable, negative wrap, odd whitespace `int` alone would reject, a bool, and one missing.
    item["statsV2"] = {"playCount": "n/a", "diggCount": "-1294967296", "commentCount": "\x1c7\x1c", "shareCount": True}

    video = parse_item(item)

    assert video is not None
    assert (video.play_count, video.digg_count, video.comment_count) == (10, 3_000_000_000, 7)
    assert (video.share_count, video.collect_count) == (40, 50)


def test_profile_hearts_prefer_any_statsv2_name_over_stats() -> None:
    user = {"id": "1", "uniqueId": "Zed"}
    info = {"user": user, "stats": {"heartCount": 5}, "statsV2": {"heart": "9", "followerCount": " 12 "}}
    page = render_universal_page({"webapp.user-detail": {"statusCode": 0, "userInfo": info}})

    profile = parse_profile_page(page).data

    assert profile is not None
    assert (profile.heart_count, profile.follower_count, profile.video_count) == (9, 12, None)


def test_blank_author_and_blank_author_fields_are_none(sim: SimulatedTikTok, clock: FrozenClock) -> None:
    alice = sim.account("alice")
    item = item_struct(alice, alice.videos[0], clock.now())

    bare = parse_item({**item, "author": "", "authorInfo": "Bob.Legacy"})
    blank = parse_item({**item, "author": {"uniqueId": "", "id": "", "secUid": 42}})

    assert bare is not None and blank is not None
    assert (bare.author_handle, bare.author_id, bare.author_sec_uid) == ("bob.legacy", None, None)
    assert (blank.author_handle, blank.author_id, blank.author_sec_uid) == (None, None, "42")


@pytest.mark.parametrize(
    ("wrapping", "readable"),
    [("\n  %s\r\n", True), ("\ufeff%s", False), ("%s trailing", False), ("%s\x0c", False)],
    ids=["json-whitespace-around", "byte-order-mark", "trailing-garbage", "non-json-whitespace"],
)
def test_blob_and_item_list_are_read_exactly_as_json_loads_reads_them(wrapping: str, readable: bool) -> None:
    module = '{"__DEFAULT_SCOPE__": {"webapp.user-detail": {"statusCode": 10231, "statusMsg": "region"}}}'
    page = f'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__">{wrapping % module}</script>'
    item_list = wrapping % '{"statusCode": 0, "itemList": []}'

    profile, videos = parse_profile_page(page), parse_item_list(item_list)

    assert (profile.state, profile.status_code) == (("region_locked", 10231) if readable else ("blocked", None))
    assert videos.state == ("ok" if readable else "blocked")


def test_one_item_with_an_absurd_create_time_is_skipped_not_fatal(sim: SimulatedTikTok, clock: FrozenClock) -> None:
    alice = sim.account("alice")
    good = item_struct(alice, alice.videos[0], clock.now())
    absurd = {**item_struct(alice, alice.videos[1], clock.now()), "createTime": str(2**53)}

    result = parse_item_list(json.dumps({"statusCode": 0, "itemList": [good, absurd]}))

    assert result.data is not None
    assert [v.video_id for v in result.data.videos] == [alice.videos[0].video_id]
