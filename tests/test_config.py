"""Settings: read from `TRACKAGOAT_*` by `load_settings`, never by a direct `Settings(...)`; immutable; bad values
refused with a sentence naming the variable."""

import pytest

from trackagoat_mcp.config import DEFAULT_TOOLSETS, Settings, load_settings
from trackagoat_mcp.errors import ConfigError

BASE = {"TRACKAGOAT_DATABASE_URL": "sqlite+aiosqlite:///x.db"}


def test_settings_built_directly_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKAGOAT_READ_ONLY", "1")
    monkeypatch.setenv("TRACKAGOAT_RATE_LIMIT_PER_MINUTE", "5")

    direct = Settings(database_url="sqlite://")
    loaded = load_settings(BASE | {"TRACKAGOAT_READ_ONLY": "1", "TRACKAGOAT_RATE_LIMIT_PER_MINUTE": "5"})

    assert (direct.read_only, direct.rate_limit_per_minute) == (False, 60)
    assert (loaded.read_only, loaded.rate_limit_per_minute) == (True, 5)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), (" YES ", True), ("on", True), ("0", False), ("false", False), ("No", False)]
    + [("off", False), ("", False), ("  ", False)],
)
def test_read_only_accepts_the_usual_switch_words(raw: str, expected: bool) -> None:
    assert load_settings(BASE | {"TRACKAGOAT_READ_ONLY": raw}).read_only is expected


@pytest.mark.parametrize("raw", ["maybe", "t", "2"])
def test_read_only_refuses_anything_else_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"TRACKAGOAT_READ_ONLY=.* is not a boolean; use 1/0"):
        load_settings(BASE | {"TRACKAGOAT_READ_ONLY": raw})


def test_lists_urls_and_keys_are_read_as_written() -> None:
    settings = load_settings(
        BASE
        | {
            "TRACKAGOAT_TOOLSETS": " Tracking, payouts ,,default",
            "TRACKAGOAT_ALLOWED_HOSTS": "MCP.example.com,[::1]:8000,mcp.example.com",
            "TRACKAGOAT_TIKTOK_BASE_URL": "http://sim.test/",
            "TRACKAGOAT_API_KEY": "  tga_abc \n",
            "TRACKAGOAT_SCRAPE_RATE": "",  # empty means unset
        }
    )

    assert settings.toolsets == DEFAULT_TOOLSETS
    assert settings.allowed_hosts == ("mcp.example.com", "[::1]:8000")
    assert (settings.tiktok_base_url, settings.api_key, settings.scrape_rate) == ("http://sim.test", "tga_abc", 1 / 3)
    assert load_settings(BASE | {"TRACKAGOAT_TOOLSETS": "all"}).toolsets == DEFAULT_TOOLSETS | {"admin"}


def test_flags_override_the_environment_and_unset_flags_keep_it() -> None:
    settings = load_settings(BASE | {"TRACKAGOAT_READ_ONLY": "yes"}, read_only=None, database_url="sqlite://")

    assert (settings.read_only, settings.database_url) == (True, "sqlite://")


def test_settings_are_immutable_hashable_and_overrides_are_validated() -> None:
    settings = Settings(database_url="sqlite://")

    with pytest.raises(ValueError):
        settings.read_only = True  # type: ignore[misc]
    assert hash(settings) == hash(Settings(database_url="sqlite://"))
    assert settings.with_overrides(max_sessions=5, read_only=None).max_sessions == 5
    with pytest.raises(ConfigError, match="TRACKAGOAT_ALLOWED_HOSTS entry 'a b'"):
        settings.with_overrides(allowed_hosts=("a b",))


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"TRACKAGOAT_DATABASE_URL": "mysql://root:hunter2@db/x"}, "'mysql://root:***@db/x' is not supported"),
        ({"TRACKAGOAT_TOOLSETS": "tracking,spam"}, "Unknown toolset(s) ['spam']"),
        ({"TRACKAGOAT_ACCRUAL_MINUTE": "60"}, "TRACKAGOAT_ACCRUAL_MINUTE 60 must be between 0 and 59."),
        ({"TRACKAGOAT_SCRAPE_RATE": "0"}, "TRACKAGOAT_SCRAPE_RATE 0.0 must be a positive requests-per-second."),
        ({"TRACKAGOAT_SCRAPE_RATE": "fast"}, "TRACKAGOAT_SCRAPE_RATE='fast' is not a valid float."),
        ({"TRACKAGOAT_SNAPSHOT_DETAIL_DAYS": "3"}, "must be 0 (keep every snapshot) or at least 7"),
        ({"TRACKAGOAT_MAX_SSE_STREAMS": "-1"}, "-1 must be at least 0 (0 turns the legacy SSE endpoint off)."),
    ],
)
def test_bad_values_are_config_errors_naming_variable_and_value(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(BASE | env)

    assert says in refused.value.message and "hunter2" not in refused.value.message
