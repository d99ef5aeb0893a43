"""Organizations take turns in shared work (the accrual run, the scrape cycle).

One organization's backlog must not hold back another's due work: work is ordered in rounds, each round taking
the next item of every organization that still has one. An item then waits behind at most one item of each
other organization per item of its own ahead of it, however long another organization's queue is.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

__all__ = ["take_turns"]

T = TypeVar("T")


def take_turns(items: Iterable[T], owner: Callable[[T], Hashable]) -> list[T]:
    """`items` in rounds by `owner`: each owner's items keep their order, owners keep the order of their first item."""
    queues: dict[Hashable, list[T]] = {}
    for item in items:
        queues.setdefault(owner(item), []).append(item)
    rounds = max(map(len, queues.values()), default=0)
    return [queue[i] for i in range(rounds) for queue in queues.values() if i < len(queue)]
