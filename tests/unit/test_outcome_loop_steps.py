"""The outcome loop's ledger steps (outcomes.loop) on a SQLite ledger: which leads are due, saving deals, its line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from leadrouter.outcomes.deals import EXPORT_STAGES
from leadrouter.outcomes.loop import due_leads, loop_line, save_deals
from leadrouter.store import open_store
from leadrouter.store.outcomes import read_inputs
from leadrouter.store.tables import decisions

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def decided(lead_id: str, days_ago: int, status: str = "written") -> dict:
    at = NOW - timedelta(days=days_ago)
    return {"source": "sandbox", "lead_id": lead_id, "status": status, "tier": "Standard", "decided_by": "rule:x",
            "owner_id": "005000000000007", "decided_at": at, "assigned_at": at, "shadow": False,
            "write_attempts": 0}  # fmt: skip


def deal(lead_id: str, stage: str, amount: object = 1000) -> dict:
    return {"lead_id": lead_id, "deal_id": f"D-{lead_id}", "stage": stage, "amount": amount,
            "close_date": None, "currency": None, "deal_created_at": None, "is_closed": None, "is_won": None}  # fmt: skip


def test_due_leads_are_the_window_then_the_deals_still_open(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        rows = [decided("NEW", 5), decided("OPEN", 120), decided("CLOSED", 120), decided("STALE", 400),
                decided("Q", 5, status="quarantined")]  # fmt: skip
        with store.transaction() as conn:
            conn.execute(decisions.insert(), rows)
        fetched = pd.DataFrame(
            [deal("OPEN", "Prospecting"), deal("CLOSED", "Closed Won"), deal("STALE", "Prospecting")]
        )
        saved, problems = save_deals(store, "sandbox", fetched, NOW, EXPORT_STAGES)
        assert (saved, problems) == (3, [])
        # 97 days: NEW only by its decision; OPEN still open within a year; CLOSED is final; STALE too old
        assert due_leads(store, "sandbox", NOW, 97, 365) == ["NEW", "OPEN"]
        # a window wide enough for all: each lead once, in decision order, no re-check added twice
        assert due_leads(store, "sandbox", NOW, 500, 365) == ["NEW", "OPEN", "CLOSED", "STALE"]
        stored = read_inputs(store, "sandbox")["outcomes"].set_index("lead_id")
    assert stored.loc[["OPEN", "CLOSED", "STALE"], "is_won"].tolist() == [False, True, False]


def test_saving_deals_names_each_unusable_value_and_keeps_the_rest(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        fetched = pd.DataFrame([deal("A", "Closed Won", amount="lots"), deal("", "Closed Won")])
        saved, problems = save_deals(store, "sandbox", fetched, NOW, EXPORT_STAGES)
        stored = read_inputs(store, "sandbox")["outcomes"]
    assert saved == 1
    assert problems == [
        "outcome row 1 (deal 'D-', lead ''): lead_id '' is unusable; the row is skipped: link the deal to its "
        "lead in the CRM",
        "outcome row 0 (deal 'D-A', lead 'A'): amount 'lots' is unusable; stored empty: make it a number in the CRM",
    ]
    assert stored["lead_id"].tolist() == ["A"] and stored["amount"].isna().all()


def test_the_loop_line_says_its_counts() -> None:
    summary = {"checked": 120, "deals": 7, "leads": 300, "model_kept": True}
    assert loop_line(summary) == (
        "120 decisions checked · 7 with a deal · 300 leads in the outcome tables · model retrained"
    )
    assert loop_line(summary | {"model_kept": False}).endswith("· model unchanged")
