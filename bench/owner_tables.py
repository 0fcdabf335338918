"""The rep and queue tables of the outcome loop: 1,000,000 routing decisions with their SLA events (touches,
breaches, rejections, re-routes naming who got the lead) cut into stints (each lead once per owner who had
it) and grouped into `rep`, `rep:<tier>` and `queue:<tier>`. Times owner_stints + owner_tables after
lead_outcomes (best and median of three) and the process's peak RSS. Prints one JSON object. They add to the
outcome loop's budget (bench/outcomes.py): target best <= 5 s, peak RSS <= 2 GiB.

    .venv/bin/python bench/owner_tables.py [decisions] [deals]
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np
import pandas as pd
from outcomes import OWNERS, deals_frame, decisions_frame, events_frame, peak_rss_mb  # bench/outcomes.py


def with_takers(events: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The events with new_owner_id: each re-route gives the lead to another owner, who then has its touch."""
    out = events.assign(new_owner_id=pd.Series(None, index=events.index, dtype=object))
    moved = (out["kind"] == "reroute").to_numpy()
    out.loc[moved, "new_owner_id"] = rng.choice(np.array(OWNERS[:60], dtype=object), int(moved.sum()))
    return out


def main(n: int = 1_000_000, m: int = 200_000, runs: int = 3) -> dict:
    from leadrouter.outcomes.join import lead_outcomes
    from leadrouter.outcomes.reps import owner_stints, owner_tables

    rng = np.random.default_rng(8)
    decisions = decisions_frame(n, rng)
    events = with_takers(events_frame(decisions, rng), rng)
    deals = deals_frame(decisions, m, rng)
    review = decisions.loc[decisions["decided_by"].isna() | (rng.random(n) < 0.05), ["source", "lead_id"]]
    frame = lead_outcomes(decisions, deals, events, review)
    times, stints, tables = [], None, {}
    for _ in range(runs):
        started = time.perf_counter()
        stints = owner_stints(frame, decisions, events)
        tables = owner_tables(stints, {o for o in OWNERS if o.startswith("00G")})
        times.append(time.perf_counter() - started)
    return {
        "decisions": n,
        "events": len(events),
        "stints": len(stints),
        "table_rows": {k: len(v) for k, v in tables.items()},
        "best_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "target_s": 5.0,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "target_rss_mb": 2048.0,
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(main(*args)))
