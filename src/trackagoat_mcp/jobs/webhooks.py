"""Sending one batch of alerts to an organization's webhook: signed, retried with backoff, every attempt logged.

One delivery is one JSON body, signed once (`domain/alerts/webhooks.sign`) and sent byte for byte the same on every
attempt, with the same `X-Trackagoat-Delivery` id. An attempt that gets a 5xx or 429 answer, times out or cannot
connect is retried after `base × 2^(n−1)` seconds (n = the attempt that failed) plus up to 25 % random jitter,
capped at `cap` seconds (a 429's `Retry-After` is honoured up to the cap), at most `attempts` tries in all. Any
other answer ends the delivery: 2xx is success, 3xx (redirects are not followed: they could lead anywhere) and other
4xx are failures a retry would not fix. The project has no retry library, and this loop is all it needs.

Before the first attempt the host's addresses are resolved and each is checked against the URL policy (a public
name may resolve to an internal address); a refused address fails the delivery without sending anything. The HTTP
client connects by name afterwards, so a name that changes its answer between the two look-ups could still slip
through; deployments that need more pin outbound traffic with an egress proxy.
"""

from __future__ import annotations

import ipaddress
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import anyio
import httpx2

from trackagoat_mcp import __version__
from trackagoat_mcp.clock import Clock
from trackagoat_mcp.domain.alerts.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, UrlPolicy, address_allowed, sign

__all__ = ["Attempt", "RetryPolicy", "deliver"]

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one delivery tries."""

    attempts: int = 4
    base: float = 1.0
    cap: float = 30.0
    timeout: float = 10.0


@dataclass(frozen=True)
class Attempt:
    """One POST and what came of it (a row of the delivery log)."""

    attempt: int
    ok: bool
    status_code: int | None
    error: str | None
    attempted_at: datetime
    duration_ms: int


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _delay(policy: RetryPolicy, failed: int, retry_after: str | None) -> float:
    delay = policy.base * 2 ** (failed - 1)
    delay += random.uniform(0, delay / 4)  # jitter spreads retries; not a secret
    if retry_after is not None and retry_after.strip().isdigit():
        delay = max(delay, float(retry_after.strip()))
    return float(min(policy.cap, delay))


async def _addresses_refused(url: str, policy: UrlPolicy) -> str | None:
    """Why the URL's host must not be reached, or None when every address it resolves to is allowed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = await anyio.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        return f"cannot resolve host {host!r}: {exc}"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address_allowed(address, policy):
            return f"host {host!r} resolves to {address}, an internal address webhooks may not reach"
    return None


async def deliver(
    http: httpx2.AsyncClient,
    *,
    url: str,
    body: bytes,
    secret: str,
    delivery_id: uuid.UUID,
    url_policy: UrlPolicy,
    clock: Clock,
    retry: RetryPolicy = RetryPolicy(),
    sleep: Sleep = anyio.sleep,
) -> list[Attempt]:
    """POST `body` to `url` until it is accepted or the attempts run out; every attempt, in order."""
    refused = await _addresses_refused(url, url_policy)
    if refused is not None:
        return [Attempt(1, False, None, refused, clock.now(), 0)]
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"trackagoat-mcp/{__version__}",
        SIGNATURE_HEADER: sign(body, secret),
        DELIVERY_HEADER: str(delivery_id),
    }
    attempts: list[Attempt] = []
    for number in range(1, retry.attempts + 1):
        started, at = time.monotonic(), clock.now()
        retry_after: str | None = None
        error: str | None
        try:
            response = await http.post(
                url, content=body, headers=headers, timeout=retry.timeout, follow_redirects=False
            )
        except httpx2.HTTPError as exc:
            status, error, again = None, f"{type(exc).__name__}: {exc}"[:500], True
        else:
            status = response.status_code
            again = _retryable(status)
            error = None if 200 <= status < 300 else f"answered {status}"
            retry_after = response.headers.get("retry-after")
        took = int((time.monotonic() - started) * 1000)
        attempts.append(Attempt(number, error is None, status, error, at, took))
        if error is None or not again or number == retry.attempts:
            return attempts
        await sleep(_delay(retry, number, retry_after))
    return attempts
