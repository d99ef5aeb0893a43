"""Time as an injected dependency, plus the calendar helpers every layer shares.

Jobs and domain functions take a `Clock` instead of calling `datetime.now()`, so tests run on a
`FrozenClock` and never sleep. Day boundaries are computed in the organization's IANA timezone and
returned as UTC instants, half-open `[start, end)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "Clock",
    "FrozenClock",
    "EARLIEST_DAY",
    "LATEST_DAY",
    "SystemClock",
    "check_day",
    "check_instant",
    "day_range_utc",
    "describe_instant",
    "ensure_utc",
    "local_today",
    "parse_timezone",
]


class Clock(Protocol):
    """Something that tells the current time as a timezone-aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FrozenClock:
    """A clock that only moves when told to (tests, the demo, `accrue --at`)."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 15, 12, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by `delta`."""
        self.current = self.current + delta

    def set(self, when: datetime) -> None:
        """Jump to `when` (must be timezone-aware)."""
        self.current = ensure_utc(when)


def ensure_utc(value: datetime) -> datetime:
    """Return `value` as an aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_timezone(name: str) -> ZoneInfo:
    """Resolve an IANA timezone name, raising `InvalidInput` with a helpful sentence otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"Timezone {name!r} is not a known IANA timezone name; use one like 'UTC' or 'America/New_York'."
        ) from exc


def local_today(now: datetime, tz_name: str) -> date:
    """The calendar date it is at `now` in timezone `tz_name`."""
    return now.astimezone(parse_timezone(tz_name)).date()


def day_range_utc(first: date, last: date, tz_name: str) -> tuple[datetime, datetime]:
    """UTC instants bounding the whole local days `first`..`last` (inclusive) in `tz_name`, as `[start, end)`."""
    tz = parse_timezone(tz_name)
    start = datetime.combine(first, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    return start, end


EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2100, 12, 31)
"""The calendar every date and time argument must fall in. TikTok's ids count seconds from 1970, and period,
bucket and timezone arithmetic a few days either side of any value in this range stays inside what Python and both
stores can hold (a year-1 or year-9999 value overflows the first `timedelta` added to it)."""

CALENDAR_RANGE = f"{EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}"


def check_day(name: str, value: date) -> date:
    """`value` unchanged if it lies in the supported calendar, else `InvalidInput` naming `name` and the range."""
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise InvalidInput(
            f"{name} {value.isoformat()!r} is outside the supported calendar; give a date from {CALENDAR_RANGE}."
        )
    return value


def check_instant(name: str, value: datetime, tz_name: str) -> datetime:
    """`value` as an aware UTC instant: a time written without an offset is read in timezone `tz_name` (the
    organization's, the same clock its days and periods use); outside the supported calendar is `InvalidInput`."""
    if not EARLIEST_DAY <= value.date() <= LATEST_DAY:
        raise InvalidInput(
            f"{name} {value.isoformat()!r} is outside the supported calendar; give a time from {CALENDAR_RANGE}."
        )
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=parse_timezone(tz_name))
    return value.astimezone(UTC)


def describe_instant(instant: datetime, now: datetime) -> str:
    """An instant for a sentence a person or a model reads: `2026-12-04 01:21 UTC (3 h ago)`.

    To the minute in UTC (seconds and microseconds are noise in a sentence; structured fields keep the exact
    value), followed by how long ago it was (or how far ahead), rounded in the largest unit that keeps the number
    small.
    """
    instant = ensure_utc(instant)
    seconds = (ensure_utc(now) - instant).total_seconds()
    ago = abs(seconds)
    if ago < 60:
        return f"{instant:%Y-%m-%d %H:%M} UTC (just now)"
    if ago < 90 * 60:
        span = f"{round(ago / 60)} min"
    elif ago < 48 * 3600:
        span = f"{round(ago / 3600)} h"
    else:
        span = f"{round(ago / 86400)} days"
    return f"{instant:%Y-%m-%d %H:%M} UTC ({span} ago)" if seconds > 0 else f"{instant:%Y-%m-%d %H:%M} UTC (in {span})"
