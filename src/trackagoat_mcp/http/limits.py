"""Per-key request rate limit: a sliding window over the last 60 seconds, kept in this process's memory.

A sliding log (one timestamp per admitted request, at most `limit` per key) rather than fixed minute
buckets: a client cannot double its rate by straddling a minute boundary, and `Retry-After` is exact
(the moment the oldest request in the window leaves it). Memory is bounded by `limit` floats per key
that has been seen, and only authenticated keys reach the limiter.

The limit is per process: N replicas behind a load balancer admit up to N × the limit per key.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable

__all__ = ["WINDOW_SECONDS", "RateLimiter"]

WINDOW_SECONDS = 60.0


class RateLimiter:
    """Admit at most `limit` requests per key in any `window` seconds; `limit` 0 admits everything."""

    def __init__(
        self, limit: int, *, window: float = WINDOW_SECONDS, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._monotonic = monotonic
        self._hits: dict[Hashable, deque[float]] = {}

    def hit(self, key: Hashable) -> int | None:
        """Count one request of `key`; returns None when admitted, else whole seconds until one would be."""
        if self.limit <= 0:
            return None
        now = self._monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        hits.append(now)
        return None
