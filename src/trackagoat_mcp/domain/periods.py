"""Calendar periods in an organization's timezone: `daily`, `weekly` (Monday start) and `monthly`.

Goals, goal compliance, payout accruals and analytics buckets all cut time the same way, so they share
this module. A period is a half-open range of local calendar days `[start_date, end_date)`; its UTC
instants are the local midnights at both ends, so a DST week is 167 or 169 hours long and a period never
drifts by an hour.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, get_args

from trackagoat_mcp.clock import parse_timezone
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "PERIOD_KINDS",
    "Period",
    "PeriodKind",
    "local_midnight",
    "parse_period_kind",
    "period_containing",
    "period_of_instant",
    "periods_between",
]

PeriodKind = Literal["daily", "weekly", "monthly"]
PERIOD_KINDS: tuple[str, ...] = get_args(PeriodKind)
_CACHED = 8192
"""Days (per timezone and kind) whose midnight and period are remembered: years of history for a few zones."""


@dataclass(frozen=True)
class Period:
    """One period: local days `[start_date, end_date)` and the UTC instants `[start_at, end_at)`."""

    kind: PeriodKind
    start_date: date
    end_date: date
    start_at: datetime
    end_at: datetime

    @property
    def days(self) -> int:
        """Calendar days in the period (28–31 for a month, 7 for a week, 1 for a day)."""
        return (self.end_date - self.start_date).days

    @property
    def last_date(self) -> date:
        """The period's last local day (inclusive)."""
        return self.end_date - timedelta(days=1)

    def next(self, tz_name: str) -> Period:
        """The period right after this one."""
        return period_containing(self.kind, self.end_date, tz_name)

    def previous(self, tz_name: str) -> Period:
        """The period right before this one."""
        return period_containing(self.kind, self.start_date - timedelta(days=1), tz_name)


def parse_period_kind(value: str) -> PeriodKind:
    """Validate a period name, with a sentence listing the allowed ones."""
    for kind in get_args(PeriodKind):
        if value == kind:
            return kind  # type: ignore[no-any-return]
    raise InvalidInput(f"period {value!r} is not one of {list(PERIOD_KINDS)!r}; pick one of them.")


@lru_cache(maxsize=_CACHED)
def local_midnight(day: date, tz_name: str) -> datetime:
    """The UTC instant at which local `day` begins in `tz_name` (remembered: planning asks for the same days of the
    same timezone for every creator)."""
    return datetime.combine(day, time.min, tzinfo=parse_timezone(tz_name)).astimezone(UTC)


def _start_date(kind: PeriodKind, day: date) -> date:
    if kind == "daily":
        return day
    if kind == "weekly":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _end_date(kind: PeriodKind, start: date) -> date:
    if kind == "daily":
        return start + timedelta(days=1)
    if kind == "weekly":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


@lru_cache(maxsize=_CACHED)
def period_containing(kind: PeriodKind, day: date, tz_name: str) -> Period:
    """The period of `kind` that contains local calendar day `day` (remembered, like `local_midnight`; a `Period`
    is immutable, so callers may share one)."""
    start = _start_date(kind, day)
    end = _end_date(kind, start)
    return Period(kind, start, end, local_midnight(start, tz_name), local_midnight(end, tz_name))


def period_of_instant(kind: PeriodKind, instant: datetime, tz_name: str) -> Period:
    """The period of `kind` that contains the aware instant `instant` (read in `tz_name`)."""
    return period_containing(kind, instant.astimezone(parse_timezone(tz_name)).date(), tz_name)


def periods_between(kind: PeriodKind, first: date, last: date, tz_name: str) -> Iterator[Period]:
    """Every period of `kind` that overlaps local days `first`..`last` (inclusive), oldest first."""
    period = period_containing(kind, first, tz_name)
    while period.start_date <= last:
        yield period
        period = period.next(tz_name)
