"""outcome_leads gets each deal's currency and amount_date (the day its amount converts on), so every figure
cuts VIPs and sums money across currencies through fx_rates as v_routed_leads does; decisions.country holds the
ISO 3166 alpha-2 code (record_batch maps it): a quarantined lead's text recorded before is made a code or null
(_country_codes); the PostgreSQL column comments say so

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

MONEY = {"currency": sa.String(length=3), "amount_date": sa.Date()}
COUNTRY = "Country of the lead at arrival as an ISO 3166 alpha-2 code, as routing enriched it; null: none could be told."


def upgrade() -> None:
    with op.batch_alter_table("outcome_leads") as batch:
        for name, kind in MONEY.items():
            batch.add_column(sa.Column(name, kind, nullable=True))
    _country_codes()
    if op.get_bind().dialect.name == "postgresql":
        for table in ("fact_routed_leads", "v_routed_leads"):
            op.execute(f"COMMENT ON COLUMN {table}.country IS '{COUNTRY}'")


def _country_codes() -> None:
    """Routed and reviewed leads were recorded with routing's ISO code already; a quarantined lead (never
    enriched) with the CRM's text. Two letters become the upper-case code; any other text (a name such as
    "Germany") becomes null: the lead was never routed, and the CRM keeps what was typed."""
    op.execute(
        "UPDATE decisions SET country = CASE WHEN LENGTH(TRIM(country)) = 2 THEN UPPER(TRIM(country)) END "
        "WHERE country IS NOT NULL"
    )


def downgrade() -> None:
    # the raw countries are the CRM's: the codes stay
    with op.batch_alter_table("outcome_leads") as batch:
        for name in reversed(MONEY):
            batch.drop_column(name)
