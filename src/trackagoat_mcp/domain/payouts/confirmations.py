"""Confirmation tokens: the second step of a money-moving call whose client cannot ask the person itself.

The first call answers a preview of the effect and a token; only a second call with the same arguments and the
token writes. A token is an HMAC-signed, self-contained claim (nothing is stored when it is issued):

* bound to the organization and API key that asked (`confirmation_wrong_key` for anyone else), the tool
  (`confirmation_wrong_tool`) and the canonical digest of its arguments (`confirmation_arguments_changed`);
* bound to the effect it previewed (`effects.MoneyEffect.digest`): the write recomputes its effect inside its own
  transaction and refuses (`confirmation_stale`) when the ledger changed what it would write;
* valid for `TOKEN_TTL` (`confirmation_expired`), and spent once: the write records the token's SHA-256 (never the
  token) in `idempotency_keys` in the same transaction, so a replay after success is `confirmation_used`.

Each bound value rides in the token as a keyed tag (the first 8 bytes of an HMAC of it), so a refusal can say which
one differs without the token revealing anything; a 128-bit HMAC over the expiry and the tags makes it unforgeable.
The signing key comes from the server (see `server.confirm`), never from the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from trackagoat_mcp.db.models import IdempotencyKey
from trackagoat_mcp.domain.payouts import idempotency
from trackagoat_mcp.errors import Conflict, Forbidden, InvalidInput

__all__ = ["TOKEN_TTL", "Binding", "Token", "arguments_digest", "issue", "refuse_spent", "spend", "stale", "verify"]

TOKEN_TTL = timedelta(minutes=10)
"""Long enough for a person to read a preview and answer, short enough that an approval never outlives the talk."""
PREFIX = "c1."
TAG = 8
MAC = 16
_BODY = 8 + 4 * TAG


@dataclass(frozen=True)
class Binding:
    """Who asks, with which tool and arguments."""

    org_id: uuid.UUID
    key_id: uuid.UUID | None
    tool: str
    arguments: str
    """`arguments_digest` of the call's arguments (the token itself left out)."""


@dataclass(frozen=True)
class Token:
    """A token whose signature, expiry, caller, tool and arguments were checked; the ledger is checked at write."""

    raw: str
    expires_at: datetime
    ledger_tag: bytes

    def matches(self, secret: bytes, effect_digest: str) -> bool:
        """Whether the effect about to be written is the one the token previewed."""
        return hmac.compare_digest(self.ledger_tag, _tag(secret, "ledger", effect_digest))


def arguments_digest(arguments: dict[str, Any]) -> str:
    """SHA-256 of a call's canonical arguments (sorted keys, compact JSON; dates and times as ISO text)."""
    return idempotency.fingerprint(arguments)


def _tag(secret: bytes, kind: str, value: str) -> bytes:
    return hmac.new(secret, f"{kind}\x1f{value}".encode(), hashlib.sha256).digest()[:TAG]


def _tags(secret: bytes, binding: Binding) -> tuple[bytes, bytes, bytes]:
    return (
        _tag(secret, "who", f"{binding.org_id}:{binding.key_id}"),
        _tag(secret, "tool", binding.tool),
        _tag(secret, "arguments", binding.arguments),
    )


def issue(secret: bytes, binding: Binding, effect_digest: str, *, now: datetime) -> tuple[str, datetime]:
    """A token for `binding` and the previewed effect, and when it expires."""
    expires = int((now + TOKEN_TTL).timestamp())
    body = struct.pack(">Q", expires) + b"".join(_tags(secret, binding)) + _tag(secret, "ledger", effect_digest)
    mac = hmac.new(secret, body, hashlib.sha256).digest()[:MAC]
    token = PREFIX + base64.urlsafe_b64encode(body + mac).decode().rstrip("=")
    return token, datetime.fromtimestamp(expires, UTC)


def verify(secret: bytes, token: str, binding: Binding, *, now: datetime) -> Token:
    """Check a token's signature, expiry, caller, tool and arguments (in that order), refusing with a sentence."""
    try:
        raw = base64.urlsafe_b64decode(token.removeprefix(PREFIX) + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if not token.startswith(PREFIX) or len(raw) != _BODY + MAC:
        raise InvalidInput(
            f"confirmation_token {token[:80]!r} is not a confirmation token; call the tool without it to get a "
            "preview and a token.",
            code="confirmation_invalid",
        )
    body, mac = raw[:_BODY], raw[_BODY:]
    if not hmac.compare_digest(mac, hmac.new(secret, body, hashlib.sha256).digest()[:MAC]):
        raise InvalidInput(
            "confirmation_token was not issued by this server (or the server restarted since without shared "
            "TRACKAGOAT_REQUEST_STATE_KEYS); nothing was written. Call the tool without it for a fresh preview.",
            code="confirmation_invalid",
        )
    (expires,) = struct.unpack(">Q", body[:8])
    expires_at = datetime.fromtimestamp(expires, UTC)
    if now >= expires_at:
        raise Conflict(
            f"confirmation_token expired at {expires_at.isoformat()}; nothing was written. Call the tool without it "
            "for a fresh preview, show it to the person, and confirm within "
            f"{int(TOKEN_TTL.total_seconds() // 60)} minutes.",
            code="confirmation_expired",
        )
    who, tool, arguments = (body[8 + i * TAG : 8 + (i + 1) * TAG] for i in range(3))
    expected = _tags(secret, binding)
    if not hmac.compare_digest(who, expected[0]):
        raise Forbidden(
            "confirmation_token was issued to another API key or organization; nothing was written. Only the key "
            "that asked for the preview can confirm it.",
            code="confirmation_wrong_key",
        )
    if not hmac.compare_digest(tool, expected[1]):
        raise InvalidInput(
            f"confirmation_token was issued for another tool, not {binding.tool!r}; nothing was written.",
            code="confirmation_wrong_tool",
        )
    if not hmac.compare_digest(arguments, expected[2]):
        raise InvalidInput(
            f"The arguments of this {binding.tool} call differ from the previewed ones the token confirms; nothing was "
            "written. Repeat the previewed arguments exactly, or call without the token for a new preview.",
            code="confirmation_arguments_changed",
        )
    return Token(raw=token, expires_at=expires_at, ledger_tag=body[8 + 3 * TAG : _BODY])


def stale(tool: str) -> Conflict:
    """The refusal when the ledger changed what a confirmed call would write."""
    return Conflict(
        f"The ledger changed since the preview was confirmed, so {tool} would no longer write what the person "
        "approved; nothing was written. Call it again without the token for a new preview and confirm that.",
        code="confirmation_stale",
    )


async def refuse_spent(session: AsyncSession, org_id: uuid.UUID, tool: str, token: str) -> None:
    """Refuse a token already spent by a write (a replay after success): `confirmation_used`."""
    used = await session.scalar(
        select(col(IdempotencyKey.finished_at)).where(
            col(IdempotencyKey.org_id) == org_id,
            col(IdempotencyKey.operation) == _operation(tool),
            col(IdempotencyKey.key) == _spent_key(token),
        )
    )
    if used is not None:
        raise Conflict(
            f"This confirmation_token was already used at {used.isoformat()}; a confirmation writes once, and nothing "
            "was written now. Call the tool without it for a new preview if another change is meant.",
            code="confirmation_used",
        )


def _operation(tool: str) -> str:
    return f"confirm:{tool}"


def _spent_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def spend(session: AsyncSession, org_id: uuid.UUID, tool: str, token: Token, *, now: datetime) -> None:
    """Record the token as spent inside the write's transaction; refuse one spent before (a replay)."""
    await refuse_spent(session, org_id, tool, token.raw)
    key = _spent_key(token.raw)
    session.add(
        IdempotencyKey(
            org_id=org_id,
            operation=_operation(tool),
            key=key,
            fingerprint=key,
            state="done",
            created_at=now,
            finished_at=now,
        )
    )
    await session.flush()
