"""The pieces of the HTTP layer on their own: the rate limiter, key verification and `last_used_at`, settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.http.support import make_key
from trackagoat_mcp.config import Settings, load_settings
from trackagoat_mcp.db.models import ApiKey
from trackagoat_mcp.domain import keys
from trackagoat_mcp.errors import ConfigError
from trackagoat_mcp.http.budget import Owner, SessionBudget
from trackagoat_mcp.http.guard import allowed_host_patterns, allowed_origins, host_allowed
from trackagoat_mcp.http.keys import KeyVerifier
from trackagoat_mcp.http.limits import RateLimiter


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_limit_is_a_sliding_window_and_retry_after_says_when_a_slot_frees():
    ticker = Ticker()
    limiter = RateLimiter(3, monotonic=ticker)
    assert [limiter.hit("k") for _ in range(3)] == [None, None, None]
    ticker.now += 20
    assert limiter.hit("k") == 40, "the oldest request leaves the window 40 s from now"
    assert limiter.hit("other") is None, "limits are per key"
    ticker.now += 40
    assert [limiter.hit("k") for _ in range(3)] == [None, None, None], "all three aged out 60 s after they came"
    assert limiter.hit("k") == 60


def test_a_refused_request_does_not_use_up_the_window():
    ticker = Ticker()
    limiter = RateLimiter(1, monotonic=ticker)
    assert limiter.hit("k") is None
    for _ in range(5):
        ticker.now += 10
        assert limiter.hit("k") is not None
    ticker.now += 10.5
    assert limiter.hit("k") is None, "60 s after the one admitted request, whatever was refused meanwhile"


def test_wait_says_when_a_key_would_be_admitted_without_counting_and_old_keys_are_forgotten_past_max_keys():
    ticker = Ticker()
    limiter = RateLimiter(1, max_keys=2, monotonic=ticker)
    assert [limiter.wait("a"), limiter.wait("a")] == [None, None], "waiting counts nothing"
    assert limiter.hit("a") is None
    assert limiter.wait("a") == 60
    limiter.hit("b")
    limiter.hit("c")
    assert limiter.wait("a") is None, "the longest-tracked key was forgotten to stay within max_keys"
    assert limiter.wait("c") == 60


def test_the_session_budget_refuses_per_key_then_per_organization_then_per_process_and_release_gives_back():
    budget = SessionBudget(per_key=2, per_org=3, per_process={"session": 4, "sse": 1})
    a1, a2, b1 = Owner("k1", "org-a"), Owner("k2", "org-a"), Owner("k3", "org-b")
    assert [budget.admit(a1, "session"), budget.admit(a1, "session"), budget.admit(a1, "session")] == [
        None,
        None,
        "key",
    ]
    assert [budget.admit(a2, "session"), budget.admit(a2, "sse")] == [None, "org"]
    assert [budget.admit(b1, "sse"), budget.admit(b1, "sse")] == [None, "process"], "SSE has its own process cap"
    assert [budget.admit(b1, "session"), budget.admit(b1, "session")] == [None, "process"]
    budget.release(a1, "session")
    assert budget.admit(a2, "session") is None, "a released place can be taken by another key of the organization"
    assert budget.open_count("session") == 4


def test_a_rate_limit_of_zero_admits_everything():
    limiter = RateLimiter(0)
    assert all(limiter.hit("k") is None for _ in range(1000))


async def test_a_valid_key_becomes_its_organization_and_scopes_and_last_used_is_written_once_a_minute(db, clock, acme):
    key = await make_key(db, clock, acme[0].org_id, scopes=("read",))
    ticker = Ticker()
    verifier = KeyVerifier(db, clock, monotonic=ticker)

    token = await verifier.verify_token(key)
    first_use = clock.now()
    clock.advance(timedelta(seconds=30))
    ticker.now += 30
    await verifier.verify_token(key)
    async with db.read() as session:
        row = (await keys.list_keys(session, org_id=acme[0].org_id))[0]
    clock.advance(timedelta(seconds=31))
    ticker.now += 31
    await verifier.verify_token(key)
    async with db.read() as session:
        later = await session.get(ApiKey, row.id)

    assert token is not None
    assert token.client_id == f"{acme[0].org_id}:{row.id}"
    assert token.scopes == ["read"]
    assert row.last_used_at is not None and row.last_used_at.replace(tzinfo=first_use.tzinfo) == first_use
    assert later is not None and later.last_used_at is not None
    assert later.last_used_at.replace(tzinfo=first_use.tzinfo) == clock.now(), "written again after a minute"


async def test_malformed_unknown_and_revoked_keys_verify_to_nothing(db, clock, acme):
    key = await make_key(db, clock, acme[0].org_id)
    async with db.write() as session:
        await keys.revoke_key(session, ref=key, now=clock.now())
    verifier = KeyVerifier(db, clock)

    for presented in (key, "tga_" + "0" * 64, "tga_short", "", key.upper()):
        assert await verifier.verify_token(presented) is None, presented[:8]


async def test_a_verified_key_is_trusted_for_the_cache_window_so_revocation_takes_at_most_that_long(db, clock, acme):
    key = await make_key(db, clock, acme[0].org_id)
    ticker = Ticker()
    verifier = KeyVerifier(db, clock, cache_seconds=5, monotonic=ticker)

    assert await verifier.verify_token(key) is not None
    async with db.write() as session:
        await keys.revoke_key(session, ref=key, now=clock.now())
    ticker.now += 4.9
    still_trusted = await verifier.verify_token(key)
    ticker.now += 0.1
    after_the_window = await verifier.verify_token(key)

    assert still_trusted is not None, "within the documented bound the remembered answer is used"
    assert after_the_window is None, "5 s after the key was verified, its revocation is seen"


async def test_with_the_cache_off_or_the_key_evicted_a_revocation_is_seen_on_the_next_request(db, clock, acme):
    first, second = await make_key(db, clock, acme[0].org_id), await make_key(db, clock, acme[0].org_id)
    uncached = KeyVerifier(db, clock, cache_seconds=0)
    one_slot = KeyVerifier(db, clock, max_cached=1)
    for verifier in (uncached, one_slot):
        assert await verifier.verify_token(first) is not None
    assert await one_slot.verify_token(second) is not None, "remembering the second key evicts the first"
    async with db.write() as session:
        await keys.revoke_key(session, ref=first, now=clock.now())

    assert await uncached.verify_token(first) is None
    assert await one_slot.verify_token(first) is None


async def test_an_unknown_key_is_not_remembered_so_it_works_as_soon_as_it_exists(db, clock, acme):
    verifier = KeyVerifier(db, clock)
    async with db.write() as session:
        row, key = await keys.create_key(session, org_id=acme[0].org_id, name="later", now=clock.now())
        await session.rollback()  # the key does not exist yet
    assert await verifier.verify_token(key) is None
    async with db.write() as session:
        session.add(ApiKey(**row.model_dump()))

    assert await verifier.verify_token(key) is not None


def test_hosts_match_on_any_port_unless_a_port_is_given_and_origins_follow_hosts():
    patterns = allowed_host_patterns(["mcp.example.com", "10.0.0.5:8000"])
    origins = allowed_origins(["mcp.example.com"])

    assert host_allowed("127.0.0.1:8000", patterns) and host_allowed("localhost", patterns)
    assert host_allowed("[::1]:9000", patterns)
    assert host_allowed("mcp.example.com", patterns) and host_allowed("MCP.example.com:443", patterns)
    assert host_allowed("10.0.0.5:8000", patterns) and not host_allowed("10.0.0.5:9000", patterns)
    assert not host_allowed("mcp.example.com.evil.net", patterns)
    assert not host_allowed("evil.net", patterns) and not host_allowed("", patterns)
    assert host_allowed("https://mcp.example.com", origins) and host_allowed("http://localhost:5173", origins)
    assert not host_allowed("https://evil.net", origins) and not host_allowed("null", origins)
    for smuggled in ("localhost:80@evil.com", "127.0.0.1:evil.com", "127.0.0.1:80:81", "127.0.0.1:123456", "a b"):
        assert not host_allowed(smuggled, patterns), smuggled
    for smuggled in (
        "http://127.0.0.1:80.evil.com",
        "http://user@localhost",
        "http://localhost/path",
        "ftp://localhost",
    ):
        assert not host_allowed(smuggled, origins), smuggled


def test_http_settings_come_from_the_environment():
    env = {
        "TRACKAGOAT_DATABASE_URL": "sqlite+aiosqlite:///x.db",
        "TRACKAGOAT_RATE_LIMIT_PER_MINUTE": "120",
        "TRACKAGOAT_ALLOWED_HOSTS": " MCP.example.com, 10.0.0.5:8000 ,,",
        "TRACKAGOAT_KEY_CACHE_SECONDS": "0",
        "TRACKAGOAT_REQUEST_STATE_KEYS": f" {'a' * 32}, {'b' * 64} ",
        "TRACKAGOAT_SESSIONS_PER_KEY": "4",
        "TRACKAGOAT_SESSIONS_PER_ORG": "8",
        "TRACKAGOAT_MAX_SESSIONS": "100",
        "TRACKAGOAT_MAX_SSE_STREAMS": "0",
        "TRACKAGOAT_SESSION_IDLE_SECONDS": "90",
        "TRACKAGOAT_ORG_RATE_LIMIT_PER_MINUTE": "0",
        "TRACKAGOAT_AUTH_FAILURES_PER_MINUTE": "7",
        "TRACKAGOAT_HEADER_TIMEOUT_SECONDS": "2.5",
        "TRACKAGOAT_BODY_TIMEOUT_SECONDS": "5",
    }
    settings = load_settings(env)
    defaults = load_settings({"TRACKAGOAT_DATABASE_URL": "sqlite+aiosqlite:///x.db"})

    assert settings.rate_limit_per_minute == 120
    assert settings.allowed_hosts == ("mcp.example.com", "10.0.0.5:8000")
    assert (settings.key_cache_seconds, settings.request_state_keys) == (0, ("a" * 32, "b" * 64))
    assert (defaults.rate_limit_per_minute, defaults.allowed_hosts) == (60, ())
    assert (defaults.key_cache_seconds, defaults.request_state_keys) == (5, ())
    assert "a" * 32 not in repr(settings), "request-state secrets stay out of reprs and logs"
    caps = (settings.sessions_per_key, settings.sessions_per_org, settings.max_sessions, settings.max_sse_streams)
    assert caps == (4, 8, 100, 0)
    assert (settings.session_idle_seconds, settings.org_rate_limit_per_minute, settings.auth_failures_per_minute) == (
        90,
        0,
        7,
    )
    assert (settings.header_timeout_seconds, settings.body_timeout_seconds) == (2.5, 5)
    default_caps = (
        defaults.sessions_per_key,
        defaults.sessions_per_org,
        defaults.max_sessions,
        defaults.max_sse_streams,
    )
    assert default_caps == (16, 64, 1000, 200)


@pytest.mark.parametrize(
    ("env", "phrase"),
    [
        ({"TRACKAGOAT_RATE_LIMIT_PER_MINUTE": "lots"}, "not a valid int"),
        ({"TRACKAGOAT_RATE_LIMIT_PER_MINUTE": "-1"}, "0 (no limit) or more"),
        ({"TRACKAGOAT_ALLOWED_HOSTS": "https://mcp.example.com"}, "without a scheme"),
        ({"TRACKAGOAT_ALLOWED_HOSTS": "mcp.example.com/mcp"}, "not a host name"),
        ({"TRACKAGOAT_KEY_CACHE_SECONDS": "3600"}, "how long a revoked key may keep working"),
        ({"TRACKAGOAT_KEY_CACHE_SECONDS": "-1"}, "between 0"),
        ({"TRACKAGOAT_REQUEST_STATE_KEYS": "short-secret"}, "at least 32"),
        ({"TRACKAGOAT_SESSIONS_PER_KEY": "0"}, "TRACKAGOAT_SESSIONS_PER_KEY 0 must be at least 1"),
        ({"TRACKAGOAT_MAX_SESSIONS": "many"}, "not a valid int"),
        ({"TRACKAGOAT_AUTH_FAILURES_PER_MINUTE": "-3"}, "0 turns the throttle off"),
        ({"TRACKAGOAT_HEADER_TIMEOUT_SECONDS": "0"}, "must be at least 0.1"),
    ],
)
def test_bad_http_settings_are_refused_with_a_sentence(env, phrase):
    with pytest.raises(ConfigError, match=phrase.replace("(", r"\(").replace(")", r"\)")):
        load_settings({"TRACKAGOAT_DATABASE_URL": "sqlite+aiosqlite:///x.db", **env})


def test_settings_built_directly_validate_too():
    with pytest.raises(ConfigError):
        Settings(database_url="sqlite://", allowed_hosts=("*",))
