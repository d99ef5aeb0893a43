"""`TikTokAccess`: the one TikTok client of a process, built on first use and closed at shutdown.

Everything that scrapes in a process (the scheduler's cycles, first scrapes of new creators, `scrape_now`)
asks this object for its client, so they share one cookie jar and one token bucket per host: pacing holds
for the process as a whole, not per caller. Nothing is built until a scrape actually happens, so a server
that never scrapes never opens an HTTP client.
"""

from __future__ import annotations

from typing import Any

import httpx2

from trackagoat_mcp.config import Settings
from trackagoat_mcp.tiktok.client import TikTokClient

__all__ = ["TikTokAccess"]


class TikTokAccess:
    """Builds `TikTokClient.from_settings` lazily over an `httpx2.AsyncClient` it owns.

    Args:
        settings: `tiktok_base_url` and `scrape_rate`.
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

    def client(self) -> TikTokClient:
        """The process's TikTok client (built on the first call)."""
        if self._client is None:
            self._http = httpx2.AsyncClient(transport=self._transport)
            self._client = TikTokClient.from_settings(self._http, self._settings, **self._options)
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client if one was built; a later `client()` builds a fresh one."""
        http, self._http, self._client = self._http, None, None
        if http is not None:
            await http.aclose()
