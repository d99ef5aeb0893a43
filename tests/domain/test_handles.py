"""What people paste: handles, profile URLs and video/photo URLs (pure parsing, no store)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trackagoat_mcp.domain.handles import is_short_link, normalize_handle, parse_video_url, posted_at_from_video_id
from trackagoat_mcp.errors import InvalidInput

# 1767225600 is 2026-01-01T00:00:00Z; shifted into the upper 32 bits and with 12345 in the lower bits:
# 1767225600 * 2**32 + 12345 = 7590176156653989945.
NEW_YEAR_ID = "7590176156653989945"
NEW_YEAR = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@Alice_01", "alice_01"),
        ("alice.b", "alice.b"),
        ("  @Bob  ", "bob"),
        ("CAROL", "carol"),
        ("https://www.tiktok.com/@Carol.X?lang=en&is_from_webapp=1", "carol.x"),
        ("https://www.tiktok.com/@dave/", "dave"),
        ("tiktok.com/@Eve", "eve"),
        ("https://m.tiktok.com/@frank?_t=8abc&_r=1", "frank"),
    ],
)
def test_handles_and_profile_urls_become_lowercase_handles_without_at(raw: str, expected: str) -> None:
    assert normalize_handle(raw) == expected


def test_a_thirty_character_handle_is_the_longest_accepted() -> None:
    assert normalize_handle("@" + "a" * 30) == "a" * 30
    with pytest.raises(InvalidInput) as exc:
        normalize_handle("a" * 31)
    assert exc.value.code == "invalid_handle"


@pytest.mark.parametrize("raw", ["bad handle!", "", "@", "name-with-dash", "@émilie", "al/ice?"])
def test_invalid_handles_are_rejected_with_a_sentence_naming_them(raw: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        normalize_handle(raw)
    assert exc.value.code == "invalid_handle"
    assert repr(raw) in exc.value.message


@pytest.mark.parametrize(
    "raw",
    [
        "https://www.instagram.com/@alice",
        "https://nottiktok.com/@alice",
        "https://tiktok.com.evil.example/@alice",
        "https://www.tiktok.com/discover/alice",
        "https://www.tiktok.com/",
        "http://[",  # an unclosed IPv6 bracket, which makes urlsplit raise
    ],
)
def test_non_tiktok_or_non_profile_urls_are_not_handles(raw: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        normalize_handle(raw)
    assert exc.value.code == "invalid_handle"
    assert repr(raw) in exc.value.message


SHORT_LINKS = ["https://vm.tiktok.com/ZMabc123/", "vt.tiktok.com/ZS8xyz/", "https://www.tiktok.com/t/ZT8abcdef/"]


@pytest.mark.parametrize("raw", SHORT_LINKS)
def test_short_links_are_refused_with_a_sentence_saying_to_open_them(raw: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        normalize_handle(raw)
    assert repr(raw) in exc.value.message
    assert "short link" in exc.value.message


def test_short_links_are_told_apart_from_everything_else() -> None:
    assert all(is_short_link(raw) for raw in SHORT_LINKS)
    others = ["@alice", "https://www.tiktok.com/@alice/video/1", "https://example.com/t/x", "http://[", "t/x"]
    assert not any(is_short_link(raw) for raw in others)


@pytest.mark.parametrize("raw", SHORT_LINKS)
def test_short_profile_links_carry_the_invalid_handle_code(raw: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        normalize_handle(raw)
    assert exc.value.code == "invalid_handle"


@pytest.mark.parametrize(
    ("raw", "handle", "is_photo"),
    [
        (f"https://www.tiktok.com/@Alice/video/{NEW_YEAR_ID}", "alice", False),
        (f"https://www.tiktok.com/@alice/video/{NEW_YEAR_ID}?is_from_webapp=1&sender_device=pc", "alice", False),
        (f"https://www.tiktok.com/@alice/photo/{NEW_YEAR_ID}?lang=en", "alice", True),
        (f"www.tiktok.com/@alice/video/{NEW_YEAR_ID}/", "alice", False),
        (f"https://www.tiktok.com/embed/v2/{NEW_YEAR_ID}", None, False),
        (f"https://www.tiktok.com/embed/{NEW_YEAR_ID}?autoplay=1", None, False),
        (f"https://www.tiktok.com/share/video/{NEW_YEAR_ID}", None, False),
        (f"https://m.tiktok.com/v/{NEW_YEAR_ID}.html", None, False),
    ],
)
def test_video_and_photo_urls_give_the_id_handle_and_kind(raw: str, handle: str | None, is_photo: bool) -> None:
    parsed = parse_video_url(raw)
    assert parsed.tiktok_video_id == NEW_YEAR_ID
    assert parsed.handle == handle
    assert parsed.is_photo is is_photo


def test_canonical_urls_keep_the_post_kind_and_drop_query_strings() -> None:
    photo = parse_video_url(f"https://www.tiktok.com/@Alice/photo/{NEW_YEAR_ID}?lang=en")
    assert photo.canonical_url == f"https://www.tiktok.com/@alice/photo/{NEW_YEAR_ID}"
    embed = parse_video_url(f"https://www.tiktok.com/embed/v2/{NEW_YEAR_ID}")
    assert embed.canonical_url == f"https://www.tiktok.com/@_/video/{NEW_YEAR_ID}"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("https://www.youtube.com/watch?v=abc", "invalid_url"),
        ("https://www.tiktok.com/@alice", "invalid_url"),
        ("https://www.tiktok.com/@alice/video/not-a-number", "invalid_url"),
        ("https://www.tiktok.com/@alice/video/12345", "invalid_url"),
        # A well-formed number whose upper 32 bits are 1970: no TikTok post is that old.
        ("https://www.tiktok.com/@alice/video/1234567890", "invalid_url"),
        ("just some words", "invalid_url"),
    ],
)
def test_urls_without_a_tiktok_video_id_are_refused_naming_them(raw: str, code: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_video_url(raw)
    assert exc.value.code == code
    assert repr(raw) in exc.value.message


@pytest.mark.parametrize("raw", ["https://vm.tiktok.com/ZMabc123/", "https://www.tiktok.com/t/ZT8abcdef/"])
def test_short_video_links_are_refused_with_a_sentence(raw: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_video_url(raw)
    assert repr(raw) in exc.value.message
    assert "short link" in exc.value.message


@pytest.mark.parametrize(
    ("video_id", "expected"),
    [
        # 7590176156653989945 >> 32 = 1767225600 -> 2026-01-01T00:00:00Z
        (NEW_YEAR_ID, datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)),
        # 7300000000000000000 >> 32 = 1699663698 -> 2023-11-11T00:48:18Z
        ("7300000000000000000", datetime(2023, 11, 11, 0, 48, 18, tzinfo=UTC)),
        # 1773100800 (2026-03-10T00:00:00Z) << 32 with zero lower bits
        ("7615409948511436800", datetime(2026, 3, 10, tzinfo=UTC)),
    ],
)
def test_posted_at_is_read_from_the_upper_32_bits_of_the_id(video_id: str, expected: datetime) -> None:
    assert posted_at_from_video_id(video_id) == expected


@pytest.mark.parametrize("video_id", ["123456", "1234567890", str(2**64)])
def test_implausible_video_ids_have_no_post_time(video_id: str) -> None:
    assert posted_at_from_video_id(video_id) is None
