"""The outcome loop's join and tables: 1,000,000 routing decisions (with their SLA events and review rows)
joined to 200,000 deals, then the analyst tables by tier, rule, decider kind, rep, source and week. Times
lead_outcomes + analyst_tables (best and median of three after generating the frames) and the process's
peak RSS. Prints one JSON object. Target: best <= 20 s, peak RSS <= 2 GiB.

    .venv/bin/python bench/outcomes.py [decisions] [deals]
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time

import numpy as np
import pandas as pd

START = pd.Timestamp("2026-06-01", tz="UTC")  # decisions spread over the 180 days after this
TIERS = {"VIP": 0.10, "Standard": 0.45, "Nurture": 0.30, "Other": 0.15}
DECIDERS = {"rule": 0.80, "model": 0.15, "review": 0.05}
RULES = [f"rule-{i:02d}" for i in range(40)]
OWNERS = [f"005{i:012d}" for i in range(60)] + [f"00G{i:012d}" for i in range(4)]


def decisions_frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """n decisions as the store hands them back: ~3 % still waiting in review, ~2 % quarantined."""
    created = START + pd.to_timedelta(np.sort(rng.random(n)) * 180 * 86_400, unit="s")
    kind = rng.choice(list(DECIDERS), n, p=list(DECIDERS.values()))
    decided_by = np.where(
        kind == "rule",
        "rule:" + rng.choice(np.array(RULES, dtype=object), n),
        np.where(kind == "model", "model:local-v3", "review:analyst"),
    ).astype(object)
    status = rng.choice(["written", "review", "quarantined", "write_failed"], n, p=[0.945, 0.03, 0.02, 0.005])
    waiting = status != "written"
    decided_by[waiting & (status != "write_failed")] = None
    tier = rng.choice(list(TIERS), n, p=list(TIERS.values())).astype(object)
    tier[waiting & (status != "write_failed")] = None
    decided = created + pd.to_timedelta(rng.integers(1, 120, n), unit="s")
    touched = rng.random(n) < 0.85
    touch = decided + pd.to_timedelta(rng.exponential(12 * 60, n), unit="s")
    return pd.DataFrame(
        {
            "source": "sandbox",
            "lead_id": pd.array([f"00Q{i:012d}" for i in range(n)], dtype="string"),
            "status": status,
            "tier": tier,
            "decided_by": decided_by,
            "owner_id": rng.choice(np.array(OWNERS, dtype=object), n),
            "lead_created_at": created,
            "decided_at": decided,
            "first_touch_at": touch.where(touched),
        }
    )


def events_frame(decisions: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A touch per touched lead; ~8 % breached and re-routed; ~2 % rejected and re-routed."""
    n = len(decisions)
    touched = decisions["first_touch_at"].notna().to_numpy()
    breach = rng.random(n) < 0.08
    reject = ~breach & (rng.random(n) < 0.02)
    parts = [
        decisions.loc[touched, ["source", "lead_id", "owner_id"]].assign(
            kind="touch", at=decisions.loc[touched, "first_touch_at"]
        )
    ]
    for name, hit in (("breach", breach), ("reject", reject), ("reroute", breach | reject)):
        lapse = decisions.loc[hit, "decided_at"] + pd.Timedelta(minutes=30)
        parts.append(decisions.loc[hit, ["source", "lead_id", "owner_id"]].assign(kind=name, at=lapse))
    return pd.concat(parts, ignore_index=True)


def deals_frame(decisions: pd.DataFrame, m: int, rng: np.random.Generator) -> pd.DataFrame:
    """m deals on distinct leads, as the outcomes table holds them."""
    leads = decisions.iloc[np.sort(rng.choice(len(decisions), m, replace=False))]
    closed = rng.random(m) < 0.6
    seen = leads["decided_at"] + pd.to_timedelta(rng.exponential(20, m) * 86_400, unit="s")
    close = (seen + pd.to_timedelta(rng.exponential(30, m) * 86_400, unit="s")).dt.date
    return pd.DataFrame(
        {
            "source": leads["source"].to_numpy(),
            "lead_id": leads["lead_id"].to_numpy(),
            "deal_id": [f"006{i:012d}" for i in range(m)],
            "stage": np.where(closed, "Closed Won", "Discovery"),
            "is_closed": closed,
            "is_won": closed & (rng.random(m) < 0.3),
            "amount": np.round(rng.lognormal(10, 1, m), -2),
            "currency": None,  # the CRM's only currency
            "close_date": pd.Series(close.to_numpy()).where(closed),
            "first_seen_at": seen.to_numpy(),
        }
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main(n: int = 1_000_000, m: int = 200_000, runs: int = 3) -> dict:
    from leadrouter.outcomes.join import analyst_tables, lead_outcomes

    rng = np.random.default_rng(8)
    decisions = decisions_frame(n, rng)
    events = events_frame(decisions, rng)
    deals = deals_frame(decisions, m, rng)
    review = decisions.loc[decisions["decided_by"].isna() | (rng.random(n) < 0.05), ["source", "lead_id"]]
    inputs_mb = peak_rss_mb()
    times, frame, tables = [], None, {}
    for _ in range(runs):
        started = time.perf_counter()
        frame = lead_outcomes(decisions, deals, events, review)
        tables = analyst_tables(frame)
        times.append(time.perf_counter() - started)
    peak = peak_rss_mb()
    return {
        "decisions": n,
        "deals": m,
        "events": len(events),
        "review_rows": len(review),
        "leads_out": len(frame),
        "table_rows": {k: len(v) for k, v in tables.items()},
        "best_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "target_s": 20.0,
        "peak_rss_mb": round(peak, 1),
        "inputs_rss_mb": round(inputs_mb, 1),
        "target_rss_mb": 2048.0,
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(main(*args)))
