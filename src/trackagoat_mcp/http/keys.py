"""`KeyVerifier`: the SDK `TokenVerifier` for trackagoat API keys.

A presented key is hashed and looked up on every request (`keys.authenticate`), so a revoked key stops
working at once. The resulting `AccessToken` carries `client_id = "<org_id>:<key_id>"` and the key's
scopes, which is what `server.auth.request_caller` reads back inside tools; the SDK also binds each
stateful session to that client id, so one key cannot drive another key's session.

`last_used_at` is written at most once per `touch_every` seconds per key and process (remembered in
memory), so a busy key costs one UPDATE a minute, not one per request. A failed touch is logged and
ignored: bookkeeping never fails a request.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from mcp.server.auth.provider import AccessToken

from trackagoat_mcp.clock import Clock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys
from trackagoat_mcp.errors import TrackagoatError

__all__ = ["TOUCH_EVERY_SECONDS", "KeyVerifier"]

logger = logging.getLogger(__name__)

TOUCH_EVERY_SECONDS = 60.0


class KeyVerifier:
    """Verify `tga_…` keys against the store (implements `mcp.server.auth.provider.TokenVerifier`)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        touch_every: float = TOUCH_EVERY_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._clock = clock
        self._touch_every = touch_every
        self._monotonic = monotonic
        self._touched: dict[uuid.UUID, float] = {}

    async def verify_token(self, token: str) -> AccessToken | None:
        """The access token for a valid, unrevoked key; None for anything else (malformed, unknown, revoked)."""
        if not keys.KEY_RE.match(token):
            return None
        async with self._db.read() as session:
            caller = await keys.authenticate(session, token)
        if caller is None or caller.key_id is None:
            return None
        await self._touch(caller.key_id)
        return AccessToken(token=token, client_id=f"{caller.org_id}:{caller.key_id}", scopes=sorted(caller.scopes))

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
