"""outcome loop: the deal each routed lead became, and the analyst tables (per lead, and metrics in long form)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.String(length=64), nullable=False),
        sa.Column("deal_id", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=80), nullable=True),
        sa.Column("is_closed", sa.Boolean(), nullable=False),
        sa.Column("is_won", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("source", "lead_id"),
    )
    op.create_table(
        "outcome_leads",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_kind", sa.String(length=8), nullable=True),
        sa.Column("rule", sa.String(length=80), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("lead_created_at", TS, nullable=True),
        sa.Column("decided_at", TS, nullable=False),
        sa.Column("first_touch_at", TS, nullable=True),
        sa.Column("speed_to_lead_min", sa.Float(), nullable=True),
        sa.Column("sla_breached", sa.Boolean(), nullable=False),
        sa.Column("reassigned", sa.Boolean(), nullable=False),
        sa.Column("wrong_assignment", sa.Boolean(), nullable=False),
        sa.Column("manual_triage", sa.Boolean(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("meeting", sa.Boolean(), nullable=False),
        sa.Column("opportunity", sa.Boolean(), nullable=False),
        sa.Column("won", sa.Boolean(), nullable=False),
        sa.Column("pipeline", sa.Float(), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("days_to_opportunity", sa.Float(), nullable=True),
        sa.Column("hindsight_tier", sa.String(length=16), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("source", "lead_id"),
    )
    op.create_index("ix_outcome_leads_week", "outcome_leads", ["source", "week"], unique=False)
    op.create_table(
        "outcome_metrics",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=96), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("figure", sa.Float(), nullable=True),
        sa.Column("op", sa.String(length=1), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("target", sa.String(length=40), nullable=True),
        sa.Column("passes", sa.Boolean(), nullable=True),
        sa.Column("computed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("source", "dimension", "value", "metric"),
    )


def downgrade() -> None:
    op.drop_table("outcome_metrics")
    op.drop_index("ix_outcome_leads_week", table_name="outcome_leads")
    op.drop_table("outcome_leads")
    op.drop_table("outcomes")
