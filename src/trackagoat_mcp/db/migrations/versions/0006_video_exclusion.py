"""Video exclusion bookkeeping: when a video was excluded, the status it had before, and why.

`restore` brings an excluded video back to `excluded_from_status`. Videos excluded before this revision (only
the tracking inbox could exclude, so they were `pending_review`) keep NULL, which restore reads as
`pending_review`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("videos", sa.Column("excluded_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("videos", sa.Column("excluded_from_status", sa.String(length=16), nullable=True))
    op.add_column("videos", sa.Column("exclusion_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("videos") as videos:
        videos.drop_column("exclusion_reason")
        videos.drop_column("excluded_from_status")
        videos.drop_column("excluded_at")
