"""Project aggregates (posting heatmap, view distribution) over the store, without HTTP."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import make_org
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import aggregates
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import NotFound


async def test_an_empty_project_has_no_cells_and_null_percentiles(
    db: Database, clock: FrozenClock, acme: tuple[Caller, uuid.UUID]
) -> None:
    caller, project = acme
    async with db.read() as session:
        heatmap = await aggregates.posting_heatmap(session, caller, project_id=project, now=clock.now())
        spread = await aggregates.view_distribution(session, caller, project_id=project, now=clock.now())
    assert heatmap.items == [] and heatmap.video_count == 0 and heatmap.timezone == "UTC"
    assert (heatmap.range_to - heatmap.range_from).days == 29
    assert [(b.min_views, b.max_views, b.video_count) for b in spread.buckets] == [(0, 0, 0)]
    assert set(spread.percentiles.values()) == {None} and spread.max_views is None


async def test_another_organizations_project_is_not_found(
    db: Database, clock: FrozenClock, acme: tuple[Caller, uuid.UUID]
) -> None:
    _, project = acme
    other, _ = await make_org(db, clock, "Globex")
    async with db.read() as session:
        with pytest.raises(NotFound):
            await aggregates.posting_heatmap(session, other, project_id=project, now=clock.now())
        with pytest.raises(NotFound):
            await aggregates.view_distribution(session, other, project_id=project, now=clock.now())
