"""the lead's arrival attributes analysts slice by: decisions and fact_routed_leads get lead_source (the channel),
country and employees, the fact also size_band and language; v_routed_leads recreated to carry them (PostgreSQL
expands `f.*` when a view is created); column comments on PostgreSQL (docs/outcome-tables.md)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# employees as given: a quarantined lead's decision keeps whatever count it carried
DECIDED = {"lead_source": sa.Text(), "country": sa.Text(), "employees": sa.BigInteger()}
FACT = DECIDED | {"size_band": sa.String(length=16), "language": sa.String(length=8)}

# v_routed_leads as migration 0011 created it, frozen here: the same text, now expanding the new columns
_RATE = """(SELECT x.rate FROM fx_rates x
     WHERE x.currency = f.deal_currency AND x.valid_from <= COALESCE(f.deal_close_date, f.arrival_date)
     ORDER BY x.valid_from DESC LIMIT 1)"""
_BASE = """(SELECT x.base_currency FROM fx_rates x
     WHERE x.currency = f.deal_currency AND x.valid_from <= COALESCE(f.deal_close_date, f.arrival_date)
     ORDER BY x.valid_from DESC LIMIT 1)"""
ROUTED_LEADS = f"""
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
LEFT JOIN dim_calendar c ON c.date = f.arrival_date"""

COMMENTS = {
    "lead_source": "Channel the lead came through, as the CRM gave it (Salesforce LeadSource, HubSpot "
    "hs_analytics_source); recorded at the decision.",
    "country": "Country as the CRM gave it at arrival; recorded at the decision.",
    "employees": "Company size (employees) as the CRM gave it at arrival; null: not given.",
    "size_band": "employees in bands: 1-10, 11-49, 50-199, 200-999, 1000+; null: not given.",
    "language": "Language of the lead (ISO 639-1) routing detected at the decision.",
}


def upgrade() -> None:
    op.execute("DROP VIEW v_routed_leads")
    with op.batch_alter_table("decisions") as batch:
        for name, kind in DECIDED.items():
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("fact_routed_leads") as batch:
        for name, kind in FACT.items():
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.execute(f"CREATE VIEW v_routed_leads AS {ROUTED_LEADS}")
    if op.get_bind().dialect.name == "postgresql":
        for table in ("fact_routed_leads", "v_routed_leads"):
            for column, text in COMMENTS.items():
                quoted = text.replace("'", "''")
                op.execute(f"COMMENT ON COLUMN {table}.{column} IS '{quoted}'")


def downgrade() -> None:
    op.execute("DROP VIEW v_routed_leads")
    with op.batch_alter_table("fact_routed_leads") as batch:
        for name in reversed(FACT):
            batch.drop_column(name)
    with op.batch_alter_table("decisions") as batch:
        for name in reversed(DECIDED):
            batch.drop_column(name)
    op.execute(f"CREATE VIEW v_routed_leads AS {ROUTED_LEADS}")
