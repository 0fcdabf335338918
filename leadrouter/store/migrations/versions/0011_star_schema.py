"""the star schema: fact_routed_leads, dim_rep (with history), dim_calendar, outcome_snapshots, fx_rates; the
deal's currency and creation stamp on outcomes; the wide views v_routed_leads and v_outcome_snapshots; column
comments on PostgreSQL (docs/outcome-tables.md)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# what leadrouter.store.tables.UtcStamp creates, frozen here: later code edits never change this migration
UTC = sa.DateTime(timezone=True).with_variant(sa.String(length=32), "sqlite")
STAR = ["outcome_snapshots", "fact_routed_leads", "dim_rep", "dim_calendar", "fx_rates"]

# the views and comments as leadrouter.store.star_views had them at this revision, frozen
# an amount converts only through the rate in force on its close date (else its arrival date); no rate: null,
# so a sum over currencies is never a blind one
_RATE = """(SELECT x.rate FROM fx_rates x
     WHERE x.currency = f.deal_currency AND x.valid_from <= COALESCE(f.deal_close_date, f.arrival_date)
     ORDER BY x.valid_from DESC LIMIT 1)"""
_BASE = """(SELECT x.base_currency FROM fx_rates x
     WHERE x.currency = f.deal_currency AND x.valid_from <= COALESCE(f.deal_close_date, f.arrival_date)
     ORDER BY x.valid_from DESC LIMIT 1)"""

VIEWS = {
    "v_routed_leads": f"""
SELECT f.*,
       r.name AS rep_name, r.role AS rep_role, r.team AS rep_team, r.pools AS rep_pools,
       r.regions AS rep_regions, r.languages AS rep_languages, r.kind AS owner_kind,
       c.iso_week AS arrival_week, c.month AS arrival_month, c.quarter AS arrival_quarter,
       c.fiscal_year AS arrival_fiscal_year, c.fiscal_quarter AS arrival_fiscal_quarter,
       {_RATE} AS fx_rate,
       {_BASE} AS base_currency,
       f.deal_amount * {_RATE} AS deal_amount_base
FROM fact_routed_leads f
LEFT JOIN dim_rep r ON r.rep_key = f.rep_key
LEFT JOIN dim_calendar c ON c.date = f.arrival_date""",
    "v_outcome_snapshots": """
SELECT s.*,
       1.0 * s.accepted / NULLIF(s.leads, 0) AS acceptance_rate,
       1.0 * s.breached / NULLIF(s.leads, 0) AS breach_rate,
       1.0 * s.wrong_assignments / NULLIF(s.leads, 0) AS wrong_assignment_rate,
       1.0 * s.reassigned / NULLIF(s.leads, 0) AS reassignment_rate,
       1.0 * s.opportunities / NULLIF(s.leads, 0) AS opportunity_rate,
       1.0 * s.won / NULLIF(s.closed_deals, 0) AS win_rate,
       1.0 * s.matured_hindsight_vip / NULLIF(s.matured, 0) AS matured_vip_share,
       c.iso_week AS snapshot_week, c.month AS snapshot_month, c.quarter AS snapshot_quarter
FROM outcome_snapshots s
LEFT JOIN dim_calendar c ON c.date = s.snapshot_date""",
}

COMMENTS = {
    ("fact_routed_leads", None): "One row per routed lead of a source, rebuilt by every outcome-loop run.",
    ("fact_routed_leads", "arrival_date"): "UTC date the lead arrived (created in the CRM, else decided).",
    ("fact_routed_leads", "arrival_hour"): "UTC hour (0-23) the lead arrived.",
    ("fact_routed_leads", "tier"): "Tier the router gave: VIP, Standard, Nurture, Other.",
    ("fact_routed_leads", "decided_kind"): "rule, model or review.",
    ("fact_routed_leads", "rule"): "Rule id that decided the lead; null for model and review decisions.",
    ("fact_routed_leads", "pool"): "Pool the lead was assigned from.",
    ("fact_routed_leads", "first_owner_id"): "Owner the routing decision chose (before any re-route).",
    ("fact_routed_leads", "owner_id"): "Owner of the lead now.",
    ("fact_routed_leads", "owner_path"): "First owner, then each re-route's new owner, joined by ' > '.",
    ("fact_routed_leads", "rep_key"): "dim_rep version of the first owner valid when the lead was decided.",
    ("fact_routed_leads", "custom_fields"): "Custom fields (config/fields.yaml) as recorded at the decision.",
    ("fact_routed_leads", "lead_created_at"): "When the lead was created in the CRM (UTC).",
    ("fact_routed_leads", "decided_at"): "When the router decided (UTC).",
    ("fact_routed_leads", "first_touch_at"): "First touch by anyone (UTC); null: never touched.",
    ("fact_routed_leads", "speed_to_lead_min"): "Minutes from creation to first touch.",
    ("fact_routed_leads", "deal_amount"): "Deal amount in deal_currency; never summed across currencies.",
    ("fact_routed_leads", "deal_currency"): "ISO 4217 code of deal_amount; null: the CRM's single currency.",
    ("fact_routed_leads", "deal_final"): "True when the deal closed or the re-check horizon passed.",
    ("fact_routed_leads", "hindsight_tier"): "Tier the lead deserved in hindsight (its deal), or (undated).",
    ("dim_rep", None): "Reps and queues from the roster, one row per version (valid_from/valid_to, UTC).",
    ("dim_rep", "valid_to"): "End of this version; null: current.",
    ("dim_rep", "kind"): "rep or queue.",
    ("dim_calendar", None): "One row per date: ISO week, month, quarter and fiscal year.",
    ("dim_calendar", "fiscal_year"): "Fiscal year, named by the calendar year it ends in.",
    ("outcome_snapshots", None): "Headline counts per day and (dimension, value); days accumulate.",
    ("outcome_snapshots", "matured"): "Leads past their 90 days on the snapshot date, hindsight tier known.",
    ("outcome_snapshots", "matured_hindsight_vip"): "Matured leads that were VIP in hindsight.",
    ("fx_rates", None): "User-maintained rates: one unit of currency in base_currency from valid_from on.",
}


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
