"""Calendar periods in the organization's timezone (shared by goals, accruals and analytics)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from trackagoat_mcp.clock import describe_instant
from trackagoat_mcp.domain.periods import parse_period_kind, period_containing, period_of_instant, periods_between
from trackagoat_mcp.errors import InvalidInput


def test_weeks_start_on_monday_and_a_dst_week_is_an_hour_short_in_new_york():
    week = period_containing("weekly", date(2026, 3, 11), "America/New_York")
    assert (week.start_date, week.end_date) == (date(2026, 3, 9), date(2026, 3, 16))
    # Clocks spring forward on Sunday 2026-03-08, so the week of the 9th is a whole EDT week...
    assert week.end_at - week.start_at == timedelta(days=7)
    # ...while the week before holds the change and is an hour short.
    before = period_containing("weekly", date(2026, 3, 8), "America/New_York")
    assert before.start_at == datetime(2026, 3, 2, 5, tzinfo=UTC)
    assert before.end_at == datetime(2026, 3, 9, 4, tzinfo=UTC)
    assert before.end_at - before.start_at == timedelta(days=7, hours=-1)
    assert week.previous("America/New_York") == before and before.next("America/New_York") == week


@pytest.mark.parametrize(
    ("day", "days"),
    [(date(2026, 2, 14), 28), (date(2028, 2, 1), 29), (date(2026, 4, 30), 30), (date(2026, 12, 31), 31)],
)
def test_months_have_their_real_length_and_december_rolls_into_january(day, days):
    month = period_containing("monthly", day, "UTC")
    assert month.start_date == day.replace(day=1)
    assert month.days == days
    assert month.next("UTC").start_date == month.end_date


def test_an_instant_falls_in_the_local_day_of_the_org_timezone():
    late_evening_in_la = datetime(2026, 3, 11, 6, 30, tzinfo=UTC)  # 23:30 on the 10th in Los Angeles
    assert period_of_instant("daily", late_evening_in_la, "America/Los_Angeles").start_date == date(2026, 3, 10)
    assert period_of_instant("daily", late_evening_in_la, "UTC").start_date == date(2026, 3, 11)


def test_periods_between_cover_a_range_oldest_first_including_partial_ends():
    months = list(periods_between("monthly", date(2026, 1, 20), date(2026, 3, 2), "UTC"))
    assert [p.start_date for p in months] == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


def test_an_unknown_period_name_is_refused_with_the_allowed_ones():
    with pytest.raises(InvalidInput, match="'hourly' is not one of"):
        parse_period_kind("hourly")
    assert parse_period_kind("weekly") == "weekly"


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        (datetime(2026, 12, 4, 1, 21, 34, 52724, tzinfo=UTC), "2026-12-04 01:21 UTC (2 days ago)"),
        (datetime(2026, 12, 6, 1, 21, 34, tzinfo=UTC), "2026-12-06 01:21 UTC (3 h ago)"),
        (datetime(2026, 12, 6, 4, 0, tzinfo=UTC), "2026-12-06 04:00 UTC (42 min ago)"),
        (datetime(2026, 12, 6, 4, 41, 30, tzinfo=UTC), "2026-12-06 04:41 UTC (just now)"),
        (datetime(2026, 12, 7, 0, 0, tzinfo=ZoneInfo("Europe/Berlin")), "2026-12-06 23:00 UTC (in 18 h)"),
    ],
)
def test_an_instant_in_a_sentence_is_shown_to_the_minute_in_utc_with_how_long_ago(instant, shown):
    assert describe_instant(instant, datetime(2026, 12, 6, 4, 42, tzinfo=UTC)) == shown
