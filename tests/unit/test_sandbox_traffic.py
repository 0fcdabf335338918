"""The sandbox traffic simulator on a CRM whose working leads carry no company size."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.team import USERS
from leadrouter.sandbox.traffic import Answering, simulate_traffic

NOW = pd.Timestamp("2026-03-02 15:00", tz="UTC")


def test_deals_open_when_no_working_lead_has_employees(tmp_path: Path) -> None:
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=5, leads=40, now=NOW)
    leads, _ = crm.fetch_new_leads(None, 100)
    rep = USERS.loc[USERS["role"] == "ae", "id"].iloc[0]
    crm.write_assignments(
        pd.DataFrame({"lead_id": leads["lead_id"], "owner_id": rep, "tier": "VIP", "routing_reason": "t"})
    )
    with sqlite3.connect(crm.path) as db:  # SQLite then reads the column back as objects (all None)
        db.execute("UPDATE leads SET employees = NULL")
        sales = db.execute("SELECT COUNT(*) FROM lead_labels WHERE label_category = 'sales'").fetchone()[0]
    answering = {rep: Answering(late=0.0, reject=0.0)}
    simulate_traffic(crm, NOW, leads_per_minute=0.0, seed=1, answering=answering)
    # each lead's fate plays out within its window; deals then open on the worked sales leads
    ticks = [
        simulate_traffic(crm, NOW + pd.Timedelta(hours=h), leads_per_minute=0.0, seed=h, answering=answering)
        for h in (1, 24)
    ]
    assert sum(t["touched"] for t in ticks) == 40
    # a VIP sales lead worked for a day opens a deal (hazard 1.5 an hour): every one of them does
    assert sum(t["deals_opened"] for t in ticks) == sales > 0
    with sqlite3.connect(crm.path) as db:
        amounts = [a for (a,) in db.execute("SELECT amount FROM deals")]
    # no size: 20 employees assumed, 5,000 + 40 x 20 x [0, 1) rounded to the hundred
    assert len(amounts) == sales and all(5000 <= a <= 5800 and a % 100 == 0 for a in amounts)
