"""Pacing: a token bucket per host, so a process never sends TikTok more than its configured rate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

__all__ = ["Sleep", "TokenBucket"]

Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """Paces calls to `rate` per second with bursts of up to `burst` (GCRA: one timestamp, no loop).

    Each `acquire` reserves its slot before it waits, so concurrent callers queue up fairly without a lock.
    """

    def __init__(self, rate: float, *, burst: int = 1, monotonic: Callable[[], float], sleep: Sleep) -> None:
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._tat = float("-inf")  # theoretical arrival time of the next free slot

    async def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited (0.0 when a slot was free)."""
        now = self._monotonic()
        tat = max(self._tat, now)
        wait = tat - self._tolerance - now
        self._tat = tat + self._interval
        if wait > 0:
            await self._sleep(wait)
            return wait
        return 0.0
