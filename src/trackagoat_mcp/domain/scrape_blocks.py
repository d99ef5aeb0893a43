"""Block rate: how much of the scraper's fetching TikTok refused lately, by what, and what a person can do.

Each scrape cycle's report (`jobs/scraper.py`) carries `blocks`: fetches the plain client found blocked, by
kind, and how many of those the browser fetcher read after all. `recent_block_rate` adds up the latest
`cycles` finished scrape runs of the store (the scraper serves every organization, so this is not specific to
one project) and `get_program_health` raises a finding when the share passes `threshold`.

Kinds: `challenge` (a "Please wait…" proof-of-work or script page), `shell` (a page without its data),
`captcha` (the slider captcha JSON), `empty` (an empty body), `http_403` / `http_451` (refused outright, the
second for legal/regional reasons), `other`.

The hint names the cheapest next step first: challenge and shell pages are what the browser fetcher gets
past, so it comes first while it is off; refusals (403/451) and captchas follow the address, so a proxy
(residential, in the right country for 451) comes first for them; and a lower rate always helps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.db.models import JobRun

__all__ = ["BlockRate", "block_hint", "recent_block_rate"]

_PAGE_BLOCKS = frozenset({"challenge", "shell", "empty"})
_ADDRESS_BLOCKS = frozenset({"http_403", "http_451", "captcha"})


class BlockRate(BaseModel):
    """Fetches TikTok blocked in the latest scrape cycles (all organizations of the store)."""

    cycles: int = Field(description="Finished scrape cycles counted (the latest ones).")
    fetches: int
    blocked: int = Field(description="Fetches the plain client found blocked (before any browser retry).")
    share: float = Field(description="blocked / fetches, 0..1.")
    by_kind: dict[str, int] = Field(description="challenge, shell, captcha, empty, http_403, http_451, other.")
    browser_passed: int = Field(description="Blocked fetches the browser fetcher read after all.")
    threshold: float
    alert: bool = Field(description="Whether share passed threshold.")
    hint: str | None = Field(description="What to do, when anything was blocked.")


def block_hint(by_kind: Mapping[str, int], fetches: int, *, browser_on: bool, browser_passed: int = 0) -> str:
    """A plain-language next step for blocks of these kinds (the most common kind decides the order)."""
    total = sum(by_kind.values())
    if browser_on and total and browser_passed >= total:
        return (
            f"TikTok blocked {total} of {fetches} fetches for the plain client and the browser fetcher read every one "
            "of them: no numbers were lost, but each costs a browser page; a proxy (TRACKAGOAT_SCRAPE_PROXY) or "
            "a lower rate (TRACKAGOAT_SCRAPE_RATE) would make them rarer."
        )
    share = f"{total} of {fetches} fetches ({total / fetches:.0%})" if fetches else f"{total} fetches"
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(by_kind.items(), key=lambda item: (-item[1], item[0])))
    page_blocks = sum(n for kind, n in by_kind.items() if kind in _PAGE_BLOCKS)
    address_blocks = sum(n for kind, n in by_kind.items() if kind in _ADDRESS_BLOCKS)
    steps: list[str] = []
    browser = "turn on the browser fetcher (TRACKAGOAT_BROWSER_FETCHER=1, pip extra [browser])"
    proxy = "send requests through a proxy (TRACKAGOAT_SCRAPE_PROXY, residential addresses work best"
    proxy += ", in a country where the content is available)" if by_kind.get("http_451") else ")"
    if page_blocks >= address_blocks and not browser_on:
        steps += [browser, proxy]
    else:
        steps += [proxy] + ([] if browser_on else [browser])
    steps.append("give the cookies of a logged-out browser session (TRACKAGOAT_SCRAPE_COOKIE_FILE)")
    steps.append("lower the rate (TRACKAGOAT_SCRAPE_RATE, e.g. 0.2 for one request every 5 s)")
    return f"TikTok blocked {share} ({kinds}). Try, in order: " + "; ".join(steps) + "."


async def recent_block_rate(session: AsyncSession, *, cycles: int, threshold: float) -> BlockRate | None:
    """The block rate over the latest `cycles` finished scrape runs; `None` when no run has recorded fetches."""
    runs = (
        await session.scalars(
            select(JobRun)
            .where(col(JobRun.job) == "scrape", col(JobRun.finished_at).is_not(None))
            .order_by(col(JobRun.finished_at).desc())
            .limit(cycles)
        )
    ).all()
    fetches = 0
    browser_passed = 0
    browser_on = False
    by_kind: Counter[str] = Counter()
    counted = 0
    for run in runs:
        report: Any = run.report or {}
        blocks = report.get("blocks") if isinstance(report, dict) else None
        if not isinstance(blocks, dict):
            continue  # a run recorded before block rates were kept
        counted += 1
        fetches += int(report.get("fetches") or 0)
        browser_passed += int(blocks.get("browser_passed") or 0)
        if counted == 1:  # the latest run says whether the browser fetcher is on now
            browser_on = bool(blocks.get("browser_fetcher"))
        for kind, n in (blocks.get("by_kind") or {}).items():
            by_kind[str(kind)] += int(n)
    if not fetches:
        return None
    blocked = by_kind.total()
    share = blocked / fetches
    return BlockRate(
        cycles=counted,
        fetches=fetches,
        blocked=blocked,
        share=round(share, 4),
        by_kind=dict(sorted(by_kind.items())),
        browser_passed=browser_passed,
        threshold=threshold,
        alert=share > threshold,
        hint=block_hint(by_kind, fetches, browser_on=browser_on, browser_passed=browser_passed) if blocked else None,
    )
