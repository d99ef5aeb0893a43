"""`TikTokAccess`: the one TikTok client of a process, built on first use and closed at shutdown.

Everything that scrapes in a process (the scheduler's cycles, first scrapes of new creators, `scrape_now`)
asks this object for its client, so they share one cookie jar and one token bucket per host: pacing holds
for the process as a whole, not per caller. Nothing is built until a scrape actually happens, so a server
that never scrapes never opens an HTTP client.

The settings' ways through a block are applied here: the outbound proxy per scheme and the cookies
(`tiktok/outbound.py`) go into the HTTP client, and with `browser_fetcher` on, one `BrowserFetcher` (one
Chromium for the process, launched only when a page is first found blocked) is handed to the client and
closed with it.
"""

from __future__ import annotations

import os
from typing import Any

import httpx2

from trackagoat_mcp.config import Settings
from trackagoat_mcp.tiktok.browser import BrowserFetcher
from trackagoat_mcp.tiktok.client import BROWSER_HEADERS, TikTokClient
from trackagoat_mcp.tiktok.outbound import cookie_jar, load_cookies, proxy_for, proxy_mounts

__all__ = ["TikTokAccess"]


class TikTokAccess:
    """Builds `TikTokClient.from_settings` lazily over an `httpx2.AsyncClient` it owns.

    Args:
        settings: `tiktok_base_url`, `scrape_rate`, the proxy, cookie and browser settings.
        transport: the HTTP transport (tests pass `httpx2.ASGITransport` to the simulated site); default network.
        options: passed on to `TikTokClient` (clock, sleep, rate, …).
    """

    def __init__(
        self, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None, **options: Any
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._options = options
        self._http: httpx2.AsyncClient | None = None
        self._client: TikTokClient | None = None
        self._browser: BrowserFetcher | None = None

    @property
    def browser(self) -> BrowserFetcher | None:
        """The browser fetcher, once the client is built with `browser_fetcher` on."""
        return self._browser

    def client(self) -> TikTokClient:
        """The process's TikTok client (built on the first call).

        Raises:
            ConfigError: a malformed proxy URL, cookie string or cookie file.
        """
        if self._client is None:
            settings = self._settings
            cookies = load_cookies(settings)
            mounts = proxy_mounts(settings)
            self._http = httpx2.AsyncClient(
                transport=self._transport, mounts=mounts or None, cookies=cookie_jar(cookies)
            )
            if settings.browser_fetcher:
                scheme = httpx2.URL(settings.tiktok_base_url).scheme
                self._browser = BrowserFetcher(
                    executable=settings.browser_executable,
                    proxy=proxy_for(settings, scheme),
                    cookies=cookies,
                    user_agent=BROWSER_HEADERS["User-Agent"],
                    timeout=settings.browser_timeout_seconds,
                    no_sandbox=_running_as_root(),
                )
            options = {"browser": self._browser, **self._options}
            self._client = TikTokClient.from_settings(self._http, settings, **options)
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client and the browser if they were built; a later `client()` builds fresh ones."""
        http, browser = self._http, self._browser
        self._http, self._client, self._browser = None, None, None
        if http is not None:
            await http.aclose()
        if browser is not None:
            await browser.aclose()


def _running_as_root() -> bool:
    """Chromium refuses to run as root with its sandbox on (containers, CI); it needs `--no-sandbox` there."""
    geteuid = getattr(os, "geteuid", None)
    return bool(geteuid is not None and geteuid() == 0)
