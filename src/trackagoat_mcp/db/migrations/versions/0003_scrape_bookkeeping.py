"""Scraper bookkeeping: per-creator fetch times, the not-found streak, the scrape lease; per-video attempt time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATOR_TIMES = [
    "profile_checked_at",
    "videos_listed_at",
    "video_stats_checked_at",
    "missing_since",
    "scrape_claimed_until",
]


def upgrade() -> None:
    for name in CREATOR_TIMES:
        op.add_column("creators", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.add_column("creators", sa.Column("scrape_claimed_by", sa.String(length=200), nullable=True))
    op.add_column("videos", sa.Column("stats_attempted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("videos") as videos:
        videos.drop_column("stats_attempted_at")
    with op.batch_alter_table("creators") as creators:
        creators.drop_column("scrape_claimed_by")
        for name in reversed(CREATOR_TIMES):
            creators.drop_column(name)
