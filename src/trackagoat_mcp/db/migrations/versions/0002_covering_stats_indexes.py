"""Covering indexes for campaign statistics: per-creator counters, and snapshot views by time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIDEO_COUNTER_COLUMNS = [
    "creator_id",
    "tracking_status",
    "tracking_disabled_at",
    "project_id",
    "posted_at",
    "last_scraped_at",
    "view_count",
    "like_count",
    "comment_count",
    "share_count",
    "save_count",
    "id",
]


def upgrade() -> None:
    op.create_index("ix_videos_creator_counters", "videos", VIDEO_COUNTER_COLUMNS)
    # The new snapshot index starts with the old one's columns, so it serves every query the old one did.
    op.create_index("ix_video_snapshots_video_time_views", "video_snapshots", ["video_id", "captured_at", "view_count"])
    op.drop_index("ix_video_snapshots_video_time", table_name="video_snapshots")


def downgrade() -> None:
    op.create_index("ix_video_snapshots_video_time", "video_snapshots", ["video_id", "captured_at"])
    op.drop_index("ix_video_snapshots_video_time_views", table_name="video_snapshots")
    op.drop_index("ix_videos_creator_counters", table_name="videos")
