"""Organizations (tenants): create, list, and find the single one a keyless stdio session acts as."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.clock import parse_timezone
from trackagoat_mcp.db.models import Organization
from trackagoat_mcp.domain.payouts.methods import ensure_default_methods
from trackagoat_mcp.domain.scope import require_text
from trackagoat_mcp.errors import ConfigError, NotFound

__all__ = ["create_org", "find_org", "list_orgs", "only_org"]


async def create_org(session: AsyncSession, *, name: str, timezone: str = "UTC", now: datetime) -> Organization:
    """Create an organization with the default payout methods; `timezone` (IANA) sets its day and period
    boundaries."""
    parse_timezone(timezone)
    org = Organization(
        name=require_text(name, "Organization name", max_length=200), timezone=timezone, created_at=now, updated_at=now
    )
    session.add(org)
    await session.flush()
    await ensure_default_methods(session, org.id, now=now)  # Venmo, Cash App, PayPal
    return org


async def list_orgs(session: AsyncSession) -> list[Organization]:
    """Every organization, oldest first (operator view, used by the CLI only)."""
    return list((await session.scalars(select(Organization).order_by(col(Organization.created_at)))).all())


async def find_org(session: AsyncSession, ref: str) -> Organization:
    """Find an organization by id or exact name (CLI `--org`)."""
    for org in await list_orgs(session):
        if str(org.id) == ref.strip() or org.name == ref:
            return org
    raise NotFound(f"No organization {ref!r}; list them with `trackagoat-mcp orgs list`.")


async def only_org(session: AsyncSession) -> Organization:
    """The single organization of a store, for keyless stdio sessions.

    Raises:
        ConfigError: when the store has no organization or several (then a key must say which).
    """
    orgs = await list_orgs(session)
    if not orgs:
        raise ConfigError("The store has no organization yet; run `trackagoat-mcp init` first.")
    if len(orgs) > 1:
        raise ConfigError(
            f"The store has {len(orgs)} organizations, so the server cannot guess which one to act for; set "
            "TRACKAGOAT_API_KEY to a key of the organization (create one with `trackagoat-mcp keys create --org ...`)."
        )
    return orgs[0]
