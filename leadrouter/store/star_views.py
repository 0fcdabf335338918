"""The star schema's wide views and its column comments (migration 0012 creates them; docs/outcome-tables.md
describes them). Plain SQL that SQLite and PostgreSQL both run: BI tools read the views, not the long form."""

from __future__ import annotations

# an amount converts only through the rate in force on its close date (else its arrival date); no rate: null,
# so a sum over currencies is never a blind one
_RATE = """(SELECT x.rate FROM fx_rates x
     WHERE x.currency = f.deal_currency AND x.valid_from <= COALESCE(f.deal_close_date, f.arrival_date)
     ORDER BY x.valid_from DESC LIMIT 1)"""
_BASE = """(SELECT x.base_currency FROM fx_rates x
     WHERE x.currency = f.deal_currency AND x.valid_from <= COALESCE(f.deal_close_date, f.arrival_date)
     ORDER BY x.valid_from DESC LIMIT 1)"""

VIEWS: dict[str, str] = {
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

COMMENTS: dict[tuple[str, str | None], str] = {
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
