"""Background jobs: each is one "run once" coroutine over the store, a clock and (for scraping) a TikTok client.

`scraper.run_scrape_cycle` refreshes creators and videos from TikTok; `scrape_store` holds its
claims and writes. Scheduling (the only loop that sleeps) lives elsewhere and calls these. This package
sits above `tiktok` and `domain` and below `server` (an import-linter contract says so).
"""

from __future__ import annotations

from trackagoat_mcp.jobs.scraper import ScrapeReport, ScrapeSettings, run_scrape_cycle

__all__ = ["ScrapeReport", "ScrapeSettings", "run_scrape_cycle"]
