"""Organizations take turns in the scrape cycle: one organization's many due creators never push another's due
creator to the end of the queue."""

from __future__ import annotations

from datetime import timedelta

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators
from trackagoat_mcp.jobs.fairness import take_turns
from trackagoat_mcp.jobs.scrape_store import Cutoffs, due_creator_ids

from ..conftest import make_org
from .conftest import add_creator


def test_take_turns_interleaves_owners_and_keeps_each_owners_order() -> None:
    items = [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("c", 1), ("c", 2)]

    assert take_turns(items, lambda item: item[0]) == [("a", 1), ("b", 1), ("c", 1), ("a", 2), ("c", 2), ("a", 3)]
    assert take_turns([], lambda item: item) == []


async def test_a_small_organizations_due_creator_is_scraped_in_the_first_round(
    db: Database, clock: FrozenClock
) -> None:
    big_caller, big_project = await make_org(db, clock, "Big")
    async with db.write() as session:
        await creators.add_creators(
            session, big_caller, project_id=big_project, handles=[f"big{i}" for i in range(40)], now=clock.now()
        )
    small_caller, small_project = await make_org(db, clock, "Small")
    clock.advance(timedelta(minutes=1))
    late = await add_creator(db, clock, small_caller, small_project, "small_one", "auto")

    due = await due_creator_ids(db, Cutoffs(None, None, None, clock.now() - timedelta(days=30)), clock.now(), None)

    assert len(due) == 41
    assert due.index(late) <= 1, due.index(late)
