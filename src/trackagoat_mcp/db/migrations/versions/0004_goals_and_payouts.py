"""Goals and payouts: goals, methods, versioned structures, assignments, evaluations, accruals, payments, keys.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 14:30:41.060183
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "operation", "key", name="uq_idempotency_keys_key"),
    )
    op.create_table(
        "payout_methods",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("icon_url", sa.Text(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("readme", sa.Text(), nullable=True),
        sa.Column(
            "metadata", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "name", name="uq_payout_methods_org_name"),
    )
    op.create_table(
        "payout_structures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("readme", sa.Text(), nullable=True),
        sa.Column(
            "metadata", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payout_structures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_structures_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_payout_structures_project", ["project_id", "is_active"], unique=False)

    op.create_table(
        "goals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("creator_id", sa.Uuid(), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("target_value", sa.Float(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goals_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_goals_project_creator", ["project_id", "creator_id", "is_active"], unique=False)

    op.create_table(
        "payout_assignments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("structure_id", sa.Uuid(), nullable=False),
        sa.Column("creator_id", sa.Uuid(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["payout_structures.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payout_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_assignments_creator_id"), ["creator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payout_assignments_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_payout_assignments_structure_creator", ["structure_id", "creator_id"], unique=False)

    op.create_table(
        "payout_payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("creator_id", sa.Uuid(), nullable=True),
        sa.Column("method_id", sa.Uuid(), nullable=False),
        sa.Column("method_name_snapshot", sa.String(length=100), nullable=False),
        sa.Column("total_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("readme", sa.Text(), nullable=True),
        sa.Column(
            "metadata", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
        ),
        sa.ForeignKeyConstraint(
            ["method_id"],
            ["payout_methods.id"],
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "idempotency_key", name="uq_payout_payments_idempotency"),
    )
    with op.batch_alter_table("payout_payments", schema=None) as batch_op:
        batch_op.create_index("ix_payout_payments_creator", ["creator_id", "status"], unique=False)
        batch_op.create_index("ix_payout_payments_project", ["project_id", "paid_at"], unique=False)

    op.create_table(
        "payout_structure_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("structure_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("criteria_type", sa.String(length=32), nullable=False),
        sa.Column(
            "criteria_params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("proration_mode", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["payout_structures.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("structure_id", "version", name="uq_payout_structure_versions_version"),
    )
    op.create_table(
        "payout_accruals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("creator_id", sa.Uuid(), nullable=False),
        sa.Column("structure_id", sa.Uuid(), nullable=False),
        sa.Column("structure_version_id", sa.Uuid(), nullable=False),
        sa.Column("period_start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outstanding_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "inputs_snapshot",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("readme", sa.Text(), nullable=True),
        sa.Column(
            "metadata", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["payout_structures.id"],
        ),
        sa.ForeignKeyConstraint(
            ["structure_version_id"],
            ["payout_structure_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("structure_id", "creator_id", "period_start_at", name="uq_payout_accruals_period"),
    )
    with op.batch_alter_table("payout_accruals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payout_accruals_creator_status", ["creator_id", "status", "period_start_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payout_accruals_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_payout_accruals_project_status", ["project_id", "status"], unique=False)

    op.create_table(
        "payout_adjustments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("creator_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source_adjustment_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payout_payments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_adjustment_id"],
            ["payout_adjustments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payout_adjustments", schema=None) as batch_op:
        batch_op.create_index("ix_payout_adjustments_creator_kind", ["creator_id", "kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_payout_adjustments_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payout_adjustments_source_adjustment_id"), ["source_adjustment_id"], unique=False
        )

    op.create_table(
        "payout_evaluations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("structure_id", sa.Uuid(), nullable=False),
        sa.Column("structure_version_id", sa.Uuid(), nullable=False),
        sa.Column("creator_id", sa.Uuid(), nullable=False),
        sa.Column("period_start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("accrual_id", sa.Uuid(), nullable=True),
        sa.Column("job_run_id", sa.Uuid(), nullable=True),
        sa.Column(
            "inputs_snapshot",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["payout_structures.id"],
        ),
        sa.ForeignKeyConstraint(
            ["structure_version_id"],
            ["payout_structure_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("structure_id", "creator_id", "period_start_at", name="uq_payout_evaluations_period"),
    )
    with op.batch_alter_table("payout_evaluations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_evaluations_org_id"), ["org_id"], unique=False)

    op.create_table(
        "payout_payment_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("accrual_id", sa.Uuid(), nullable=False),
        sa.Column("applied_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["accrual_id"],
            ["payout_accruals.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payout_payments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payout_payment_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_payment_lines_accrual_id"), ["accrual_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payout_payment_lines_payment_id"), ["payment_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("payout_payment_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_payment_lines_payment_id"))
        batch_op.drop_index(batch_op.f("ix_payout_payment_lines_accrual_id"))

    op.drop_table("payout_payment_lines")
    with op.batch_alter_table("payout_evaluations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_evaluations_org_id"))

    op.drop_table("payout_evaluations")
    with op.batch_alter_table("payout_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_adjustments_source_adjustment_id"))
        batch_op.drop_index(batch_op.f("ix_payout_adjustments_payment_id"))
        batch_op.drop_index("ix_payout_adjustments_creator_kind")

    op.drop_table("payout_adjustments")
    with op.batch_alter_table("payout_accruals", schema=None) as batch_op:
        batch_op.drop_index("ix_payout_accruals_project_status")
        batch_op.drop_index(batch_op.f("ix_payout_accruals_org_id"))
        batch_op.drop_index("ix_payout_accruals_creator_status")

    op.drop_table("payout_accruals")
    op.drop_table("payout_structure_versions")
    with op.batch_alter_table("payout_payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payout_payments_project")
        batch_op.drop_index("ix_payout_payments_creator")

    op.drop_table("payout_payments")
    with op.batch_alter_table("payout_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_payout_assignments_structure_creator")
        batch_op.drop_index(batch_op.f("ix_payout_assignments_org_id"))
        batch_op.drop_index(batch_op.f("ix_payout_assignments_creator_id"))

    op.drop_table("payout_assignments")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_index("ix_goals_project_creator")
        batch_op.drop_index(batch_op.f("ix_goals_org_id"))

    op.drop_table("goals")
    with op.batch_alter_table("payout_structures", schema=None) as batch_op:
        batch_op.drop_index("ix_payout_structures_project")
        batch_op.drop_index(batch_op.f("ix_payout_structures_org_id"))

    op.drop_table("payout_structures")
    op.drop_table("payout_methods")
    op.drop_table("idempotency_keys")
