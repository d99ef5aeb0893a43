"""`KeyVerifier`: the SDK `TokenVerifier` for trackagoat API keys.

A presented key is hashed and looked up in the store (`keys.authenticate`). A valid key's answer (its
organization, id and scopes) is then remembered in this process for `cache_seconds` (default 5 s,
`TRACKAGOAT_KEY_CACHE_SECONDS`), keyed by the key's SHA-256, so a busy client costs one lookup per key every
few seconds instead of one per request (a lookup is a large share of a light call's server time; figures in
`bench/README.md`, "Figures behind rules in the code"). The price is the revocation bound: a revoked key keeps
working for at most `cache_seconds` on each process that saw it just before; 0 looks the key up on every
request. Unknown and revoked keys are never remembered, so a key created a moment ago works at once, and at most
`max_cached` answers are kept (default `MAX_CACHED_KEYS`; the oldest go first).

The resulting `AccessToken` carries `client_id = "<org_id>:<key_id>"` and the key's scopes, which is what
`server.auth.request_caller` reads back inside tools; the SDK also binds each stateful session to that client
id, so one key cannot drive another key's session.

`last_used_at` is written at most once per `touch_every` seconds per key and process (remembered in
memory), so a busy key costs one UPDATE a minute, not one per request. A failed touch is logged and
ignored: bookkeeping never fails a request.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from mcp.server.auth.provider import AccessToken

from trackagoat_mcp.clock import Clock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import TrackagoatError

__all__ = ["DEFAULT_CACHE_SECONDS", "MAX_CACHED_KEYS", "TOUCH_EVERY_SECONDS", "KeyVerifier"]

logger = logging.getLogger(__name__)

TOUCH_EVERY_SECONDS = 60.0
DEFAULT_CACHE_SECONDS = 5.0
MAX_CACHED_KEYS = 10_000


class KeyVerifier:
    """Verify `tga_…` keys against the store (implements `mcp.server.auth.provider.TokenVerifier`)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        max_cached: int = MAX_CACHED_KEYS,
        touch_every: float = TOUCH_EVERY_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._max_cached = max_cached
        self._touch_every = touch_every
        self._monotonic = monotonic
        self._touched: dict[uuid.UUID, float] = {}
        self._valid: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        """Key hash → (monotonic time the answer expires, the key's caller), oldest first."""

    async def verify_token(self, token: str) -> AccessToken | None:
        """The access token for a valid, unrevoked key; None for anything else (malformed, unknown, revoked)."""
        if not keys.KEY_RE.match(token):
            return None
        caller = await self._lookup(token)
        if caller is None or caller.key_id is None:
            return None
        await self._touch(caller.key_id)
        return AccessToken(token=token, client_id=f"{caller.org_id}:{caller.key_id}", scopes=sorted(caller.scopes))

    async def _lookup(self, token: str) -> Caller | None:
        """The key's caller: remembered while a fresh answer is held, else from the store (then remembered)."""
        digest = keys.hash_key(token)
        now = self._monotonic()
        remembered = self._valid.get(digest)
        if remembered is not None and now < remembered[0]:
            return remembered[1]
        async with self._db.read() as session:
            caller = await keys.authenticate(session, token)
        self._valid.pop(digest, None)
        if caller is not None and self._cache_seconds > 0:
            self._valid[digest] = (now + self._cache_seconds, caller)
            while len(self._valid) > self._max_cached:
                self._valid.popitem(last=False)
        return caller

    async def _touch(self, key_id: uuid.UUID) -> None:
        now = self._monotonic()
        last = self._touched.get(key_id)
        if last is not None and now - last < self._touch_every:
            return
        self._touched[key_id] = now  # before the write, so concurrent requests do not all write
        try:
            async with self._db.write() as session:
                await keys.mark_used(session, key_id, now=self._clock.now())
        except TrackagoatError as exc:
            logger.warning("Could not record the last use of API key %s: %s", key_id, exc.message)
