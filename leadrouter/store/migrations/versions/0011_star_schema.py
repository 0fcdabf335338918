"""the star schema: fact_routed_leads, dim_rep (with history), dim_calendar, outcome_snapshots, fx_rates; the
deal's currency and creation stamp on outcomes; the wide views v_routed_leads and v_outcome_snapshots; column
comments on PostgreSQL (docs/outcome-tables.md)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from leadrouter.store.star_views import COMMENTS, VIEWS
from leadrouter.store.tables import UtcStamp

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC = UtcStamp()
STAR = ["outcome_snapshots", "fact_routed_leads", "dim_rep", "dim_calendar", "fx_rates"]


def upgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("deal_created_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "dim_calendar",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("iso_week", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("day_of_week", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("fiscal_quarter", sa.String(length=10), nullable=False),
        sa.Column("fiscal_year_start_month", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("date"),
    )
    op.create_table(
        "dim_rep",
        sa.Column("rep_key", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("rep_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("team", sa.String(length=80), nullable=True),
        sa.Column("pools", sa.Text(), nullable=True),
        sa.Column("regions", sa.Text(), nullable=True),
        sa.Column("languages", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("valid_from", UTC, nullable=False),
        sa.Column("valid_to", UTC, nullable=True),
        sa.PrimaryKeyConstraint("rep_key"),
    )
    op.create_index("ix_dim_rep_current", "dim_rep", ["source", "rep_id", "valid_from"])
    op.create_table(
        "fact_routed_leads",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.String(length=64), nullable=False),
        sa.Column("arrival_date", sa.Date(), sa.ForeignKey("dim_calendar.date"), nullable=False),
        sa.Column("arrival_hour", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_kind", sa.String(length=8), nullable=True),
        sa.Column("rule", sa.String(length=80), nullable=True),
        sa.Column("pool", sa.String(length=64), nullable=True),
        sa.Column("first_owner_id", sa.String(length=64), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("owner_path", sa.Text(), nullable=True),
        sa.Column("rep_key", sa.Integer(), sa.ForeignKey("dim_rep.rep_key"), nullable=True),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("territory", sa.String(length=64), nullable=True),
        sa.Column("industry", sa.String(length=80), nullable=True),
        sa.Column("seniority", sa.String(length=32), nullable=True),
        sa.Column("custom_fields", sa.JSON(), nullable=True),
        sa.Column("lead_created_at", UTC, nullable=True),
        sa.Column("decided_at", UTC, nullable=False),
        sa.Column("first_touch_at", UTC, nullable=True),
        sa.Column("speed_to_lead_min", sa.Float(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("sla_breached", sa.Boolean(), nullable=False),
        sa.Column("reassigned", sa.Boolean(), nullable=False),
        sa.Column("wrong_assignment", sa.Boolean(), nullable=False),
        sa.Column("manual_triage", sa.Boolean(), nullable=False),
        sa.Column("opportunity", sa.Boolean(), nullable=False),
        sa.Column("won", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("deal_id", sa.String(length=64), nullable=True),
        sa.Column("deal_stage", sa.String(length=80), nullable=True),
        sa.Column("deal_created_at", UTC, nullable=True),
        sa.Column("deal_close_date", sa.Date(), nullable=True),
        sa.Column("deal_amount", sa.Numeric(18, 2), nullable=True),
        sa.Column("deal_currency", sa.String(length=3), nullable=True),
        sa.Column("deal_final", sa.Boolean(), nullable=False),
        sa.Column("days_to_opportunity", sa.Float(), nullable=True),
        sa.Column("hindsight_tier", sa.String(length=16), nullable=True),
        sa.Column("computed_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("source", "lead_id"),
    )
    op.create_index("ix_fact_routed_leads_arrival", "fact_routed_leads", ["source", "arrival_date"])
    op.create_table(
        "outcome_snapshots",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("snapshot_date", sa.Date(), sa.ForeignKey("dim_calendar.date"), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=96), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("breached", sa.Integer(), nullable=False),
        sa.Column("wrong_assignments", sa.Integer(), nullable=False),
        sa.Column("reassigned", sa.Integer(), nullable=False),
        sa.Column("opportunities", sa.Integer(), nullable=False),
        sa.Column("won", sa.Integer(), nullable=False),
        sa.Column("closed_deals", sa.Integer(), nullable=False),
        sa.Column("matured", sa.Integer(), nullable=False),
        sa.Column("matured_hindsight_vip", sa.Integer(), nullable=False),
        sa.Column("speed_median_min", sa.Float(), nullable=True),
        sa.Column("speed_p90_min", sa.Float(), nullable=True),
        sa.Column("computed_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("source", "snapshot_date", "dimension", "value"),
    )
    op.create_table(
        "fx_rates",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("base_currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(18, 8), nullable=False),
        sa.PrimaryKeyConstraint("currency", "valid_from"),
    )
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")
    if op.get_bind().dialect.name == "postgresql":
        for (table, column), text in COMMENTS.items():
            quoted = text.replace("'", "''")
            target = f"TABLE {table}" if column is None else f"COLUMN {table}.{column}"
            op.execute(f"COMMENT ON {target} IS '{quoted}'")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW {name}")
    for table in STAR:
        op.drop_table(table)
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("deal_created_at")
        batch.drop_column("currency")
