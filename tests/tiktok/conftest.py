"""Fixtures for the TikTok layer: a simulated site with a few accounts, an HTTP client wired to it in-process,
fake time (a monotonic clock that only moves when something sleeps, recording every sleep), and a client.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

import anyio.lowlevel
import httpx2
import pytest

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.sim import SimAccount, SimulatedTikTok, SimVideo

BASE_URL = "https://www.tiktok.com"


class FakeTime:
    """A monotonic clock plus a sleep that records how long it was asked to wait and moves the clock on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


class MidRandom(random.Random):
    """Randomness pinned to the middle, so jittered backoff equals the nominal delay."""

    def random(self) -> float:
        return 0.5

    def getrandbits(self, k: int) -> int:  # keeps randint (the device id) on the full-range code path
        return super().getrandbits(k)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sim(clock: FrozenClock) -> SimulatedTikTok:
    site = SimulatedTikTok(clock=clock)
    now = clock.now()
    site.add_account(
        SimAccount(
            "alice",
            nickname="Alice A.",
            signature="dance & food",
            followers=12_000,
            followers_per_hour=10,
            videos=[
                SimVideo.posted(now - timedelta(days=3), 1, description="first #fyp", base_plays=1_000),
                SimVideo.posted(now - timedelta(days=2), 2, description="second", plays_per_hour=50),
                SimVideo.posted(now - timedelta(days=1), 3, description="photo dump", is_photo=True),
                SimVideo.posted(now + timedelta(hours=5), 4, description="not posted yet"),
            ],
        )
    )
    site.add_account(
        SimAccount(
            "bob.legacy",
            layout="sigi",
            followers=500,
            videos=[SimVideo.posted(now - timedelta(hours=10), 1, description="old layout")],
        )
    )
    site.add_account(
        SimAccount("bigstar", followers=3_000_000_000, base_hearts=4_000_000_000, stats_v2=False, wrap_int32=True)
    )
    return site


@pytest.fixture
async def http(sim: SimulatedTikTok) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=sim.app), base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def client(http: httpx2.AsyncClient, fake_time: FakeTime, clock: FrozenClock) -> TikTokClient:
    return TikTokClient(
        http,
        base_url=BASE_URL,
        rate=None,
        max_attempts=3,
        timeout=5.0,
        clock=clock,
        monotonic=fake_time.monotonic,
        sleep=fake_time.sleep,
        rng=MidRandom(),
    )
