"""The scraper's floors, expiry window, tick and scrape_now cap come from `TRACKAGOAT_*` variables."""

from __future__ import annotations

import pytest

from trackagoat_mcp.config import load_settings
from trackagoat_mcp.errors import ConfigError
from trackagoat_mcp.jobs.scheduler import schedules
from trackagoat_mcp.jobs.scraper import ScrapeSettings

BASE = {"TRACKAGOAT_DATABASE_URL": "sqlite+aiosqlite:///x.db"}


def test_the_scrape_variables_reach_the_scraper_the_scheduler_and_the_cap() -> None:
    settings = load_settings(
        BASE
        | {
            "TRACKAGOAT_MIN_CREATOR_PROFILES_HOURS": "12",
            "TRACKAGOAT_MIN_DISCOVER_VIDEOS_HOURS": "1.5",
            "TRACKAGOAT_MIN_VIDEO_STATS_HOURS": "0",
            "TRACKAGOAT_TRACKING_EXPIRY_DAYS": "60",
            "TRACKAGOAT_SCRAPE_INTERVAL_MINUTES": "15",
            "TRACKAGOAT_SCRAPE_NOW_DAILY_CAP": "0",
        }
    )

    scrape = ScrapeSettings.from_settings(settings)
    assert (scrape.min_creator_profiles_hours, scrape.min_discover_videos_hours, scrape.min_video_stats_hours) == (
        12,
        1.5,
        0,
    )
    assert scrape.tracking_expiry_days == 60 and settings.scrape_now_daily_cap == 0
    assert schedules(settings)["scrape"].text == "every 15 minutes"


def test_the_defaults_are_a_few_hours_between_fetches_and_twenty_scrape_now_calls_a_day() -> None:
    settings = load_settings(BASE)

    assert ScrapeSettings.from_settings(settings) == ScrapeSettings()
    assert (settings.scrape_interval_minutes, settings.scrape_now_daily_cap) == (5, 20)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TRACKAGOAT_MIN_VIDEO_STATS_HOURS", "-1", "must be at least 0"),
        ("TRACKAGOAT_TRACKING_EXPIRY_DAYS", "0", "must be at least 1"),
        ("TRACKAGOAT_SCRAPE_NOW_DAILY_CAP", "lots", "is not a valid int"),
    ],
)
def test_a_bad_scrape_variable_is_refused_with_its_name(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(BASE | {name: value})

    assert name in refused.value.message and says in refused.value.message
