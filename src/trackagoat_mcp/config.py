"""Settings from `TRACKAGOAT_*` environment variables, built by `load_settings()` (nothing happens at import).

Every setting is declared once, as a field of `Settings`: its type, default, bounds and one-line description
(the README's configuration table is generated from them: `scripts/settings_table.py`). Its variable is
`TRACKAGOAT_` + the field name in capitals. Environment first, then explicit overrides (the CLI passes its flags
as overrides). `Settings(...)` built directly takes only the values it is given and never reads the environment,
which is how tests build it.

A bad value is a `ConfigError` whose sentence names the variable and the value and says what to accept.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode
from pydantic_settings.sources import PydanticBaseEnvSettingsSource

from trackagoat_mcp.errors import ConfigError

__all__ = [
    "ALL_TOOLSETS",
    "DEFAULT_TOOLSETS",
    "ENV_PREFIX",
    "Settings",
    "default_database_url",
    "env_name",
    "load_settings",
    "parse_hosts",
    "parse_toolsets",
    "user_data_dir",
]

ENV_PREFIX = "TRACKAGOAT_"
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
_FALSE = {"0", "false", "no", "off", ""}
_HOST_RE = re.compile(r"^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(?:[0-9]{1,5}|\*))?$")
"""A `Host` header value: a DNS name, IPv4 address or bracketed IPv6 address, optionally `:port` or `:*`."""


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


def env_name(field: str) -> str:
    """The environment variable of a `Settings` field: `TRACKAGOAT_` + its name in capitals."""
    return ENV_PREFIX + field.upper()


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


def _parse_secrets(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _setting(
    default: Any,
    description: str,
    *,
    rule: str | None = None,
    shown: str | None = None,
    note: str | None = None,
    flag: str | None = None,
    **field: Any,
) -> Any:
    """A field with its README row: `shown` replaces the rendered default, `note` follows it, `flag` is the CLI's
    flag for it; `rule` is the sentence a value out of bounds gets (else one is made from the bounds)."""
    extra = {"rule": rule, "shown": shown, "note": note, "flag": flag}
    return Field(default, description=description, json_schema_extra={k: v for k, v in extra.items() if v}, **field)


class Settings(BaseModel):
    """Everything the running system is configured with. Immutable; derive variants with `with_overrides`.

    A plain model, so building one takes only the values given; `load_settings` adds the environment's.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = Field(
        description="`sqlite+aiosqlite:///path.db` or `postgresql+asyncpg://user@host/db`",
        json_schema_extra={"shown": "SQLite file in the user data dir"},
    )
    api_key: str | None = _setting(
        None,
        "over stdio: the key whose organization and scopes the session acts as; unset and exactly one organization "
        "→ that organization with all scopes",
        repr=False,
    )
    toolsets: Annotated[frozenset[str], NoDecode] = _setting(
        DEFAULT_TOOLSETS,
        "comma-separated toolsets; `all` and `default` also work",
        shown="all but `admin`",
        flag="--toolsets",
    )
    read_only: bool = _setting(False, "hide every tool that writes", flag="--read-only")
    tiktok_base_url: str = _setting(
        "https://www.tiktok.com", "where the scraper goes (the demo and the tests point it at a simulated site)"
    )
    scrape_rate: float = _setting(
        1 / 3,
        "the scraper's token bucket per host, shared by everything that scrapes in one process (up to 4 requests "
        "in flight)",
        note="requests/s per host",
        rule="must be a positive requests-per-second",
        gt=0,
    )
    scrape_interval_minutes: float = _setting(
        5.0,
        "how often the scheduler wakes the scrape cycle; the floors below decide what is actually fetched",
        ge=0.1,
    )
    min_creator_profiles_hours: float = _setting(
        6.0,
        "a creator's profile (followers, likes, video count, name) is fetched at most this often",
        ge=0,
    )
    min_discover_videos_hours: float = _setting(
        4.0, "a creator's video list is read for new posts at most this often", ge=0
    )
    min_video_stats_hours: float = _setting(4.0, "tracked videos' counters are refreshed at most this often", ge=0)
    tracking_expiry_days: int = _setting(
        30, "videos posted longer ago are no longer refreshed (their numbers are taken as final)", ge=1
    )
    scrape_now_daily_cap: int = _setting(
        20, "`scrape_now` calls per organization per UTC day (`0` turns the tool off)", ge=0
    )
    job_run_retention_days: int = _setting(
        90,
        "the daily retention job deletes finished job runs older than this, keeping the newest of each job and "
        "status (`0` keeps all)",
        ge=0,
    )
    snapshot_detail_days: int = _setting(
        0,
        "when set (7 or more), snapshots older than this many days are thinned to the last of each day "
        "(organization's timezone)",
        note="(keep all)",
        ge=0,
    )
    assignment_backdate_days: int = _setting(
        366,
        "how far before today a payout assignment may start (its periods are evaluated by the next accrual run); "
        "older work is paid ad hoc",
        ge=0,
    )
    accrual_minute: int = _setting(
        15, "minute (UTC) of the hourly accrual run in `serve`/`worker` (`accrue` runs it by hand)", ge=0, le=59
    )
    rate_limit_per_minute: int = _setting(
        60,
        "HTTP: requests one key may make in any 60-second window, per server process (`0` turns the limit off)",
        rule="must be 0 (no limit) or more",
        ge=0,
    )
    org_rate_limit_per_minute: int = _setting(
        300,
        "HTTP: requests all keys of one organization may make together in any 60-second window, per process "
        "(`0` turns it off)",
        rule="must be at least 0 (0 turns the limit off)",
        ge=0,
    )
    sessions_per_key: int = _setting(
        16,
        "HTTP: open MCP sessions one key may hold (Streamable HTTP sessions and SSE streams together); past it 429 "
        "with `Retry-After`",
        ge=1,
    )
    sessions_per_org: int = _setting(
        64, "HTTP: open MCP sessions all keys of one organization may hold together; past it 429", ge=1
    )
    max_sessions: int = _setting(
        1000,
        "HTTP: open Streamable HTTP sessions per server process, for everyone; past it 503 with `Retry-After`",
        ge=1,
    )
    max_sse_streams: int = _setting(
        200,
        "HTTP: open legacy SSE streams (each a connection) per server process; past it 503 (`0` refuses every stream)",
        rule="must be at least 0 (0 turns the legacy SSE endpoint off)",
        ge=0,
    )
    session_idle_seconds: float = _setting(
        600.0,
        "HTTP: a Streamable HTTP session with no request in flight (an open GET stream counts) for this long is "
        "closed and gives its place back",
        ge=1,
    )
    auth_failures_per_minute: int = _setting(
        20,
        "HTTP: invalid keys one client address may send in any 60 seconds; past it every key from that address "
        "gets 429 before it is looked up (`0` turns it off)",
        rule="must be at least 0 (0 turns the throttle off)",
        ge=0,
    )
    header_timeout_seconds: float = _setting(
        10.0,
        "HTTP: a request's headers must arrive within this long of the connection opening or the previous "
        "response, else the connection is closed",
        ge=0.1,
    )
    body_timeout_seconds: float = _setting(
        30.0,
        "HTTP: a request's body must arrive within this long of its headers, else 408 and the connection is closed",
        ge=0.1,
    )
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = _setting(
        (),
        "HTTP: comma-separated `Host` names accepted besides `127.0.0.1`, `localhost` and `[::1]`, e.g. "
        "`mcp.example.com` behind a proxy (`name` allows any port, `name:port` only that port)",
        note="(loopback only)",
    )
    key_cache_seconds: float = _setting(
        5.0,
        "HTTP: how long a server process trusts a key it has verified before looking it up again, so the longest "
        "a revoked key keeps working (`0` looks keys up on every request; at most `300`)",
        rule="must be between 0 (look keys up on every request) and 300; it is how long a revoked key may keep working",
        ge=0,
        le=300,
    )
    sqlite_busy_timeout: float = _setting(
        15.0,
        "SQLite: seconds a write waits for another writer (another process, a backup) before it fails with "
        "`store_unavailable`; 0.1–600",
        rule="must be between 0.1 and 600 seconds (how long a write waits for another writer before it fails)",
        ge=0.1,
        le=600,
    )
    request_state_keys: Annotated[tuple[str, ...], NoDecode] = _setting(
        (),
        "HTTP: comma-separated secrets of 32+ characters that seal the state of 2026-07-28 multi-round-trip calls; "
        "give every replica the same list (first one seals, all unseal, so keys rotate by prepending); the first also "
        'signs money confirmation tokens — see "Scale-out"',
        note="(a random key per process)",
        repr=False,
    )

    scrape_proxy: str | None = _setting(
        None,
        "outbound proxy for every scheme the scraper uses, e.g. `http://user:password@host:3128` (credentials are "
        'never logged) — see "When TikTok blocks you"',
        repr=False,
    )
    scrape_proxy_http: str | None = _setting(
        None, "proxy for `http://` requests, winning over `SCRAPE_PROXY`", repr=False
    )
    scrape_proxy_https: str | None = _setting(
        None, "proxy for `https://` requests (TikTok itself), winning over `SCRAPE_PROXY`", repr=False
    )
    scrape_cookies: str | None = _setting(
        None, "cookies sent to TikTok as `name=value; name2=value2` (a logged-out browser's cookies)", repr=False
    )
    scrape_cookie_file: str | None = _setting(
        None, "path of a Netscape `cookies.txt` exported from a browser; its cookies are sent to TikTok"
    )
    browser_fetcher: bool = _setting(
        False, "load pages the plain client found blocked in headless Chromium (needs the `browser` extra)"
    )
    browser_executable: str = _setting(
        "/usr/bin/chromium", "the Chromium (or Chrome) the browser fetcher launches; nothing is downloaded"
    )
    browser_timeout_seconds: float = _setting(
        30.0, "how long one page may take in the browser, its scripts and a challenge's reload included", ge=1
    )
    block_rate_threshold: float = _setting(
        0.2,
        "health: share of fetches blocked in recent scrape cycles above which `get_program_health` raises a finding",
        rule="must be a share above 0 and at most 1 (0.2 raises a finding when more than a fifth of fetches were "
        "blocked)",
        gt=0,
        le=1,
    )
    block_rate_cycles: int = _setting(6, "health: how many of the latest scrape cycles the block rate covers", ge=1)

    money_confirmation: Literal["elicit", "token", "off"] = _setting(
        "elicit",
        "how a person approves MCP calls that move money (payments, voids, rejecting or voiding accruals, "
        "assignments): `elicit` asks through the client's elicitation (a token when it has none), `token` always "
        "answers a preview and a short-lived confirmation token first, `off` writes at once (trusted automation); see "
        '"Confirmation before money moves" under "Decisions worth knowing"',
        rule="must be 'elicit' (ask the person), 'token' (preview, then confirm) or 'off' (trusted automation)",
    )

    alert_interval_minutes: float = _setting(
        15.0, "how often the alert job evaluates every organization's findings and sends new alerts to webhooks", ge=1
    )
    alert_unpaid_days: int = _setting(
        14, "an unpaid balance becomes an alert once its oldest earned period began this many days ago", ge=0
    )
    alert_unpaid_cents: int = _setting(
        1, "an unpaid balance becomes an alert only from this many cents (with `ALERT_UNPAID_DAYS`)", ge=1
    )
    webhook_attempts: int = _setting(
        4,
        "tries per alert webhook delivery (the first plus retries with exponential backoff) within one alert run",
        ge=1,
    )
    webhook_allow_loopback: bool = _setting(
        False, "alert webhooks may use plain http to loopback addresses (tests and local development only)"
    )
    webhook_allow_private: bool = _setting(
        False, "alert webhooks may point at private, link-local or loopback addresses (an internal chat bridge)"
    )

    min_video_comments_hours: float = _setting(
        6.0, "comment scraper floor: a video's comments are read at most once per this many hours", ge=0
    )
    comments_per_video: int = _setting(
        500,
        "top-level comments the scraper reads of one video per refresh, newest first (older ones follow in later "
        "refreshes)",
        ge=1,
    )
    comments_per_cycle: int = _setting(
        5000, "top-level comments the scraper reads per cycle across all videos (`0` turns comment scraping off)", ge=0
    )

    @model_validator(mode="wrap")
    @classmethod
    def _refuse_with_a_sentence(cls, data: Any, handler: Callable[[Any], Settings]) -> Settings:
        try:
            return handler(data)
        except ValidationError as exc:
            raise ConfigError(_sentence(exc.errors()[0])) from None

    @field_validator("database_url")
    @classmethod
    def _supported_store(cls, url: str) -> str:
        if not (url.startswith("sqlite") or url.startswith("postgresql")):
            raise ValueError(
                f"TRACKAGOAT_DATABASE_URL {_redact_url(url)!r} is not supported; use "
                "'sqlite+aiosqlite:///path/to/file.db' or 'postgresql+asyncpg://user@host/db'."
            )
        return url

    @field_validator(
        "api_key", "scrape_proxy", "scrape_proxy_http", "scrape_proxy_https", "scrape_cookies", "scrape_cookie_file"
    )
    @classmethod
    def _trimmed_key(cls, key: str | None) -> str | None:
        return None if key is None else key.strip()

    @field_validator("tiktok_base_url")
    @classmethod
    def _origin(cls, url: str) -> str:
        return url.rstrip("/")

    @field_validator("money_confirmation", mode="before")
    @classmethod
    def _mode_word(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("read_only", "browser_fetcher", "webhook_allow_loopback", "webhook_allow_private", mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError(f"TRACKAGOAT_READ_ONLY={value!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")

    @field_validator("toolsets", mode="before")
    @classmethod
    def _toolset_names(cls, value: Any) -> Any:
        return parse_toolsets(value) if isinstance(value, str) else value

    @field_validator("toolsets")
    @classmethod
    def _known_toolsets(cls, toolsets: frozenset[str]) -> frozenset[str]:
        unknown = sorted(toolsets - set(ALL_TOOLSETS))
        if unknown:
            raise ValueError(f"Unknown toolset(s) {unknown!r}; choose from {list(ALL_TOOLSETS)!r}.")
        return toolsets

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        return parse_hosts(value) if isinstance(value, str) else value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        for host in hosts:
            if not _HOST_RE.match(host):
                raise ValueError(
                    f"TRACKAGOAT_ALLOWED_HOSTS entry {host!r} is not a host name; give names such as "
                    "'mcp.example.com' or 'mcp.example.com:8443', comma-separated, without a scheme or path."
                )
        return hosts

    @field_validator("request_state_keys", mode="before")
    @classmethod
    def _secret_list(cls, value: Any) -> Any:
        return _parse_secrets(value) if isinstance(value, str) else value

    @field_validator("request_state_keys")
    @classmethod
    def _long_secrets(cls, secrets: tuple[str, ...]) -> tuple[str, ...]:
        for position, secret in enumerate(secrets, start=1):
            if len(secret.encode()) < 32:
                raise ValueError(
                    f"TRACKAGOAT_REQUEST_STATE_KEYS entry {position} is {len(secret.encode())} bytes long; each "
                    "must be at least 32 (make one with: python -c 'import secrets; print(secrets.token_hex(32))')."
                )
        return secrets

    @field_validator("snapshot_detail_days")
    @classmethod
    def _full_detail_for_open_accruals(cls, days: int) -> int:
        if 0 < days < 7:
            raise ValueError(
                f"TRACKAGOAT_SNAPSHOT_DETAIL_DAYS {days!r} must be 0 (keep every snapshot) or at least 7, so that "
                "accruals still being evaluated read full detail."
            )
        return days

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced (`None` values are ignored, so unset CLI flags keep env values)."""
        values = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self)(**(values | {k: v for k, v in changes.items() if v is not None}))


class _Variables(PydanticBaseEnvSettingsSource):
    """The `TRACKAGOAT_*` variables of one mapping (`os.environ`, or the dict a test passes), empty ones unset.

    pydantic-settings maps each field to its variable and keeps list-valued ones (`NoDecode`) as the raw text the
    field's validator splits; the source only reads them from `environ`, which tests pass as a dict.
    """

    def __init__(self, environ: Mapping[str, str]) -> None:
        # The source reads only `model_fields` and `model_config` of the class it is given, which a plain model has.
        super().__init__(cast("type[BaseSettings]", Settings), case_sensitive=True, env_prefix=ENV_PREFIX)
        self.environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.environ.get(env_name(field_name)) or None, field_name, False


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build `Settings` from `TRACKAGOAT_*` variables in `environ` (default `os.environ`), then `overrides`."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {"database_url": default_database_url(env)}
    values |= _Variables(env)()
    values |= {k: v for k, v in overrides.items() if v is not None}
    return Settings(**values)


def _sentence(error: ErrorDetails) -> str:
    """The `ConfigError` text for pydantic's first complaint: the variable, the value, what to give instead."""
    name = str(error["loc"][0]) if error["loc"] else ""
    variable, value, kind = env_name(name), error["input"], error["type"]
    field = Settings.model_fields.get(name)
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind == "missing":
        return f"{variable} is required; give the store's URL."
    if field is None or kind == "extra_forbidden":
        return f"{name!r} is not a setting; choose from {sorted(Settings.model_fields)!r}."
    number = int if field.annotation is int else float
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return f"{variable} {number(value)!r} {_rule(field)}."
    if kind == "literal_error":
        return f"{variable} {value!r} {_rule(field)}."
    if kind.startswith(("int_", "float_")):
        return f"{variable}={value!r} is not a valid {number.__name__}."
    return f"{variable}={value!r} is not accepted: {error['msg']}."


def _rule(field: FieldInfo) -> str:
    """What a value of `field` must be: its declared `rule`, else a sentence made from its bounds."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if extra.get("rule"):
        return str(extra["rule"])
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    above = next((m.gt for m in field.metadata if isinstance(m, Gt)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    if low is not None and high is not None:
        return f"must be between {low} and {high}"
    if above is not None:
        return f"must be more than {above}"
    return f"must be at least {low}"


def _redact_url(url: str) -> str:
    """Hide a password in a database URL before it goes into a message."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url
