"""Background jobs: each is one "run once" coroutine over the store, a clock and (for scraping) a TikTok client.

`scraper.run_scrape_cycle` refreshes creators and videos from TikTok; `scrape_store` holds its
claims and writes; `scrape_now` runs it on demand within a daily cap; `runs` opens, claims and closes the
`JobRun` rows every job is recorded in; `status` reads them back for `get_job_status`; `scheduler` is the
only loop that sleeps and runs the jobs (`default_jobs`); `tiktok_access` gives a process its one TikTok
client. This package sits above `tiktok` and `domain` and below `server` (an import-linter contract says so).
"""

from __future__ import annotations

from trackagoat_mcp.jobs.scraper import ScrapeReport, ScrapeSettings, run_scrape_cycle

__all__ = ["ScrapeReport", "ScrapeSettings", "run_scrape_cycle"]
