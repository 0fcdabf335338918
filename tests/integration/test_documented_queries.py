"""Every SQL example of docs/outcome-tables.md and docs/analyst-questions.md runs unchanged on SQLite and
PostgreSQL, the source passed as a parameter, on a ledger the outcome loop's core filled from a simulated
quarter; a few answers are checked against the raw events."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text, update

from leadrouter.assign.roster import load_roster
from leadrouter.classify.rules import load_rulebook
from leadrouter.config import PROJECT_ROOT
from leadrouter.outcomes.deals import SANDBOX_STAGES, clean_outcomes
from leadrouter.outcomes.money import in_base_currency
from leadrouter.outcomes.stored import build_outcomes, loop_tables, save_outcome_tables
from leadrouter.outcomes.thresholds import sla_minutes
from leadrouter.outcomes.warehouse import save_star_schema
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.store import Store, open_store
from leadrouter.store import outcomes as outcome_store
from leadrouter.store.tables import fx_rates, outcomes
from tests.helpers.docs_sql import parameters, sql_blocks
from tests.helpers.star_history import NOW, as_date, in_window, quarter, size_band, write_quarter

PAGES = [PROJECT_ROOT / "docs" / "outcome-tables.md", PROJECT_ROOT / "docs" / "analyst-questions.md"]
VALUES = {"source": "sandbox", "quarter": "2026-Q4", "matured_by": (NOW - timedelta(days=90)).date()}
EUR_RATE = Decimal("1.10000000")


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
        crm.add_leads(240, np.random.default_rng(3), start, pd.Timestamp(NOW))["lead_id"].tolist()
    )
    with open_store(url) as store:
        write_quarter(store, crm, leads)
        run_loop(store, crm, leads)
        yield store, leads


def run_loop(store: Store, crm: SandboxCRM, leads: list[dict]) -> None:
    """The outcome loop's steps without Prefect; half the deals priced in EUR, with a rate for EUR only."""
    due = [lead["lead_id"] for lead in leads if in_window(lead, NOW)]
    deals, _ = clean_outcomes(crm.fetch_outcomes(due), SANDBOX_STAGES)
    outcome_store.upsert_outcomes(store, "sandbox", deals, NOW)
    with store.transaction() as conn:
        euro = sorted(deals["lead_id"])[::2]
        conn.execute(update(outcomes).where(outcomes.c.lead_id.in_(euro)).values(currency="EUR"))
        conn.execute(fx_rates.insert(), [{"currency": "EUR", "valid_from": date(2026, 1, 1),
                                          "base_currency": "USD", "rate": EUR_RATE}])  # fmt: skip
    frame, stints = build_outcomes(store, "sandbox")
    roster = load_roster(PROJECT_ROOT / "config" / "roster.yaml")
    rates = outcome_store.read_rates(
        store
    )  # as the outcome loop reads them, once for its tables and headline
    tables = loop_tables(frame, stints, frozenset(roster.queues), rates)
    minutes = sla_minutes(load_rulebook(PROJECT_ROOT / "config" / "rulebook.yaml").sla)
    save_outcome_tables(store, "sandbox", frame, tables, NOW, minutes, rates)
    save_star_schema(store, "sandbox", frame, roster, NOW)


def run(store: Store, sql: str) -> pd.DataFrame:
    with store.engine.connect() as conn:
        result = conn.execute(text(sql), parameters(sql, VALUES))
        return pd.DataFrame(result.all(), columns=list(result.keys()))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_documented_query_runs_and_answers(ledger, page: Path) -> None:
    store, _ = ledger
    blocks = sql_blocks(page)
    assert len(blocks) >= 5
    for sql in blocks:
        answer = run(store, sql)
        assert len(answer) > 0, sql


def test_wrong_assignments_by_rep_this_quarter_match_the_raw_events(ledger) -> None:
    store, leads = ledger
    sql = next(s for s in sql_blocks(PAGES[1]) if "wrong_assignment_rate DESC" in s)
    answer = run(store, sql).set_index("rep_id")
    in_quarter = [
        lead for lead in leads
        if lead["status"] == "written" and lead["created"].date() >= date(2026, 10, 1)
        and not lead["owners"][0].startswith("00G")
    ]  # fmt: skip
    leads_by_rep = Counter(lead["owners"][0] for lead in in_quarter)
    wrong_by_rep = Counter(lead["owners"][0] for lead in in_quarter if lead["reject"])
    assert sorted(answer.index) == sorted(leads_by_rep)
    for rep, n in leads_by_rep.items():
        assert int(answer.loc[rep, "leads"]) == n
        assert int(answer.loc[rep, "wrong_assignments"]) == wrong_by_rep[rep]
        assert answer.loc[rep, "rep_name"]  # named from the roster


def test_money_converts_only_through_a_rate(ledger) -> None:
    store, _ = ledger
    sql = next(s for s in sql_blocks(PAGES[0]) if "deal_amount_base" in s)
    answer = run(store, sql)
    euro = answer[answer["deal_currency"] == "EUR"].iloc[0]
    plain = answer[answer["deal_currency"].isna()].iloc[0]
    assert float(euro["pipeline_base"]) == pytest.approx(float(euro["pipeline"]) * float(EUR_RATE))
    assert int(euro["deals_without_rate"]) == 0
    assert pd.isna(plain["pipeline_base"]) and int(plain["deals_without_rate"]) == int(plain["deals"]) > 0


def test_the_calendar_names_weeks_quarters_and_fiscal_years(ledger) -> None:
    store, _ = ledger
    day = run(store, "SELECT * FROM dim_calendar WHERE date = :day".replace(":day", "'2026-11-25'"))
    row = day.iloc[0]
    assert as_date(row["iso_week"]) == date(2026, 11, 23)
    assert as_date(row["month"]) == date(2026, 11, 1)
    assert (row["quarter"], int(row["fiscal_year"]), row["fiscal_quarter"]) == ("2026-Q4", 2026, "FY2026-Q4")


def test_leads_by_channel_and_size_band_match_the_raw_leads(ledger) -> None:
    store, leads = ledger
    sql = next(s for s in sql_blocks(PAGES[1]) if "GROUP BY lead_source, size_band" in s)
    answer = run(store, sql).astype(object)
    answer = answer.where(answer.notna(), None)  # a null group reads back as None on both databases
    got = {(r.lead_source, r.size_band): (int(r.leads), int(r.opportunities)) for r in answer.itertuples()}
    counted = [lead for lead in leads if lead["status"] != "quarantined"]
    want: Counter = Counter()
    deals: Counter = Counter()
    for lead in counted:
        key = (lead["lead_source"], size_band(lead["employees"]))
        want[key] += 1
        deals[key] += bool(lead["deal"] and in_window(lead, NOW))  # the deals the loop fetched
    assert got == {key: (n, deals[key]) for key, n in want.items()}
    assert len(got) > 8 and sum(n for n, _ in got.values()) == len(counted)


def test_hindsights_conversion_is_the_views(ledger) -> None:
    """leadrouter.outcomes.money (hindsight's VIP cut) converts each deal exactly as v_routed_leads does."""
    store, _ = ledger
    view = run(store, "SELECT deal_amount, deal_currency, deal_close_date, arrival_date, deal_amount_base "
                      "FROM v_routed_leads WHERE source = :source AND deal_id IS NOT NULL")  # fmt: skip
    rates = run(store, "SELECT * FROM fx_rates")
    on = pd.to_datetime(view["deal_close_date"]).fillna(pd.to_datetime(view["arrival_date"]))
    ours = in_base_currency(view["deal_amount"].astype(float), view["deal_currency"], on, rates)[
        "amount_base"
    ]
    theirs = pd.to_numeric(view["deal_amount_base"]).astype(float)
    assert ours.notna().sum() == theirs.notna().sum() > 0 and ours.isna().sum() > 0
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-9)
