"""Accrual planning starts where evaluation stands: `payout_assignments.settled_before`.

Every period of the assignment's structure that holds one of its days before `settled_before` (a local date, the
start of a period) has been evaluated, so the planner walks periods from there instead of from `starts_on`.
NULL (every row before this revision, and every new assignment) means nothing is known yet: walk from `starts_on`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payout_assignments", sa.Column("settled_before", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payout_assignments") as assignments:
        assignments.drop_column("settled_before")
