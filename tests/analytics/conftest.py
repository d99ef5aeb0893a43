"""The seeded program every analytics test reads (see `world.py` for its history)."""

from __future__ import annotations

import pytest

from tests.analytics.world import World, build_world
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database


@pytest.fixture
async def world(db: Database, clock: FrozenClock) -> World:
    return await build_world(db, clock)
