"""Sliding-window counters over the last 60 seconds, kept in this process's memory.

One `RateLimiter` class serves three limits: requests per key, requests per organization (all its keys
together, so minting keys does not multiply an organization's rate), and failed authentications per
client address.

A sliding log (one timestamp per admitted request, at most `limit` per key) rather than fixed minute
buckets: a client cannot double its rate by straddling a minute boundary, and `Retry-After` is exact
(the moment the oldest request in the window leaves it). Memory is bounded by `limit` floats per key
that has been seen, and at most `max_keys` keys are tracked (the longest-tracked are forgotten first), so
addresses an attacker cycles through cannot grow it without bound.

The limit is per process: N replicas behind a load balancer admit up to N × the limit per key.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable

__all__ = ["MAX_TRACKED_KEYS", "WINDOW_SECONDS", "RateLimiter"]

WINDOW_SECONDS = 60.0
MAX_TRACKED_KEYS = 100_000


class RateLimiter:
    """Admit at most `limit` requests per key in any `window` seconds; `limit` 0 admits everything."""

    def __init__(
        self,
        limit: int,
        *,
        window: float = WINDOW_SECONDS,
        max_keys: int = MAX_TRACKED_KEYS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._monotonic = monotonic
        self._hits: dict[Hashable, deque[float]] = {}

    def wait(self, key: Hashable) -> int | None:
        """Without counting anything: None when `key` would be admitted now, else whole seconds until it would be."""
        if self.limit <= 0:
            return None
        now = self._monotonic()
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        return None

    def hit(self, key: Hashable) -> int | None:
        """Count one request of `key`; returns None when admitted, else whole seconds until one would be."""
        retry_after = self.wait(key)
        if retry_after is not None or self.limit <= 0:
            return retry_after
        self._hits.setdefault(key, deque()).append(self._monotonic())
        while len(self._hits) > self.max_keys:
            del self._hits[next(iter(self._hits))]
        return None
