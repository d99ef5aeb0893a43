"""Default payout methods (Venmo, Cash App, PayPal) for organizations created before they were seeded.

A data step only: new organizations get the defaults from `domain.orgs.create_org`; this gives them to every
organization that already existed, skipping any name the organization already has. Downgrading keeps them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 15:10:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from trackagoat_mcp.db.types import JSONType, UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULTS = ("Venmo", "Cash App", "PayPal")

methods = sa.table(
    "payout_methods",
    sa.column("id", sa.Uuid()),
    sa.column("org_id", sa.Uuid()),
    sa.column("name", sa.String(100)),
    sa.column("is_default", sa.Boolean()),
    sa.column("is_active", sa.Boolean()),
    sa.column("metadata", JSONType),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
organizations = sa.table("organizations", sa.column("id", sa.Uuid()))


def upgrade() -> None:
    bind = op.get_bind()
    org_ids = [row[0] for row in bind.execute(sa.select(organizations.c.id))]
    existing = {(row[0], row[1]) for row in bind.execute(sa.select(methods.c.org_id, methods.c.name))}
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "name": name,
            "is_default": True,
            "is_active": True,
            "metadata": {},
            "created_at": now,
            "updated_at": now,
        }
        for org_id in org_ids
        for name in DEFAULTS
        if (org_id, name) not in existing
    ]
    if rows:
        op.bulk_insert(methods, rows)


def downgrade() -> None:
    pass
