"""Simulated life in the sandbox CRM: new inbound leads, reps touching their leads, deals opening and closing.

Each tick advances the sandbox from its last tick to `now`, so the SLA and outcome flows have real work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadrouter.crm.base import STAMP
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.custom import custom_values
from leadrouter.sandbox.edits import insert_fields, stamp

# minutes a rep has to answer a lead, per tier (the sample rulebook's SLAs; untimed tiers get hours)
ANSWER_WINDOW_MIN = {"VIP": 5.0, "Standard": 30.0, "Nurture": 240.0, "Other": 120.0}
ON_TIME = (0.1, 0.6)  # an answer in time comes after this share of the window
LATE_AFTER = 3.0  # a late answer comes after this many windows (if the lead is still theirs)
REJECT_AFTER = pd.Timedelta(minutes=1)
DEAL_PER_HOUR = 0.5  # hazard of a touched sales lead becoming an opportunity
CLOSE_PER_HOUR = 0.2  # hazard of an open deal closing
WIN_RATE = 0.3


@dataclass(frozen=True)
class Answering:
    """How a rep answers the leads they are given: the share answered late, and the share rejected."""

    late: float = 0.08
    reject: float = 0.02


def simulate_traffic(
    crm: SandboxCRM,
    now: pd.Timestamp,
    leads_per_minute: float,
    seed: int | None = None,
    answering: Mapping[str, Answering] | None = None,
) -> dict:
    """Advance the sandbox to `now`; returns what happened. answering: per rep id, how they answer (others
    answer as Answering())."""
    last = crm._state_get("last_tick")
    since = pd.Timestamp(last) if last else now - pd.Timedelta(minutes=1)
    minutes = max((now - since).total_seconds() / 60, 0.0)
    rng = np.random.default_rng(seed if seed is not None else int(now.value % 2**32))
    n_new = int(rng.poisson(leads_per_minute * minutes)) if minutes else 0
    if n_new:
        crm.add_leads(n_new, rng, since, now)
    _deal_fates(crm, now, answering or {})
    touched, rejected = _answer_leads(crm, rng, now)
    opened, closed = _progress_deals(crm, rng, now, minutes)
    crm._state_set("last_tick", now.isoformat())
    return {
        "new_leads": n_new,
        "touched": touched,
        "rejected": rejected,
        "deals_opened": opened,
        "deals_closed": closed,
    }


def fates(crm: SandboxCRM) -> pd.DataFrame:
    """The simulation's ground truth: each assignment it saw (lead, owner, tier, seen_at) and what the rep did or
    will do with it (fate: answer | late | reject, at act_at)."""
    with crm._db() as db:
        out = pd.read_sql_query("SELECT * FROM sim_fates ORDER BY seen_at, lead_id", db)
    for column in ("seen_at", "act_at"):
        out[column] = pd.to_datetime(out[column], utc=True, format=STAMP)
    return out


def _coin(keys: pd.Series, salt: str) -> np.ndarray:
    """A stable uniform [0, 1) per key: the same assignment always meets the same fate."""
    hashed = pd.util.hash_pandas_object(keys, index=False, hash_key=salt.ljust(16, "0")[:16])
    return (hashed.to_numpy() % 1_000_003) / 1_000_003


def _deal_fates(crm: SandboxCRM, now: pd.Timestamp, answering: Mapping[str, Answering]) -> None:
    """Each new assignment to a rep (queues answer nobody) meets its fate from the rep's answering rates."""
    with crm._db() as db:
        new = pd.read_sql_query(
            """
            SELECT l.id AS lead_id, l.owner_id, COALESCE(l.lead_tier, 'Other') AS tier FROM leads l
            JOIN users u ON u.id = l.owner_id
            WHERE l.status = 'Assigned' AND u.role != 'queue'
              AND NOT EXISTS (SELECT 1 FROM sim_fates f WHERE f.lead_id = l.id AND f.owner_id = l.owner_id)
            """,
            db,
        )
    if new.empty:
        return
    rates = new["owner_id"].map(lambda o: answering.get(o, Answering()))
    late = rates.map(lambda a: a.late).to_numpy()
    reject = rates.map(lambda a: a.reject).to_numpy()
    pair = new["lead_id"] + "|" + new["owner_id"]
    fate_coin, delay_coin = _coin(pair, "fate"), _coin(pair, "delay")
    fate = np.select([fate_coin < reject, fate_coin < reject + late], ["reject", "late"], "answer")
    window = pd.to_timedelta(new["tier"].map(ANSWER_WINDOW_MIN).fillna(60.0), unit="min")
    low, high = ON_TIME
    delay = np.select(
        [fate == "reject", fate == "late"],
        [REJECT_AFTER, window * LATE_AFTER],
        window * (low + (high - low) * delay_coin),
    )
    new["seen_at"] = stamp(now)
    new["fate"] = fate
    new["act_at"] = stamp(now + pd.to_timedelta(delay))
    with crm._db() as db:
        new.to_sql("sim_fates", db, if_exists="append", index=False)


def _answer_leads(crm: SandboxCRM, rng: np.random.Generator, now: pd.Timestamp) -> tuple[int, int]:
    """Fates due by now play out on leads still with that rep: an activity (touch) that also sets the custom
    fields known later (a rep's status, tags), or a rejection."""
    with crm._db() as db:
        due = pd.read_sql_query(
            """
            SELECT f.lead_id, f.owner_id, f.fate, f.act_at, l.owner_id = f.owner_id AND l.status = 'Assigned'
                AS still_theirs
            FROM sim_fates f JOIN leads l ON l.id = f.lead_id WHERE f.done = 0 AND f.act_at <= ?
            """,
            db,
            params=(stamp(now),),
        )
        db.executemany(
            "UPDATE sim_fates SET done = 1 WHERE lead_id = ? AND owner_id = ?",
            list(zip(due["lead_id"], due["owner_id"], strict=True)),
        )
    acts = due[due["still_theirs"].astype(bool)]
    touches, rejects = acts[acts["fate"] != "reject"], acts[acts["fate"] == "reject"]
    later = [f for f in crm.fields.custom if f.known_at == "later"]
    touched_at = pd.to_datetime(touches["act_at"], utc=True, format=STAMP)
    values = custom_values(rng, later, touched_at).assign(lead_id=touches["lead_id"])
    with crm._db() as db:
        insert_fields(db, values)
        db.executemany(
            "INSERT INTO activities (lead_id, owner_id, type, created_at) VALUES (?, ?, ?, ?)",
            [(r.lead_id, r.owner_id, "call", r.act_at) for r in touches.itertuples(index=False)],
        )
        db.executemany(
            "UPDATE leads SET status = 'Working', modified_at = ? WHERE id = ?",
            [(stamp(now), lid) for lid in touches["lead_id"]],
        )
    if len(rejects):
        crm.reject(rejects["lead_id"].tolist(), pd.to_datetime(rejects["act_at"], utc=True, format=STAMP))
    return len(touches), len(rejects)


def _hazard(rng: np.random.Generator, rate_per_min: np.ndarray | float, minutes: float, n: int) -> np.ndarray:
    return rng.random(n) < 1.0 - np.exp(-np.asarray(rate_per_min) * minutes)


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
    # SQLite hands back an all-null column as objects: made numbers first, or np.round has nothing to call
    employees = pd.to_numeric(opened["employees"], errors="coerce").astype("float64")
    amounts = np.round(
        5000 + 40 * employees.fillna(20).clip(upper=20000).to_numpy() * rng.random(len(opened)), -2
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
