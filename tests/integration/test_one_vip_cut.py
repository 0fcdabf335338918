"""One VIP cut across currencies, on SQLite and PostgreSQL: a quarter whose deals are in USD (the base
currency), EUR (two rates in force over the quarter) and GBP (no rate), run through the outcome loop's core.
The headline precision and recall, outcome_leads.hindsight_tier, the labels feedback teaches the model and the
fact table all judge each lead alike, and the analyst tables' money is summed in the base currency only."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, text, update

from leadrouter.assign.roster import load_roster
from leadrouter.classify.rules import load_rulebook
from leadrouter.config import PROJECT_ROOT
from leadrouter.outcomes.deals import SANDBOX_STAGES, clean_outcomes
from leadrouter.outcomes.feedback import outcome_labels
from leadrouter.outcomes.hindsight import hindsight
from leadrouter.outcomes.join import matured
from leadrouter.outcomes.stored import build_outcomes, loop_tables, save_outcome_tables, stored_outcomes
from leadrouter.outcomes.thresholds import sla_minutes
from leadrouter.outcomes.warehouse import save_star_schema
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.store import Store, open_store
from leadrouter.store import outcomes as outcome_store
from leadrouter.store.history import decided_labels
from leadrouter.store.tables import (
    decisions,
    fact_routed_leads,
    fx_rates,
    outcome_leads,
    outcome_metrics,
    outcomes,
)
from tests.helpers.star_history import NOW, quarter, write_quarter

# EUR is worth 3 USD until mid-October, then half a dollar: converted amounts rank unlike raw ones
RATES = [
    {"currency": "EUR", "valid_from": date(2026, 1, 1), "base_currency": "USD", "rate": Decimal("3")},
    {"currency": "EUR", "valid_from": date(2026, 10, 15), "base_currency": "USD", "rate": Decimal("0.5")},
]


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path):
    url = (
        f"sqlite:///{tmp_path}/ledger.db"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_store_url")
    )
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=4)
    start = pd.Timestamp(NOW) - pd.Timedelta(days=1)
    leads = quarter(
        crm.add_leads(300, np.random.default_rng(5), start, pd.Timestamp(NOW))["lead_id"].tolist(), seed=13
    )
    with open_store(url) as store:
        write_quarter(store, crm, leads)
        due = [lead["lead_id"] for lead in leads]  # every deal, the matured leads' too
        deals, _ = clean_outcomes(crm.fetch_outcomes(due), SANDBOX_STAGES)
        outcome_store.upsert_outcomes(store, "sandbox", deals, NOW)
        priced = sorted(deals.loc[deals["deal_id"].notna(), "lead_id"])
        with store.transaction() as conn:
            conn.execute(update(outcomes).where(outcomes.c.lead_id.in_(priced[0::2])).values(currency="USD"))
            conn.execute(update(outcomes).where(outcomes.c.lead_id.in_(priced[1::2])).values(currency="EUR"))
            conn.execute(update(outcomes).where(outcomes.c.lead_id == priced[1]).values(currency="GBP"))
            conn.execute(fx_rates.insert(), RATES)
            # the leads rules and reviewers decided are sales leads: feedback can relabel them
            conn.execute(update(decisions).where(decisions.c.tier.is_not(None)).values(category="sales"))
        frame, stints = build_outcomes(store, "sandbox")
        roster = load_roster(PROJECT_ROOT / "config" / "roster.yaml")
        rates = outcome_store.read_rates(store)
        tables = loop_tables(frame, stints, frozenset(roster.queues), rates)
        minutes = sla_minutes(load_rulebook(PROJECT_ROOT / "config" / "rulebook.yaml").sla)
        save_outcome_tables(store, "sandbox", frame, tables, NOW, minutes, rates)
        save_star_schema(store, "sandbox", frame, roster, NOW)
        yield store, frame, priced[1]


def read(store: Store, query) -> pd.DataFrame:
    with store.engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def fact_tiers(store: Store) -> pd.Series:
    fact = read(store, select(fact_routed_leads.c.lead_id, fact_routed_leads.c.hindsight_tier))
    return fact.set_index("lead_id")["hindsight_tier"].astype("string").sort_index()


def test_the_raw_and_the_converted_cut_disagree_on_some_lead(ledger) -> None:
    store, frame, _ = ledger
    raw = hindsight(frame, reasons=False)["hindsight"].set_axis(frame["lead_id"]).sort_index()
    assert (raw != fact_tiers(store)).sum() >= 1  # the quarter tests something


def test_outcome_leads_and_the_fact_table_give_each_lead_one_hindsight_tier(ledger) -> None:
    store, _, _ = ledger
    saved = read(
        store, select(outcome_leads.c.lead_id, outcome_leads.c.hindsight_tier, outcome_leads.c.currency)
    )
    tiers = saved.set_index("lead_id")["hindsight_tier"].astype("string").sort_index()
    fact = fact_tiers(store)
    assert list(tiers.index) == list(fact.index) and len(tiers) > 200
    assert tiers.equals(fact)
    assert set(saved["currency"].dropna()) == {"USD", "EUR", "GBP"}


def test_the_headline_precision_and_recall_are_the_fact_tables(ledger) -> None:
    store, frame, _ = ledger
    fact = read(store, select(fact_routed_leads)).set_index("lead_id")
    known = fact[pd.to_datetime(fact["lead_created_at"], utc=True) + timedelta(days=90) <= NOW]
    known = known[known["hindsight_tier"].notna()]
    called, truly = known["tier"].eq("VIP").fillna(False), known["hindsight_tier"].eq("VIP")
    assert len(known) == len(matured(frame, NOW)) > 50 and truly.sum() > 0 and called.sum() > 0
    figures = read(store, select(outcome_metrics.c.metric, outcome_metrics.c.figure).where(
        outcome_metrics.c.dimension == "all", outcome_metrics.c.metric.in_(["vip_precision", "vip_recall"])
    )).set_index("metric")["figure"]  # fmt: skip
    assert figures["vip_precision"] == pytest.approx((called & truly).sum() / called.sum())
    assert figures["vip_recall"] == pytest.approx((called & truly).sum() / truly.sum())


def test_feedback_labels_follow_the_fact_tables_hindsight(ledger) -> None:
    store, _, _ = ledger
    saved, _ = stored_outcomes(store, "sandbox")
    labels = outcome_labels(
        saved, decided_labels(store, "sandbox"), pd.Timestamp(NOW), outcome_store.read_rates(store)
    )
    taught = labels[labels["label_source"] == "outcome"].set_index("lead_id")["tier"]
    fact = read(store, select(fact_routed_leads)).set_index("lead_id")
    # a lead that never became an opportunity teaches Nurture (feedback.label_tier)
    expected = fact["hindsight_tier"].where(fact["opportunity"].astype(bool), "Nurture").astype("string")
    assert len(taught) > 20 and taught.eq("VIP").any()
    assert taught.astype("string").equals(expected.reindex(taught.index))
    raw = outcome_labels(saved, decided_labels(store, "sandbox"), pd.Timestamp(NOW)).set_index("lead_id")[
        "tier"
    ]
    both = taught.index.intersection(raw.index)
    assert (raw[both] != taught[both]).sum() >= 1  # without the rates some label would differ


def test_money_is_summed_in_the_base_currency_only(ledger) -> None:
    store, _, gbp_lead = ledger
    view = read(store, text(
        "SELECT tier, deal_currency, deal_amount, deal_amount_base, won FROM v_routed_leads "
        "WHERE source = 'sandbox' AND deal_id IS NOT NULL"
    ))  # fmt: skip
    usd = view["deal_currency"].eq("USD")
    base = np.where(
        usd, view["deal_amount"].astype(float), pd.to_numeric(view["deal_amount_base"]).astype(float)
    )
    view = view.assign(base=base, tier=view["tier"].fillna("(none)"))
    metrics = read(store, select(outcome_metrics).where(outcome_metrics.c.dimension == "tier"))
    got = metrics.pivot(index="value", columns="metric", values="figure")
    for tier, deals in view.groupby("tier"):
        priced = deals[deals["base"].notna()]
        assert got.loc[tier, "pipeline"] == pytest.approx(priced["base"].sum()), tier
        assert got.loc[tier, "revenue"] == pytest.approx(priced.loc[priced["won"].astype(bool), "base"].sum())
        assert (
            got.loc[tier, "unconverted_deals"]
            == deals["base"].isna().sum()
            == deals["deal_currency"].eq("GBP").sum()
        )
    assert view["deal_currency"].eq("GBP").sum() == 1 and got["unconverted_deals"].sum() == 1
    assert gbp_lead  # the one deal with no rate
