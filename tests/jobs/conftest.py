"""Fixtures for the scrape job: a simulated site with an `auto` and a `selective` creator, a TikTok client wired
to it in-process (fake sleeps, so retries cost no time), and a project holding both creators.

Times are relative to the frozen clock's start (2026-03-10 12:00 UTC); creators are added with the default
tracking start date, that day, so a post from three days ago must never be picked up.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import anyio
import anyio.lowlevel
import httpx2
import pytest

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.jobs.scraper import ScrapeSettings
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.sim import SimAccount, SimulatedTikTok, SimVideo

from ..conftest import make_org

BASE_URL = "https://www.tiktok.com"
SETTINGS = ScrapeSettings(
    min_creator_profiles_hours=6, min_discover_videos_hours=4, min_video_stats_hours=4, disable_after_days=2
)


class FakeSleep:
    """The client's sleep: records the delay and returns at once (backoff and pacing cost no time)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


class NeverDone:
    """The site's sleep for `slow` answers: waits until the client's timeout cancels the request."""

    async def __call__(self, seconds: float) -> None:
        await anyio.Event().wait()


def make_client(
    http: httpx2.AsyncClient, clock: FrozenClock, *, base_url: str = BASE_URL, **options: object
) -> TikTokClient:
    """A client with no pacing, three attempts, fake sleeps and fixed randomness."""
    fake = FakeSleep()
    settings: dict[str, object] = {
        "base_url": base_url,
        "rate": None,
        "max_attempts": 3,
        "timeout": 5.0,
        "clock": clock,
        "monotonic": fake.monotonic,
        "sleep": fake.sleep,
        "rng": random.Random(7),
        **options,
    }
    return TikTokClient(http, **settings)  # type: ignore[arg-type]


@pytest.fixture
def sim(clock: FrozenClock) -> SimulatedTikTok:
    site = SimulatedTikTok(clock=clock, sleep=NeverDone())
    now = clock.now()
    site.add_account(
        SimAccount(
            "alice",
            nickname="Alice A.",
            signature="dance & food",
            followers=12_000,
            followers_per_hour=10,
            videos=[
                SimVideo.posted(now - timedelta(days=3), 1, description="before tracking started"),
                SimVideo.posted(now - timedelta(hours=2), 2, description="fresh", plays_per_hour=50),
                SimVideo.posted(now + timedelta(hours=5), 3, description="later today"),
            ],
        )
    )
    site.add_account(
        SimAccount(
            "sel",
            nickname="Selective S.",
            followers=800,
            followers_per_hour=2,
            videos=[SimVideo.posted(now - timedelta(hours=1), 1, description="needs review")],
        )
    )
    return site


@pytest.fixture
async def http(sim: SimulatedTikTok) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=sim.app), base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def client(http: httpx2.AsyncClient, clock: FrozenClock) -> TikTokClient:
    return make_client(http, clock)


@dataclass
class Program:
    """A project with `alice` (auto) and `sel` (selective), and their creator ids."""

    caller: Caller
    project_id: uuid.UUID
    ids: dict[str, uuid.UUID]


async def add_creator(
    db: Database, clock: FrozenClock, caller: Caller, project_id: uuid.UUID, handle: str, mode: str
) -> uuid.UUID:
    async with db.write() as session:
        result = await creators.add_creators(
            session, caller, project_id=project_id, handles=[handle], now=clock.now(), tracking_mode=mode
        )
    creator_id = result.results[0].creator_id
    assert creator_id is not None
    return creator_id


@pytest.fixture
async def program(db: Database, clock: FrozenClock) -> Program:
    caller, project_id = await make_org(db, clock)
    ids = {
        "alice": await add_creator(db, clock, caller, project_id, "alice", "auto"),
        "sel": await add_creator(db, clock, caller, project_id, "sel", "selective"),
    }
    return Program(caller, project_id, ids)
