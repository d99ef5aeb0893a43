"""An organization's alert webhook: where new alerts are POSTed, the secret that signs them, and the delivery log.

**Signature.** Every delivery carries `X-Trackagoat-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact request
body under the organization's secret (`sign`), plus `X-Trackagoat-Delivery` (one id for a batch and all of its
retries: receivers deduplicate by it). The body's `sent_at` lets a receiver refuse old replays. A receiver checks the
header with a constant-time comparison of its own HMAC over the raw body bytes.

**The secret** (`whsec_` + 64 hex) is made by the server when the URL is set, shown in that answer only, and kept in
the store (`alert_webhooks.secret`) so that any replica can sign. It is not encrypted at rest: it is as safe as the
database and its backups, which hold the program's data anyway, and what a stolen secret allows is forging alerts to
the receiver. Setting the webhook again (same or another URL) makes a new secret; clearing it deletes the row.

**Where it may point** (`check_url`, decided here and checked again by the sender before each delivery against the
addresses the name resolves to): `https` only, no user name or password in the URL, and never to the server's own
networks: loopback, private (RFC 1918, unique-local), link-local (cloud metadata at 169.254.169.254), multicast,
reserved or unspecified addresses are refused, because a webhook set by an API key would otherwise let that key
reach internal services from the server. `TRACKAGOAT_WEBHOOK_ALLOW_PRIVATE` lifts the address rule for deployments
that route alerts to an internal chat bridge; `TRACKAGOAT_WEBHOOK_ALLOW_LOOPBACK` allows plain `http` to loopback
only (tests and local development).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.db.models import AlertDelivery, AlertWebhook
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "SIGNATURE_HEADER",
    "DeliveryOut",
    "UrlPolicy",
    "WebhookOut",
    "address_allowed",
    "check_url",
    "clear_webhook",
    "get_webhook",
    "set_webhook",
    "sign",
]

SIGNATURE_HEADER = "X-Trackagoat-Signature"
DELIVERY_HEADER = "X-Trackagoat-Delivery"
MAX_URL = 2000
DELIVERIES_SHOWN = 5


class UrlPolicy(BaseModel):
    """Which webhook destinations the deployment allows (settings)."""

    allow_loopback: bool = False
    allow_private: bool = False


class DeliveryOut(BaseModel):
    """One delivery attempt."""

    delivery_id: uuid.UUID
    attempt: int
    alert_count: int
    ok: bool
    status_code: int | None
    error: str | None
    attempted_at: datetime


class WebhookOut(BaseModel):
    """The organization's alert webhook (the secret only in the answer that set it)."""

    url: str | None = Field(description="null = no webhook.")
    secret: str | None = Field(description="Shown once, when set: verify X-Trackagoat-Signature with it.")
    updated_at: datetime | None
    recent_deliveries: list[DeliveryOut]


def sign(body: bytes, secret: str) -> str:
    """The `X-Trackagoat-Signature` value for `body`: `sha256=` + hex HMAC-SHA256 under `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, policy: UrlPolicy) -> bool:
    """Whether a webhook may be delivered to `address` (module docstring)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return policy.allow_loopback or policy.allow_private
    internal = (
        address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )
    return policy.allow_private or not internal


def _is_loopback_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def check_url(url: str, policy: UrlPolicy) -> str:
    """`url` if a webhook may point there (module docstring), else `InvalidInput` saying why."""
    if len(url) > MAX_URL:
        raise InvalidInput(f"url is {len(url)} characters long; use at most {MAX_URL}.")
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidInput(f"url {url[:200]!r} has no host; give a full URL such as 'https://hooks.example.com/x'.")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(f"url {url[:200]!r} carries a user name or password; put credentials in the path instead.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    loopback = _is_loopback_name(host) or (literal is not None and literal.is_loopback)
    if parts.scheme == "http" and not (loopback and policy.allow_loopback):
        raise InvalidInput(f"url {url[:200]!r} is not https; webhooks are sent over https only.")
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(f"url {url[:200]!r} is not an https URL.")
    blocked = (literal is not None and not address_allowed(literal, policy)) or (
        _is_loopback_name(host) and not (policy.allow_loopback or policy.allow_private)
    )
    if blocked:
        raise InvalidInput(
            f"url {url[:200]!r} points at a loopback, private or internal address; webhooks go to public hosts "
            "(an operator can allow internal ones with TRACKAGOAT_WEBHOOK_ALLOW_PRIVATE)."
        )
    return url.strip()


async def _deliveries(session: AsyncSession, org_id: uuid.UUID) -> list[DeliveryOut]:
    rows = await session.scalars(
        select(AlertDelivery)
        .where(col(AlertDelivery.org_id) == org_id)
        .order_by(col(AlertDelivery.attempted_at).desc(), col(AlertDelivery.attempt).desc())
        .limit(DELIVERIES_SHOWN)
    )
    return [DeliveryOut.model_validate(row, from_attributes=True) for row in rows]


async def get_webhook(session: AsyncSession, caller: Caller) -> WebhookOut:
    """The organization's webhook URL (never its secret) and its latest delivery attempts."""
    caller.require("read")
    row = await session.get(AlertWebhook, caller.org_id)
    return WebhookOut(
        url=None if row is None else row.url,
        secret=None,
        updated_at=None if row is None else row.updated_at,
        recent_deliveries=await _deliveries(session, caller.org_id),
    )


async def set_webhook(
    session: AsyncSession, caller: Caller, url: str, *, policy: UrlPolicy, now: datetime
) -> WebhookOut:
    """Point the organization's alerts at `url` with a new secret (admin scope), returned this once."""
    caller.require("admin")
    checked = check_url(url, policy)
    secret = "whsec_" + secrets.token_hex(32)
    row = await session.get(AlertWebhook, caller.org_id)
    if row is None:
        row = AlertWebhook(org_id=caller.org_id, url=checked, secret=secret, created_at=now, updated_at=now)
    else:
        row.url, row.secret, row.updated_at = checked, secret, now
    session.add(row)
    await session.flush()
    return WebhookOut(
        url=checked, secret=secret, updated_at=now, recent_deliveries=await _deliveries(session, caller.org_id)
    )


async def clear_webhook(session: AsyncSession, caller: Caller) -> WebhookOut:
    """Stop sending alerts anywhere (admin scope); the delivery log stays."""
    caller.require("admin")
    row = await session.get(AlertWebhook, caller.org_id)
    if row is not None:
        await session.delete(row)
        await session.flush()
    return WebhookOut(
        url=None, secret=None, updated_at=None, recent_deliveries=await _deliveries(session, caller.org_id)
    )
