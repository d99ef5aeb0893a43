"""Opaque keyset cursors: they round-trip, and anything not issued for this list is refused as invalid input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators, videos
from trackagoat_mcp.domain.pagination import (
    check_limit,
    cursor_int,
    cursor_text,
    cursor_time,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import InvalidInput

Org = tuple[Caller, uuid.UUID]


def test_a_cursor_round_trips_its_sort_values() -> None:
    row_id = uuid.uuid4()
    when = datetime(2026, 3, 10, 12, 30, 15, 123456, tzinfo=UTC)
    cursor = encode_cursor("videos", "posted_desc", [when, row_id])
    assert "=" not in cursor  # URL-safe and unpadded: it can travel in a query string as is
    assert decode_cursor("videos", "posted_desc", cursor, cursor_time, cursor_uuid) == [when, row_id]
    views_cursor = encode_cursor("videos", "views_desc", [1234, row_id])
    assert decode_cursor("videos", "views_desc", views_cursor, cursor_int, cursor_uuid) == [1234, row_id]


@pytest.mark.parametrize("cursor", ["not a cursor!!", "eyJhIjoxfQ", "W10", "", "%%%"])
def test_garbage_cursors_are_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        decode_cursor("creators", "handle", cursor)
    assert "cursor" in exc.value.message and exc.value.code == "invalid_cursor"


@pytest.mark.parametrize(
    ("parser", "value"),
    [
        (cursor_int, 2**63),
        (cursor_int, -(2**63) - 1),
        (cursor_int, True),
        (cursor_text, "nul\x00inside"),
        (cursor_text, "lone\ud800"),
        (cursor_time, "2026-03-10T12:00:00"),
        (cursor_time, "0001-01-01T00:00:00+14:00"),
        (cursor_time, "9999-12-31T23:59:59-23:59"),
    ],
    ids=["int-past-2^63", "int-below-min", "bool", "nul", "surrogate", "naive-time", "year-1", "year-9999"],
)
def test_decoded_sort_values_a_store_cannot_hold_are_invalid_cursor(parser: Any, value: Any) -> None:
    cursor = encode_cursor("videos", "views_desc", [value, str(uuid.uuid4())])
    with pytest.raises(InvalidInput) as exc:
        decode_cursor("videos", "views_desc", cursor, parser, cursor_uuid)
    assert exc.value.code == "invalid_cursor"


def test_a_truncated_cursor_is_invalid_input() -> None:
    cursor = encode_cursor("creators", "handle", ["alice", uuid.uuid4()])
    with pytest.raises(InvalidInput):
        decode_cursor("creators", "handle", cursor[: len(cursor) // 2])


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**70])
def test_a_cursor_holding_a_number_no_database_takes_is_damaged(value: int) -> None:
    cursor = encode_cursor("leaderboard", "ranks", [value])
    with pytest.raises(InvalidInput, match="is damaged"):
        decode_cursor("leaderboard", "ranks", cursor, cursor_int)


def test_a_cursor_of_another_list_or_ordering_is_refused() -> None:
    cursor = encode_cursor("videos", "posted_desc", [datetime(2026, 1, 1, tzinfo=UTC), uuid.uuid4()])
    with pytest.raises(InvalidInput) as exc:
        decode_cursor("videos", "views_desc", cursor)
    assert "another list or ordering" in exc.value.message
    with pytest.raises(InvalidInput):
        decode_cursor("creators", "posted_desc", cursor)


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_page_sizes_outside_1_to_100_are_refused(limit: int) -> None:
    with pytest.raises(InvalidInput) as exc:
        check_limit(limit)
    assert repr(limit) in exc.value.message


async def _two_pages_of_creators(db: Database, clock: FrozenClock, acme: Org) -> str:
    caller, project_id = acme
    async with db.write() as session:
        await creators.add_creators(session, caller, project_id=project_id, handles=["a1", "a2", "a3"], now=clock.now())
    async with db.read() as session:
        page = await creators.list_creators(session, caller, limit=2)
    assert page.next_cursor is not None
    return page.next_cursor


async def test_a_creators_cursor_handed_to_list_videos_is_refused(db: Database, clock: FrozenClock, acme: Org) -> None:
    cursor = await _two_pages_of_creators(db, clock, acme)
    caller, _ = acme
    async with db.read() as session:
        with pytest.raises(InvalidInput) as exc:
            await videos.list_videos(session, caller, cursor=cursor)
    assert "another list" in exc.value.message


async def test_a_cursor_is_bound_to_the_video_order_it_was_issued_for(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    caller, project_id = acme
    when = datetime(2026, 3, 1, tzinfo=UTC)
    urls = [f"https://www.tiktok.com/@a/video/{(int(when.timestamp()) << 32) | n}" for n in range(3)]
    async with db.write() as session:
        await videos.add_videos(session, caller, project_id=project_id, urls=urls, now=clock.now())
    async with db.read() as session:
        page = await videos.list_videos(session, caller, order="posted_desc", limit=1)
        assert page.next_cursor is not None
        with pytest.raises(InvalidInput):
            await videos.list_videos(session, caller, order="views_desc", cursor=page.next_cursor)


async def test_a_tampered_cursor_is_refused_with_invalid_input(db: Database, clock: FrozenClock, acme: Org) -> None:
    cursor = await _two_pages_of_creators(db, clock, acme)
    caller, _ = acme
    tampered = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    async with db.read() as session:
        with pytest.raises(InvalidInput):
            await creators.list_creators(session, caller, cursor=tampered)


async def test_a_cursor_with_forged_sort_values_is_refused_with_invalid_input(
    db: Database, clock: FrozenClock, acme: Org
) -> None:
    await _two_pages_of_creators(db, clock, acme)
    caller, _ = acme
    forged = encode_cursor("creators", "handle", ["a1", "not-a-uuid"])
    async with db.read() as session:
        with pytest.raises(InvalidInput):
            await creators.list_creators(session, caller, cursor=forged)
