"""Simulated life in the sandbox CRM: new inbound leads, reps touching their leads, deals opening and closing.

Each tick advances the sandbox from its last tick to `now`, so the SLA and outcome flows have real work.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadrouter.crm.sandbox import SandboxCRM, stamp

# mean minutes until a rep first touches a lead, per tier (queues never touch)
MEAN_TOUCH_MIN = {"VIP": 4.0, "Standard": 20.0, "Nurture": 600.0, "Other": 240.0}
NEVER_TOUCHED = 0.08  # share of leads a rep never touches: the SLA flow's work
DEAL_PER_HOUR = 0.5  # hazard of a touched sales lead becoming an opportunity
CLOSE_PER_HOUR = 0.2  # hazard of an open deal closing
WIN_RATE = 0.3


def simulate_traffic(
    crm: SandboxCRM, now: pd.Timestamp, leads_per_minute: float, seed: int | None = None
) -> dict:
    """Advance the sandbox to `now`; returns what happened."""
    last = crm._state_get("last_tick")
    since = pd.Timestamp(last) if last else now - pd.Timedelta(minutes=1)
    minutes = max((now - since).total_seconds() / 60, 0.0)
    rng = np.random.default_rng(seed if seed is not None else int(now.value % 2**32))
    n_new = int(rng.poisson(leads_per_minute * minutes)) if minutes else 0
    if n_new:
        crm.add_leads(n_new, rng, since, now)
    touched = _touch_leads(crm, rng, now, minutes)
    opened, closed = _progress_deals(crm, rng, now, minutes)
    crm._state_set("last_tick", now.isoformat())
    return {"new_leads": n_new, "touched": touched, "deals_opened": opened, "deals_closed": closed}


def _hazard(rng: np.random.Generator, rate_per_min: np.ndarray | float, minutes: float, n: int) -> np.ndarray:
    return rng.random(n) < 1.0 - np.exp(-np.asarray(rate_per_min) * minutes)


def _touch_leads(crm: SandboxCRM, rng: np.random.Generator, now: pd.Timestamp, minutes: float) -> int:
    with crm._db() as db:
        open_ = pd.read_sql_query(
            """
            SELECT l.id, l.owner_id, l.lead_tier FROM leads l JOIN users u ON u.id = l.owner_id
            WHERE l.status = 'Assigned' AND u.role != 'queue'
              AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.lead_id = l.id)
            """,
            db,
        )
    if open_.empty:
        return 0
    # a stable per-lead coin decides who never gets touched
    never = (pd.util.hash_pandas_object(open_["id"], index=False) % 1000) < NEVER_TOUCHED * 1000
    rate = 1.0 / open_["lead_tier"].map(MEAN_TOUCH_MIN).fillna(60.0).to_numpy()
    hit = _hazard(rng, rate, minutes, len(open_)) & ~never.to_numpy()
    done = open_[hit]
    at = stamp(now)
    with crm._db() as db:
        db.executemany(
            "INSERT INTO activities (lead_id, owner_id, type, created_at) VALUES (?, ?, ?, ?)",
            [
                (lid, own, str(rng.choice(["call", "email"])), at)
                for lid, own in zip(done["id"], done["owner_id"], strict=True)
            ],
        )
        db.executemany(
            "UPDATE leads SET status = 'Working', modified_at = ? WHERE id = ?",
            [(at, lid) for lid in done["id"]],
        )
    return len(done)


def _progress_deals(
    crm: SandboxCRM, rng: np.random.Generator, now: pd.Timestamp, minutes: float
) -> tuple[int, int]:
    at = stamp(now)
    with crm._db() as db:
        working = pd.read_sql_query(
            """
            SELECT l.id, l.employees, l.lead_tier FROM leads l JOIN lead_labels b ON b.lead_id = l.id
            WHERE l.status = 'Working' AND l.converted_opportunity_id IS NULL AND b.label_category = 'sales'
            """,
            db,
        )
        open_deals = pd.read_sql_query("SELECT id FROM deals WHERE is_closed = 0", db)
    boost = working["lead_tier"].map({"VIP": 3.0, "Standard": 1.5}).fillna(0.3).to_numpy()
    opened = working[_hazard(rng, DEAL_PER_HOUR / 60 * boost, minutes, len(working))]
    amounts = np.round(
        5000 + 40 * opened["employees"].fillna(20).clip(upper=20000).to_numpy() * rng.random(len(opened)), -2
    )
    closing = open_deals[_hazard(rng, CLOSE_PER_HOUR / 60, minutes, len(open_deals))]
    won = rng.random(len(closing)) < WIN_RATE
    with crm._db() as db:
        start = db.execute("SELECT COUNT(*) FROM deals").fetchone()[0] + 1
        ids = [f"006{i:012d}" for i in range(start, start + len(opened))]
        db.executemany(
            "INSERT INTO deals (id, lead_id, stage, amount, created_at) VALUES (?, ?, 'Discovery', ?, ?)",
            list(zip(ids, opened["id"], amounts.tolist(), [at] * len(ids), strict=True)),
        )
        db.executemany(
            "UPDATE leads SET converted_opportunity_id = ?, status = 'Converted', modified_at = ? WHERE id = ?",
            [(d, at, lid) for d, lid in zip(ids, opened["id"], strict=True)],
        )
        db.executemany(
            "UPDATE deals SET is_closed = 1, is_won = ?, stage = ?, close_date = ? WHERE id = ?",
            [
                (int(w), "Closed Won" if w else "Closed Lost", now.strftime("%Y-%m-%d"), d)
                for d, w in zip(closing["id"], won, strict=True)
            ],
        )
    return len(opened), len(closing)
