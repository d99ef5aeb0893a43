"""Proxy and cookie settings: requests go through a local forwarding proxy that counts them, with the proxy's
credentials and the configured cookies, and no secret ever shows in a message, a log line or a `repr`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import Settings, load_settings
from trackagoat_mcp.demo import serve_site
from trackagoat_mcp.errors import ConfigError, Unavailable
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess
from trackagoat_mcp.tiktok.outbound import load_cookies, parse_cookie_file, proxy_for, redact
from trackagoat_mcp.tiktok.sim import SimulatedTikTok

from .forward_proxy import forward_proxy

COOKIE_FILE = (
    "# Netscape HTTP Cookie File\n"
    "# exported by a browser extension\n"
    "\n"
    "127.0.0.1\tFALSE\t/\tFALSE\t1893456000\ttt_chain_token\tchain-from-file\n"
    "#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t1893456000\tttwid\tttwid-from-file\n"
    ".example.org\tTRUE\t/\tFALSE\t1893456000\telsewhere\tnot-for-tiktok\n"
)


def settings_for(base_url: str, **fields: object) -> Settings:
    return Settings(database_url="sqlite+aiosqlite:///unused.db", tiktok_base_url=base_url, **fields)  # type: ignore[arg-type]


async def test_requests_go_through_the_proxy_with_its_credentials_and_the_cookies(
    sim: SimulatedTikTok, clock: FrozenClock, tmp_path: Path
) -> None:
    cookie_file = tmp_path / "cookies.txt"
    cookie_file.write_text(COOKIE_FILE)
    async with serve_site(sim) as base_url, forward_proxy() as proxy:
        settings = settings_for(
            base_url,
            scrape_proxy_http=proxy.url,
            scrape_cookies="msToken=ms-from-string; tt_csrf_token=csrf",
            scrape_cookie_file=str(cookie_file),
        )
        access = TikTokAccess(settings, rate=None, clock=clock)
        try:
            client = access.client()
            profile = await client.fetch_profile("alice")
            listing = await client.fetch_videos(sim.account("alice").sec_uid)
        finally:
            await access.aclose()

    assert profile.ok and listing.ok and profile.data is not None and profile.data.follower_count == 12_000
    assert proxy.paths() == ["/@alice", "/api/creator/item_list/"] and proxy.refused == 0
    assert sim.count("/@alice") == 1  # what reached the site is exactly what the proxy forwarded
    sent = proxy.forwarded[0].headers["cookie"]
    for pair in (
        "msToken=ms-from-string",
        "tt_csrf_token=csrf",
        "tt_chain_token=chain-from-file",
        "ttwid=ttwid-from-file",
    ):
        assert pair in sent
    assert "not-for-tiktok" not in sent


async def test_the_https_proxy_setting_leaves_http_requests_direct(sim: SimulatedTikTok, clock: FrozenClock) -> None:
    async with serve_site(sim) as base_url, forward_proxy() as proxy:
        access = TikTokAccess(settings_for(base_url, scrape_proxy_https=proxy.url), rate=None, clock=clock)
        try:
            assert (await access.client().fetch_profile("alice")).ok
        finally:
            await access.aclose()

    assert proxy.forwarded == [] and sim.count("/@alice") == 1


async def test_wrong_proxy_credentials_fail_clearly_without_showing_them(
    sim: SimulatedTikTok, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serve_site(sim) as base_url, forward_proxy() as proxy:
        wrong = f"http://proxyuser:wrong-s3cret@127.0.0.1:{proxy.port}"
        settings = settings_for(base_url, scrape_proxy=wrong, scrape_cookies="ttwid=cookie-s3cret")
        access = TikTokAccess(settings, rate=None, clock=clock)
        try:
            with pytest.raises(Unavailable) as caught:
                await access.client().fetch_profile("alice")
        finally:
            await access.aclose()

    assert caught.value.code == "proxy_refused" and "HTTP 407" in caught.value.message
    assert proxy.refused == 1 and sim.count("/@alice") == 0
    shown = [caught.value.message, repr(settings), str(settings), caplog.text, repr(load_cookies(settings))]
    assert not any("wrong-s3cret" in text or "cookie-s3cret" in text for text in shown)


async def test_an_unreachable_proxy_is_unavailable_and_its_password_is_not_shown(
    sim: SimulatedTikTok, clock: FrozenClock
) -> None:
    async with serve_site(sim) as base_url, forward_proxy() as proxy:
        dead = f"http://proxyuser:dead-s3cret@127.0.0.1:{proxy.port}"
    access = TikTokAccess(settings_for(base_url, scrape_proxy=dead), rate=None, clock=clock, max_attempts=1)
    try:
        with pytest.raises(Unavailable) as caught:
            await access.client().fetch_profile("alice")
    finally:
        await access.aclose()

    assert "dead-s3cret" not in caught.value.message and "proxy" in caught.value.message


def test_environment_settings_are_read_and_secrets_stay_out_of_repr() -> None:
    env = {
        "TRACKAGOAT_DATABASE_URL": "sqlite+aiosqlite:///x.db",
        "TRACKAGOAT_SCRAPE_PROXY": "http://u:env-s3cret@proxy.example:3128",
        "TRACKAGOAT_SCRAPE_PROXY_HTTPS": "http://u:https-s3cret@other.example:8080",
        "TRACKAGOAT_SCRAPE_COOKIES": "ttwid=env-cookie-s3cret",
        "TRACKAGOAT_SCRAPE_COOKIE_FILE": "/tmp/cookies.txt",
        "TRACKAGOAT_BROWSER_FETCHER": "1",
        "TRACKAGOAT_BROWSER_EXECUTABLE": "/opt/chrome/chrome",
        "TRACKAGOAT_BROWSER_TIMEOUT_SECONDS": "12.5",
        "TRACKAGOAT_BLOCK_RATE_THRESHOLD": "0.35",
        "TRACKAGOAT_BLOCK_RATE_CYCLES": "10",
    }

    settings = load_settings(env)

    assert proxy_for(settings, "http") == "http://u:env-s3cret@proxy.example:3128"
    assert proxy_for(settings, "https") == "http://u:https-s3cret@other.example:8080"
    assert (settings.browser_fetcher, settings.browser_executable, settings.browser_timeout_seconds) == (
        True,
        "/opt/chrome/chrome",
        12.5,
    )
    assert (settings.block_rate_threshold, settings.block_rate_cycles) == (0.35, 10)
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRACKAGOAT_BLOCK_RATE_THRESHOLD": "0"}, "must be a share above 0"),
        ({"TRACKAGOAT_BLOCK_RATE_CYCLES": "0"}, "TRACKAGOAT_BLOCK_RATE_CYCLES 0 must be at least 1"),
        ({"TRACKAGOAT_BROWSER_FETCHER": "maybe"}, "is not a boolean"),
    ],
)
def test_bad_settings_are_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"TRACKAGOAT_DATABASE_URL": "sqlite+aiosqlite:///x.db", **env})


def test_a_bad_proxy_url_is_refused_without_its_password() -> None:
    settings = settings_for("https://www.tiktok.com", scrape_proxy="ftp://u:ftp-s3cret@proxy.example")

    with pytest.raises(ConfigError) as caught:
        proxy_for(settings, "https")

    assert "TRACKAGOAT_SCRAPE_PROXY" in caught.value.message and "ftp-s3cret" not in caught.value.message


def test_cookie_sources_read_and_refuse_by_line_without_quoting_values(tmp_path: Path) -> None:
    cookies = parse_cookie_file(COOKIE_FILE, "cookies.txt")
    assert [(c.name, c.domain, c.http_only) for c in cookies] == [
        ("tt_chain_token", "127.0.0.1", False),
        ("ttwid", "127.0.0.1", True),
        ("elsewhere", ".example.org", False),
    ]
    assert "chain-from-file" not in repr(cookies)

    with pytest.raises(ConfigError, match=r"Line 2 of the cookie file 'bad.txt'"):
        parse_cookie_file("# Netscape HTTP Cookie File\nttwid=value-s3cret\n", "bad.txt")
    with pytest.raises(ConfigError, match="part 2 is not 'name=value'") as caught:
        load_cookies(settings_for("https://www.tiktok.com", scrape_cookies="ttwid=a; value-s3cret"))
    assert "value-s3cret" not in caught.value.message
    with pytest.raises(ConfigError, match="cannot be read"):
        load_cookies(settings_for("https://www.tiktok.com", scrape_cookie_file=str(tmp_path / "missing.txt")))


def test_redact_strips_credentials_from_any_url_in_a_text() -> None:
    assert redact("via http://u:p@h:1/x and socks5://a:b@c") == "via http://***@h:1/x and socks5://***@c"
