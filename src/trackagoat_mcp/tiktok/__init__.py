"""The TikTok layer: pure page parsing, an HTTP client it is handed, and a simulated TikTok site.

`parsing` turns TikTok's HTML pages and JSON into frozen dataclasses and page states without any I/O;
`client` fetches those pages politely (pacing, bounded concurrency, timeouts, retries) through an
`httpx2.AsyncClient` it is given; `sim` is a small ASGI app serving the same shapes for tests, benchmarks
and the offline demo. This package never imports `db` or `domain` (an import-linter contract says so).
"""

from __future__ import annotations

from trackagoat_mcp.tiktok.parsing import PageResult, PageState, Profile, Video, VideoPage

__all__ = ["PageResult", "PageState", "Profile", "Video", "VideoPage"]
