"""Settings from `TRACKAGOAT_*` environment variables, built by `load_settings()` (nothing happens at import).

Environment first, then explicit overrides (the CLI passes its flags as overrides). Tests build
`Settings(...)` directly with explicit values and never read the real environment.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from trackagoat_mcp.errors import ConfigError

__all__ = [
    "ALL_TOOLSETS",
    "DEFAULT_TOOLSETS",
    "Settings",
    "default_database_url",
    "load_settings",
    "parse_hosts",
    "user_data_dir",
]

ALL_TOOLSETS: tuple[str, ...] = (
    "context",
    "tracking",
    "campaigns",
    "analytics",
    "goals",
    "notes",
    "payouts",
    "jobs",
    "admin",
)
DEFAULT_TOOLSETS: frozenset[str] = frozenset(ALL_TOOLSETS) - {"admin"}

_TRUE = {"1", "true", "yes", "on"}
_HOST_RE = re.compile(r"^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(?:[0-9]{1,5}|\*))?$")
"""A `Host` header value: a DNS name, IPv4 address or bracketed IPv6 address, optionally `:port` or `:*`."""
_FALSE = {"0", "false", "no", "off", ""}


def user_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user data directory the default SQLite file lives in.

    Linux and BSD follow XDG (`$XDG_DATA_HOME`, else `~/.local/share`), macOS uses
    `~/Library/Application Support`, Windows `%LOCALAPPDATA%`. Written here rather than pulled from
    a package because these three lines are all we need.
    """
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "trackagoat-mcp"


def default_database_url(environ: Mapping[str, str] | None = None) -> str:
    """`sqlite+aiosqlite:///<user data dir>/trackagoat.db`."""
    return f"sqlite+aiosqlite:///{user_data_dir(environ) / 'trackagoat.db'}"


@dataclass(frozen=True)
class Settings:
    """Everything the running system is configured with. Immutable; derive variants with `with_overrides`."""

    database_url: str
    api_key: str | None = field(default=None, repr=False)
    tiktok_base_url: str = "https://www.tiktok.com"
    scrape_rate: float = 1 / 3
    accrual_minute: int = 15
    toolsets: frozenset[str] = DEFAULT_TOOLSETS
    read_only: bool = False
    rate_limit_per_minute: int = 60
    """HTTP only: requests one key may make in any 60-second window (0 turns the limit off)."""
    allowed_hosts: tuple[str, ...] = ()
    """HTTP only: `Host` values accepted besides loopback (`host` or `host:port`), e.g. behind a proxy."""
    key_cache_seconds: float = 5.0
    """HTTP only: how long a process trusts a key it has verified (the revocation bound; 0 checks every request)."""
    org_rate_limit_per_minute: int = 300
    """HTTP only: requests all keys of one organization may make together in any 60 seconds (0: no limit)."""
    sessions_per_key: int = 16
    """HTTP only: open MCP sessions (Streamable HTTP sessions and SSE streams together) one key may hold."""
    sessions_per_org: int = 64
    """HTTP only: open MCP sessions all keys of one organization may hold together."""
    max_sessions: int = 1000
    """HTTP only: open Streamable HTTP sessions one server process holds for everyone."""
    max_sse_streams: int = 200
    """HTTP only: open legacy SSE streams (each one a connection) one server process holds for everyone."""
    session_idle_seconds: float = 600.0
    """HTTP only: a Streamable HTTP session with no request in flight for this long is closed."""
    auth_failures_per_minute: int = 20
    """HTTP only: failed authentications one client address may make in any 60 seconds before it gets 429."""
    header_timeout_seconds: float = 10.0
    """HTTP only: a request's headers must arrive within this long of the connection opening or the last response."""
    body_timeout_seconds: float = 30.0
    """HTTP only: a request's body must arrive within this long of its headers."""
    sqlite_busy_timeout: float = 15.0
    """SQLite only: seconds a write waits for another writer before failing as `store_unavailable`."""
    request_state_keys: tuple[str, ...] = field(default=(), repr=False)
    """HTTP only: secrets (32+ characters) sealing 2026-07-28 multi-round-trip state; the same on every replica."""
    min_creator_profiles_hours: float = 6.0
    """Scraper floor: a creator's profile is fetched at most once per this many hours."""
    min_discover_videos_hours: float = 4.0
    """Scraper floor: a creator's video list is read for new posts at most this often."""
    min_video_stats_hours: float = 4.0
    """Scraper floor: tracked videos' counters are refreshed at most this often."""
    tracking_expiry_days: int = 30
    """Videos posted longer ago than this are no longer refreshed (their numbers are taken as final)."""
    scrape_interval_minutes: float = 5.0
    """How often the scheduler wakes the scrape cycle (the floors decide what is actually due)."""
    scrape_now_daily_cap: int = 20
    """`scrape_now` calls one organization may make per UTC day (0 switches the tool off)."""
    job_run_retention_days: int = 90
    """Retention job: finished job runs older than this are deleted, the newest of each kind kept (0 keeps all)."""
    snapshot_detail_days: int = 0
    min_video_comments_hours: float = 6.0
    """Comment scraper floor: a video's comments are read at most once per this many hours."""
    comments_per_video: int = 500
    """Comments the scraper reads of one video per refresh, newest first (older ones follow in later refreshes)."""
    comments_per_cycle: int = 5000
    """Comments the scraper reads per cycle across all videos (0 switches comment scraping off)."""
    assignment_backdate_days: int = 366
    """How far back a payout assignment may start: every day before today it reaches back is a period the next
    accrual run evaluates at once, so this bounds the work one call can queue (and the history a program holds)."""
    """Retention job: snapshots older than this are thinned to the last of each day (0, the default, keeps all)."""

    def __post_init__(self) -> None:
        if not (self.database_url.startswith("sqlite") or self.database_url.startswith("postgresql")):
            raise ConfigError(
                f"TRACKAGOAT_DATABASE_URL {_redact_url(self.database_url)!r} is not supported; use "
                "'sqlite+aiosqlite:///path/to/file.db' or 'postgresql+asyncpg://user@host/db'."
            )
        unknown = sorted(self.toolsets - set(ALL_TOOLSETS))
        if unknown:
            raise ConfigError(f"Unknown toolset(s) {unknown!r}; choose from {list(ALL_TOOLSETS)!r}.")
        if not 0 <= self.accrual_minute <= 59:
            raise ConfigError(f"TRACKAGOAT_ACCRUAL_MINUTE {self.accrual_minute!r} must be between 0 and 59.")
        if self.scrape_rate <= 0:
            raise ConfigError(f"TRACKAGOAT_SCRAPE_RATE {self.scrape_rate!r} must be a positive requests-per-second.")
        if self.rate_limit_per_minute < 0:
            raise ConfigError(
                f"TRACKAGOAT_RATE_LIMIT_PER_MINUTE {self.rate_limit_per_minute!r} must be 0 (no limit) or more."
            )
        for env_name, (name, _kind, low) in _HTTP_NUMBERS.items():
            if getattr(self, name) < low:
                raise ConfigError(
                    f"{env_name} {getattr(self, name)!r} must be at least {low}{_HTTP_ZERO.get(name, '')}."
                )
        if not 0 <= self.key_cache_seconds <= 300:
            raise ConfigError(
                f"TRACKAGOAT_KEY_CACHE_SECONDS {self.key_cache_seconds!r} must be between 0 (look keys up on every "
                "request) and 300; it is how long a revoked key may keep working."
            )
        if not 0.1 <= self.sqlite_busy_timeout <= 600:
            raise ConfigError(
                f"TRACKAGOAT_SQLITE_BUSY_TIMEOUT {self.sqlite_busy_timeout!r} must be between 0.1 and 600 seconds "
                "(how long a write waits for another writer before it fails)."
            )
        for position, secret in enumerate(self.request_state_keys, start=1):
            if len(secret.encode()) < 32:
                raise ConfigError(
                    f"TRACKAGOAT_REQUEST_STATE_KEYS entry {position} is {len(secret.encode())} bytes long; each "
                    "must be at least 32 (make one with: python -c 'import secrets; print(secrets.token_hex(32))')."
                )
        for env_name, (name, _kind, low) in _JOB_NUMBERS.items():
            if getattr(self, name) < low:
                raise ConfigError(f"{env_name} {getattr(self, name)!r} must be at least {low}.")
        if 0 < self.snapshot_detail_days < 7:
            raise ConfigError(
                f"TRACKAGOAT_SNAPSHOT_DETAIL_DAYS {self.snapshot_detail_days!r} must be 0 (keep every snapshot) or at "
                "least 7, so that accruals still being evaluated read full detail."
            )
        for host in self.allowed_hosts:
            if not _HOST_RE.match(host):
                raise ConfigError(
                    f"TRACKAGOAT_ALLOWED_HOSTS entry {host!r} is not a host name; give names such as "
                    "'mcp.example.com' or 'mcp.example.com:8443', comma-separated, without a scheme or path."
                )

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced (`None` values are ignored, so unset CLI flags keep env values)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_JOB_NUMBERS: dict[str, tuple[str, type[int] | type[float], float]] = {
    "TRACKAGOAT_MIN_CREATOR_PROFILES_HOURS": ("min_creator_profiles_hours", float, 0),
    "TRACKAGOAT_MIN_DISCOVER_VIDEOS_HOURS": ("min_discover_videos_hours", float, 0),
    "TRACKAGOAT_MIN_VIDEO_STATS_HOURS": ("min_video_stats_hours", float, 0),
    "TRACKAGOAT_TRACKING_EXPIRY_DAYS": ("tracking_expiry_days", int, 1),
    "TRACKAGOAT_SCRAPE_INTERVAL_MINUTES": ("scrape_interval_minutes", float, 0.1),
    "TRACKAGOAT_SCRAPE_NOW_DAILY_CAP": ("scrape_now_daily_cap", int, 0),
    "TRACKAGOAT_JOB_RUN_RETENTION_DAYS": ("job_run_retention_days", int, 0),
    "TRACKAGOAT_SNAPSHOT_DETAIL_DAYS": ("snapshot_detail_days", int, 0),
    "TRACKAGOAT_ASSIGNMENT_BACKDATE_DAYS": ("assignment_backdate_days", int, 0),
    "TRACKAGOAT_MIN_VIDEO_COMMENTS_HOURS": ("min_video_comments_hours", float, 0),
    "TRACKAGOAT_COMMENTS_PER_VIDEO": ("comments_per_video", int, 1),
    "TRACKAGOAT_COMMENTS_PER_CYCLE": ("comments_per_cycle", int, 0),
}
"""Scraper and retention settings read from the environment: variable → (field, type, smallest allowed value)."""

_HTTP_NUMBERS: dict[str, tuple[str, type[int] | type[float], float]] = {
    "TRACKAGOAT_ORG_RATE_LIMIT_PER_MINUTE": ("org_rate_limit_per_minute", int, 0),
    "TRACKAGOAT_SESSIONS_PER_KEY": ("sessions_per_key", int, 1),
    "TRACKAGOAT_SESSIONS_PER_ORG": ("sessions_per_org", int, 1),
    "TRACKAGOAT_MAX_SESSIONS": ("max_sessions", int, 1),
    "TRACKAGOAT_MAX_SSE_STREAMS": ("max_sse_streams", int, 0),
    "TRACKAGOAT_SESSION_IDLE_SECONDS": ("session_idle_seconds", float, 1),
    "TRACKAGOAT_AUTH_FAILURES_PER_MINUTE": ("auth_failures_per_minute", int, 0),
    "TRACKAGOAT_HEADER_TIMEOUT_SECONDS": ("header_timeout_seconds", float, 0.1),
    "TRACKAGOAT_BODY_TIMEOUT_SECONDS": ("body_timeout_seconds", float, 0.1),
}
"""HTTP caps and timeouts read from the environment: variable → (field, type, smallest allowed value)."""

_HTTP_ZERO = {
    "org_rate_limit_per_minute": " (0 turns the limit off)",
    "max_sse_streams": " (0 turns the legacy SSE endpoint off)",
    "auth_failures_per_minute": " (0 turns the throttle off)",
}


def parse_toolsets(raw: str) -> frozenset[str]:
    """Parse `"context,tracking"` (or `"all"`, or `"default"`) into a set of toolset names."""
    names = {part.strip().lower() for part in raw.split(",") if part.strip()}
    result: set[str] = set()
    for name in names:
        if name == "all":
            result |= set(ALL_TOOLSETS)
        elif name == "default":
            result |= DEFAULT_TOOLSETS
        else:
            result.add(name)
    return frozenset(result)


def parse_hosts(raw: str) -> tuple[str, ...]:
    """Parse `"mcp.example.com, 10.0.0.5:8000"` into lowercase host entries (validated by `Settings`)."""
    return tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def _parse_number(name: str, raw: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a valid {kind.__name__}.") from exc


def _redact_url(url: str) -> str:
    """Hide a password in a database URL before it goes into a message."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build `Settings` from `TRACKAGOAT_*` variables in `environ` (default `os.environ`), then `overrides`."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {"database_url": env.get("TRACKAGOAT_DATABASE_URL") or default_database_url(env)}
    if env.get("TRACKAGOAT_API_KEY"):
        values["api_key"] = env["TRACKAGOAT_API_KEY"].strip()
    if env.get("TRACKAGOAT_TIKTOK_BASE_URL"):
        values["tiktok_base_url"] = env["TRACKAGOAT_TIKTOK_BASE_URL"].rstrip("/")
    if env.get("TRACKAGOAT_SCRAPE_RATE"):
        values["scrape_rate"] = _parse_number("TRACKAGOAT_SCRAPE_RATE", env["TRACKAGOAT_SCRAPE_RATE"], float)
    if env.get("TRACKAGOAT_ACCRUAL_MINUTE"):
        values["accrual_minute"] = _parse_number("TRACKAGOAT_ACCRUAL_MINUTE", env["TRACKAGOAT_ACCRUAL_MINUTE"], int)
    if env.get("TRACKAGOAT_TOOLSETS"):
        values["toolsets"] = parse_toolsets(env["TRACKAGOAT_TOOLSETS"])
    if "TRACKAGOAT_READ_ONLY" in env:
        values["read_only"] = _parse_bool("TRACKAGOAT_READ_ONLY", env["TRACKAGOAT_READ_ONLY"])
    if env.get("TRACKAGOAT_RATE_LIMIT_PER_MINUTE"):
        values["rate_limit_per_minute"] = _parse_number(
            "TRACKAGOAT_RATE_LIMIT_PER_MINUTE", env["TRACKAGOAT_RATE_LIMIT_PER_MINUTE"], int
        )
    if env.get("TRACKAGOAT_ALLOWED_HOSTS"):
        values["allowed_hosts"] = parse_hosts(env["TRACKAGOAT_ALLOWED_HOSTS"])
    if env.get("TRACKAGOAT_KEY_CACHE_SECONDS"):
        values["key_cache_seconds"] = _parse_number(
            "TRACKAGOAT_KEY_CACHE_SECONDS", env["TRACKAGOAT_KEY_CACHE_SECONDS"], float
        )
    if env.get("TRACKAGOAT_SQLITE_BUSY_TIMEOUT"):
        values["sqlite_busy_timeout"] = _parse_number(
            "TRACKAGOAT_SQLITE_BUSY_TIMEOUT", env["TRACKAGOAT_SQLITE_BUSY_TIMEOUT"], float
        )
    if env.get("TRACKAGOAT_REQUEST_STATE_KEYS"):
        raw_keys = env["TRACKAGOAT_REQUEST_STATE_KEYS"].split(",")
        values["request_state_keys"] = tuple(k.strip() for k in raw_keys if k.strip())
    for env_name, (name, kind, _low) in {**_JOB_NUMBERS, **_HTTP_NUMBERS}.items():
        if env.get(env_name):
            values[name] = _parse_number(env_name, env[env_name], kind)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
