"""Every table of the store, in one module (the SQLModel authors' layout).

Conventions: UUID primary keys (snapshots use integers: they are append-only and numerous), aware
UTC `*_at` timestamps, integer counters, JSON `metadata` objects (the Python attribute is `meta`
because SQLAlchemy reserves `metadata`). Project-scoped rows also carry `org_id` so that every
query can be scoped to the caller's organization with one indexed filter.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from trackagoat_mcp.db.types import UTCDateTime, json_column

__all__ = [
    "Alert",
    "AlertDelivery",
    "AlertWebhook",
    "ApiKey",
    "Campaign",
    "CampaignItem",
    "Creator",
    "CreatorSnapshot",
    "Goal",
    "IdempotencyKey",
    "JobRun",
    "Organization",
    "PayoutAccrual",
    "PayoutAdjustment",
    "PayoutAssignment",
    "PayoutEvaluation",
    "PayoutMethod",
    "PayoutPayment",
    "PayoutPaymentLine",
    "PayoutStructure",
    "PayoutStructureVersion",
    "Project",
    "RestIdempotencyKey",
    "Video",
    "VideoComment",
    "VideoCommentFeed",
    "VideoSnapshot",
    "record_columns",
    "table_of",
    "utcnow",
]


def utcnow() -> datetime:
    """Default for `created_at`/`updated_at` columns (domain code passes the injected clock's time instead)."""
    return datetime.now(UTC)


class Organization(SQLModel, table=True):
    """A tenant. Everything else belongs to exactly one organization."""

    __tablename__ = "organizations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_type=String(200))
    timezone: str = Field(default="UTC", sa_type=String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """An API key; only its SHA-256 is stored, the key itself is shown once at creation."""

    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    name: str = Field(sa_type=String(200))
    prefix: str = Field(sa_type=String(16))
    key_hash: str = Field(sa_type=String(64), unique=True)
    scopes: str = Field(default="read,write", sa_type=String(64))
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Project(SQLModel, table=True):
    """A creator program (e.g. "Q1 Brand Program"): creators, videos and campaigns live in one."""

    __tablename__ = "projects"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    name: str = Field(sa_type=String(200))
    description: str | None = Field(default=None, sa_type=Text)
    readme: str | None = Field(default=None, sa_type=Text)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("metadata"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Creator(SQLModel, table=True):
    """A TikTok account tracked in one project. Removal deactivates; re-adding reactivates."""

    __tablename__ = "creators"
    __table_args__ = (
        UniqueConstraint("project_id", "tiktok_handle", name="uq_creators_project_handle"),
        Index("ix_creators_project_active", "project_id", "is_active"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id")
    tiktok_handle: str = Field(sa_type=String(64))
    tiktok_user_id: str | None = Field(default=None, sa_type=String(64))
    sec_uid: str | None = Field(default=None, sa_type=String(200))
    display_name: str | None = Field(default=None, sa_type=String(200))
    avatar_url: str | None = Field(default=None, sa_type=Text)
    bio: str | None = Field(default=None, sa_type=Text)
    description: str | None = Field(default=None, sa_type=Text)
    readme: str | None = Field(default=None, sa_type=Text)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("metadata"))
    tracking_mode: str = Field(default="auto", sa_type=String(16))
    tracking_start_date: date
    follower_count: int | None = Field(default=None, sa_type=BigInteger)
    total_likes_count: int | None = Field(default=None, sa_type=BigInteger)
    video_count: int | None = Field(default=None, sa_type=BigInteger)
    last_scraped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scrape_state: str = Field(default="stale", sa_type=String(16))
    is_active: bool = True
    disabled_reason: str | None = Field(default=None, sa_type=Text)
    # Scraper bookkeeping (jobs/scraper.py): when each kind of fetch was last tried (the floors count from
    # these), since when TikTok has said "not found"/"banned" without a break, and the lease a worker holds
    # while it scrapes the creator (so two processes never scrape one creator at once).
    profile_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    videos_listed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    video_stats_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    missing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scrape_claimed_by: str | None = Field(default=None, sa_type=String(200))
    scrape_claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Video(SQLModel, table=True):
    """One TikTok post (video or photo carousel) tracked in a project."""

    __tablename__ = "videos"
    __table_args__ = (
        UniqueConstraint("project_id", "tiktok_video_id", name="uq_videos_project_tiktok_id"),
        Index("ix_videos_creator_status", "creator_id", "tracking_status"),
        # Covers the per-creator sums of campaign statistics, so they never visit the table itself.
        Index(
            "ix_videos_creator_counters",
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
        ),
        Index("ix_videos_project_posted", "project_id", "posted_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id")
    creator_id: uuid.UUID | None = Field(default=None, foreign_key="creators.id")
    tiktok_video_id: str = Field(sa_type=String(32))
    url: str = Field(sa_type=Text)
    caption: str | None = Field(default=None, sa_type=Text)
    description: str | None = Field(default=None, sa_type=Text)
    readme: str | None = Field(default=None, sa_type=Text)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("metadata"))
    view_count: int = Field(default=0, sa_type=BigInteger)
    like_count: int = Field(default=0, sa_type=BigInteger)
    comment_count: int = Field(default=0, sa_type=BigInteger)
    share_count: int = Field(default=0, sa_type=BigInteger)
    save_count: int = Field(default=0, sa_type=BigInteger)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_scraped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scrape_state: str = Field(default="stale", sa_type=String(16))
    tracking_status: str = Field(sa_type=String(16))
    tracking_disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set while `excluded`: when, the status `restore` brings it back to, and the reason given.
    excluded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    excluded_from_status: str | None = Field(default=None, sa_type=String(16))
    exclusion_reason: str | None = Field(default=None, sa_type=Text)
    # When the scraper last tried this video's stats, successful or not; also its claim for a single fetch.
    stats_attempted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_photo: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CreatorSnapshot(SQLModel, table=True):
    """Append-only profile counters captured by one successful scrape."""

    __tablename__ = "creator_snapshots"
    __table_args__ = (Index("ix_creator_snapshots_creator_time", "creator_id", "captured_at"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    creator_id: uuid.UUID = Field(foreign_key="creators.id")
    captured_at: datetime = Field(sa_type=UTCDateTime)
    follower_count: int = Field(default=0, sa_type=BigInteger)
    following_count: int = Field(default=0, sa_type=BigInteger)
    total_likes_count: int = Field(default=0, sa_type=BigInteger)
    video_count: int = Field(default=0, sa_type=BigInteger)


class VideoSnapshot(SQLModel, table=True):
    """Append-only video counters captured by one successful scrape; the source of every delta."""

    __tablename__ = "video_snapshots"
    # Carries view_count so that "views at a moment" look-ups are answered from the index alone.
    __table_args__ = (Index("ix_video_snapshots_video_time_views", "video_id", "captured_at", "view_count"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    video_id: uuid.UUID = Field(foreign_key="videos.id")
    captured_at: datetime = Field(sa_type=UTCDateTime)
    view_count: int = Field(default=0, sa_type=BigInteger)
    like_count: int = Field(default=0, sa_type=BigInteger)
    comment_count: int = Field(default=0, sa_type=BigInteger)
    share_count: int = Field(default=0, sa_type=BigInteger)
    save_count: int = Field(default=0, sa_type=BigInteger)


class Campaign(SQLModel, table=True):
    """A named grouping of creators, videos and other campaigns inside one project."""

    __tablename__ = "campaigns"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id", index=True)
    name: str = Field(sa_type=String(200))
    description: str | None = Field(default=None, sa_type=Text)
    readme: str | None = Field(default=None, sa_type=Text)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("metadata"))
    target_views: int | None = Field(default=None, sa_type=BigInteger)
    target_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CampaignItem(SQLModel, table=True):
    """Membership of a creator, a video or a sub-campaign (`item_type`) in a campaign."""

    __tablename__ = "campaign_items"
    __table_args__ = (
        UniqueConstraint("campaign_id", "item_type", "item_id", name="uq_campaign_items_member"),
        Index("ix_campaign_items_item", "item_type", "item_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    campaign_id: uuid.UUID = Field(sa_column_args=[ForeignKey("campaigns.id", ondelete="CASCADE")])
    item_type: str = Field(sa_type=String(16))
    item_id: uuid.UUID
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JobRun(SQLModel, table=True):
    """One claimed run of a job for one slot (e.g. accruals for an hour); the audit trail of the jobs."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "slot", name="uq_job_runs_job_slot"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    job: str = Field(sa_type=String(64))
    slot: str = Field(sa_type=String(64))
    status: str = Field(default="running", sa_type=String(16))
    claimed_by: str = Field(sa_type=String(200))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    report: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("report"))


class Goal(SQLModel, table=True):
    """A per-creator target (`posts`, `views`, `engagement` in percent, `followers`) for every `period`."""

    __tablename__ = "goals"
    __table_args__ = (Index("ix_goals_project_creator", "project_id", "creator_id", "is_active"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id")
    creator_id: uuid.UUID = Field(foreign_key="creators.id")
    metric: str = Field(sa_type=String(16))
    period: str = Field(sa_type=String(16))
    target_value: float
    start_date: date
    end_date: date | None = None
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayoutMethod(SQLModel, table=True):
    """A channel payments go through; `Venmo`, `Cash App` and `PayPal` are seeded defaults (never deleted)."""

    __tablename__ = "payout_methods"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_payout_methods_org_name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id")
    name: str = Field(sa_type=String(100))
    icon_url: str | None = Field(default=None, sa_type=Text)
    is_default: bool = False
    is_active: bool = True
    readme: str | None = Field(default=None, sa_type=Text)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("metadata"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayoutStructure(SQLModel, table=True):
    """A project's earning rule; the rule itself lives in immutable versions, `current_version` is the newest."""

    __tablename__ = "payout_structures"
    __table_args__ = (Index("ix_payout_structures_project", "project_id", "is_active"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id")
    name: str = Field(sa_type=String(200))
    is_active: bool = True
    current_version: int = 1
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    readme: str | None = Field(default=None, sa_type=Text)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("metadata"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayoutStructureVersion(SQLModel, table=True):
    """One immutable rule snapshot; accruals pin the version in force at their period's end."""

    __tablename__ = "payout_structure_versions"
    __table_args__ = (UniqueConstraint("structure_id", "version", name="uq_payout_structure_versions_version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    structure_id: uuid.UUID = Field(foreign_key="payout_structures.id")
    version: int
    period: str = Field(sa_type=String(16))
    amount_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(default="USD", sa_type=String(3))
    criteria_type: str = Field(sa_type=String(32))
    criteria_params: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("criteria_params"))
    proration_mode: str = Field(default="none", sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayoutAssignment(SQLModel, table=True):
    """A creator earning under a structure from `starts_on` to `ends_on` (inclusive dates, org timezone)."""

    __tablename__ = "payout_assignments"
    __table_args__ = (Index("ix_payout_assignments_structure_creator", "structure_id", "creator_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    structure_id: uuid.UUID = Field(foreign_key="payout_structures.id")
    creator_id: uuid.UUID = Field(foreign_key="creators.id", index=True)
    starts_on: date
    ends_on: date | None = None
    settled_before: date | None = None
    """Every period holding one of this assignment's days before this local date is evaluated (the accrual job
    advances it; None: walk from `starts_on`)."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayoutEvaluation(SQLModel, table=True):
    """The one evaluation of (structure, creator, period start), zero results included; its key makes accruals
    exactly-once."""

    __tablename__ = "payout_evaluations"
    __table_args__ = (
        UniqueConstraint("structure_id", "creator_id", "period_start_at", name="uq_payout_evaluations_period"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    structure_id: uuid.UUID = Field(foreign_key="payout_structures.id")
    structure_version_id: uuid.UUID = Field(foreign_key="payout_structure_versions.id")
    creator_id: uuid.UUID = Field(foreign_key="creators.id")
    period_start_at: datetime = Field(sa_type=UTCDateTime)
    period_end_at: datetime = Field(sa_type=UTCDateTime)
    amount_cents: int = Field(sa_type=BigInteger)
    accrual_id: uuid.UUID | None = None
    job_run_id: uuid.UUID | None = None
    inputs_snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("inputs_snapshot"))
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayoutAccrual(SQLModel, table=True):
    """Money a creator earned for one period under one structure version; settled by payment lines."""

    __tablename__ = "payout_accruals"
    __table_args__ = (
        UniqueConstraint("structure_id", "creator_id", "period_start_at", name="uq_payout_accruals_period"),
        Index("ix_payout_accruals_creator_status", "creator_id", "status", "period_start_at"),
        Index("ix_payout_accruals_project_status", "project_id", "status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id")
    creator_id: uuid.UUID = Field(foreign_key="creators.id")
    structure_id: uuid.UUID = Field(foreign_key="payout_structures.id")
    structure_version_id: uuid.UUID = Field(foreign_key="payout_structure_versions.id")
    period_start_at: datetime = Field(sa_type=UTCDateTime)
    period_end_at: datetime = Field(sa_type=UTCDateTime)
    amount_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(default="USD", sa_type=String(3))
    status: str = Field(default="earned", sa_type=String(16))
    outstanding_cents: int = Field(sa_type=BigInteger)
    inputs_snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("inputs_snapshot"))
    status_reason: str | None = Field(default=None, sa_type=Text)
    readme: str | None = Field(default=None, sa_type=Text)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("metadata"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayoutPayment(SQLModel, table=True):
    """Money sent to a creator (or ad hoc); `total = Σ lines + Σ adjustments`; voided, never deleted."""

    __tablename__ = "payout_payments"
    __table_args__ = (
        UniqueConstraint("org_id", "idempotency_key", name="uq_payout_payments_idempotency"),
        Index("ix_payout_payments_creator", "creator_id", "status"),
        Index("ix_payout_payments_project", "project_id", "paid_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id")
    project_id: uuid.UUID = Field(foreign_key="projects.id")
    creator_id: uuid.UUID | None = Field(default=None, foreign_key="creators.id")
    method_id: uuid.UUID = Field(foreign_key="payout_methods.id")
    method_name_snapshot: str = Field(sa_type=String(100))
    total_amount_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(default="USD", sa_type=String(3))
    status: str = Field(default="paid", sa_type=String(16))
    paid_at: datetime = Field(sa_type=UTCDateTime)
    idempotency_key: str = Field(sa_type=String(255))
    void_reason: str | None = Field(default=None, sa_type=Text)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    readme: str | None = Field(default=None, sa_type=Text)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("metadata"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayoutPaymentLine(SQLModel, table=True):
    """Part of a payment applied to one accrual."""

    __tablename__ = "payout_payment_lines"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    payment_id: uuid.UUID = Field(foreign_key="payout_payments.id", index=True)
    accrual_id: uuid.UUID = Field(foreign_key="payout_accruals.id", index=True)
    applied_amount_cents: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayoutAdjustment(SQLModel, table=True):
    """A signed line of a payment that is not an accrual: `overpayment` (+, a credit the creator holds),
    `credit_applied` (−, spends an earlier overpayment named by `source_adjustment_id`), `underpayment` (−)."""

    __tablename__ = "payout_adjustments"
    __table_args__ = (Index("ix_payout_adjustments_creator_kind", "creator_id", "kind"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    payment_id: uuid.UUID = Field(foreign_key="payout_payments.id", index=True)
    creator_id: uuid.UUID | None = Field(default=None, foreign_key="creators.id")
    kind: str = Field(sa_type=String(32))
    amount_cents: int = Field(sa_type=BigInteger)
    reason: str | None = Field(default=None, sa_type=Text)
    source_adjustment_id: uuid.UUID | None = Field(default=None, foreign_key="payout_adjustments.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IdempotencyKey(SQLModel, table=True):
    """A client's idempotency key, claimed before the work starts (`in_progress`) and finished with the id of
    what it created; the request fingerprint detects reuse with a different body."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("org_id", "operation", "key", name="uq_idempotency_keys_key"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id")
    operation: str = Field(sa_type=String(64))
    key: str = Field(sa_type=String(255))
    fingerprint: str = Field(sa_type=String(64))
    state: str = Field(default="in_progress", sa_type=String(16))
    resource_id: uuid.UUID | None = None
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RestIdempotencyKey(SQLModel, table=True):
    """An `Idempotency-Key` of a creating REST request: claimed before the work (`in_progress`, with a lease), then
    `done` with the exact response (status and body bytes) that every replay of the same request returns."""

    __tablename__ = "rest_idempotency_keys"
    __table_args__ = (UniqueConstraint("org_id", "key", name="uq_rest_idempotency_keys_key"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id")
    key: str = Field(sa_type=String(255))
    route: str = Field(sa_type=Text)
    fingerprint: str = Field(sa_type=String(64))
    state: str = Field(default="in_progress", sa_type=String(16))
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_code: int | None = None
    response_body: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class VideoComment(SQLModel, table=True):
    """A comment TikTok showed under a tracked video (replies too), scored for sentiment when it was stored.

    `cid` is TikTok's comment id, unique per video (and so per organization), which is what keeps a comment read
    twice from being stored twice. `score` is the AFINN comparative score (`domain.sentiment`), null when the text
    has no word to score. A comment TikTok later shows as deleted keeps its row with `deleted_at` set and leaves
    every figure; one that merely stops appearing in the newest pages is kept as it was.
    """

    __tablename__ = "video_comments"
    __table_args__ = (
        UniqueConstraint("video_id", "cid", name="uq_video_comments_video_cid"),
        # Covers the radar's per-video and per-bucket sums, so they never visit the table itself.
        Index("ix_video_comments_video_posted", "video_id", "posted_at", "deleted_at", "score"),
        Index("ix_video_comments_org_posted", "org_id", "posted_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    org_id: uuid.UUID = Field(foreign_key="organizations.id")
    project_id: uuid.UUID = Field(foreign_key="projects.id")
    video_id: uuid.UUID = Field(foreign_key="videos.id")
    cid: str = Field(sa_type=String(32))
    parent_cid: str | None = Field(default=None, sa_type=String(32))
    text: str = Field(default="", sa_type=Text)
    commenter: str | None = Field(default=None, sa_type=String(64))
    posted_at: datetime = Field(sa_type=UTCDateTime)
    like_count: int = Field(default=0, sa_type=BigInteger)
    reply_count: int = Field(default=0, sa_type=BigInteger)
    is_pinned: bool = False
    liked_by_author: bool = False
    score: float | None = Field(default=None, sa_type=Float)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scraped_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class VideoCommentFeed(SQLModel, table=True):
    """The comment scraper's bookkeeping for one video: when its comments were last tried (the floor counts from
    it, and stamping it is the claim), last read without failure, how the last try ended, TikTok's total, and
    where the backfill of older comments resumes (an offset into the newest-first list; null = nothing left)."""

    __tablename__ = "video_comment_feeds"

    video_id: uuid.UUID = Field(foreign_key="videos.id", primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id")
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    state: str = Field(default="stale", sa_type=String(16))
    total: int | None = Field(default=None, sa_type=BigInteger)
    backfill_cursor: int | None = Field(default=None, sa_type=BigInteger)


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy `Table` behind a model, typed for Core queries."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def record_columns(model: type[SQLModel], names: Iterable[str] | None = None) -> list[ColumnElement[Any]]:
    """The columns of `model`'s table named as the model's attributes (`meta` for `metadata`), all or those in
    `names`. `select(*record_columns(M))` returns rows read by name like M's objects, without the ORM's cost of
    building an object per row: for reads that only show what they read."""
    return list(_record_columns(model, None if names is None else frozenset(names)))


@functools.cache
def _record_columns(model: type[SQLModel], names: frozenset[str] | None) -> tuple[ColumnElement[Any], ...]:
    wanted = None if names is None else {"metadata" if name in ("meta", "metadata") else name for name in names}
    return tuple(
        column.label("meta") if column.name == "metadata" else column
        for column in table_of(model).c
        if wanted is None or column.name in wanted
    )


class Alert(SQLModel, table=True):
    """A health finding recorded for people and agents: one row per stable `key` in an organization, seen first at
    `first_seen_at` and last at `last_seen_at`; `open` → `acknowledged` → `resolved`, reopened when it recurs after
    being resolved. `notified_at` is set once the organization's webhook has received it (null: not sent yet)."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("org_id", "key", name="uq_alerts_org_key"),
        Index("ix_alerts_org_status_seen", "org_id", "status", "last_seen_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id")
    project_id: uuid.UUID | None = Field(default=None, foreign_key="projects.id")
    key: str = Field(sa_type=String(255))
    source: str = Field(sa_type=String(64))
    kind: str = Field(sa_type=String(64))
    severity: str = Field(default="warning", sa_type=String(16))
    subject_type: str | None = Field(default=None, sa_type=String(32))
    subject_id: uuid.UUID | None = None
    message: str = Field(sa_type=Text)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=json_column("details"))
    status: str = Field(default="open", sa_type=String(16))
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reopened_count: int = Field(default=0)
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertWebhook(SQLModel, table=True):
    """An organization's alert webhook: new alerts are POSTed to `url`, signed with HMAC-SHA256 under `secret`.

    The secret is shown once when set and kept here so that every replica can sign; it is never returned again.
    It is protected as the rest of the store is (database access control and backups), not encrypted at rest:
    a leaked secret lets someone forge alerts to the receiver, nothing more, and setting the webhook again rotates it.
    """

    __tablename__ = "alert_webhooks"

    org_id: uuid.UUID = Field(foreign_key="organizations.id", primary_key=True)
    url: str = Field(sa_type=Text)
    secret: str = Field(sa_type=String(128), repr=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertDelivery(SQLModel, table=True):
    """One attempt to POST alerts to an organization's webhook (the delivery log): the `delivery_id` is the same
    for every retry of one batch (receivers deduplicate by it), `status_code` or `error` says what happened."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_org_at", "org_id", "attempted_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id")
    delivery_id: uuid.UUID
    attempt: int
    url: str = Field(sa_type=Text)
    alert_count: int
    ok: bool = Field(default=False)
    status_code: int | None = None
    error: str | None = Field(default=None, sa_type=Text)
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    duration_ms: int = Field(default=0)
