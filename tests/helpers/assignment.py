"""Rosters, lead frames and ledger reads for the assignment tests."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select

from leadrouter.assign.batch import STATE_COLUMNS
from leadrouter.assign.owners import Moment, assign_owners, response_windows
from leadrouter.assign.roster import Roster
from leadrouter.classify.rules import DEFAULT_SLA
from leadrouter.record import BatchContext
from leadrouter.store import Store
from leadrouter.store.tables import rep_state
from tests.helpers.clock import WORKDAY

AT = WORKDAY  # Wed 25 Nov 2026 16:30 UTC: New York 11:30 Wed, Berlin 17:30 Wed, Tokyo 01:30 Thu
TIERS = ["VIP", "Standard", "Nurture", "Other"]
FALLBACK = "Q"  # the queue every test pool falls back to unless the test says otherwise


def rep(rid: str, **fields: object) -> dict:
    return {"id": rid, "name": rid.title(), "email": f"{rid}@example.com", **fields}


def make_roster(
    reps: list[dict], pools: list[dict] | None = None, *, schedule: dict | None = None, **extra: object
) -> Roster:
    """A valid roster: the given pools (default: one pool per tier with every rep, named after the tier),
    plus a queue-only pool for each tier they leave out, so the roster passes the loader's checks too."""
    ids = [r["id"] for r in reps]
    pools = pools or [{"name": t.lower(), "tier": t, "reps": ids, "fallback": FALLBACK} for t in TIERS]
    covered = {p["tier"] for p in pools}
    pools = pools + [
        {"name": f"{t.lower()}-queue", "tier": t, "reps": [FALLBACK], "fallback": FALLBACK}
        for t in TIERS
        if t not in covered
    ]
    roster = Roster.model_validate(
        {
            "schedule": schedule or {"timezone": "UTC"},  # 09:00-17:30 Mon-Fri: AT is within it
            "reps": reps,
            "pools": pools,
            "queues": {FALLBACK: "triage queue"},
            **extra,
        }
    )
    assert not roster.problems()
    return roster


def leads(
    n: int = 1,
    *,
    tier: str = "Standard",
    region: str | None = "NA",
    territory: str | None = None,
    industry: str | None = None,
    start: int = 0,
    **extra: object,
) -> pd.DataFrame:
    """n leads arriving one second apart (lead ids and arrival follow `start`, so frames can be joined)."""
    ids = list(range(start, start + n))
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:06d}" for i in ids],
            "created_at": pd.Timestamp("2026-11-25", tz="UTC") + pd.to_timedelta(ids, unit="s"),
            "tier": pd.array([tier] * n, dtype="string"),
            "pool": pd.array([pd.NA] * n, dtype="string"),
            "region": pd.array([region] * n, dtype="string"),
            "territory": pd.array([territory] * n, dtype="string"),
            "industry": pd.array([industry] * n, dtype="string"),
        }
    )
    for name, value in extra.items():
        frame[name] = pd.array(value if isinstance(value, list) else [value] * n, dtype="string")
    return frame


def counts(out: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in out["owner_id"].value_counts().items()}


def classified(n: int, start: int = 0) -> pd.DataFrame:
    frame = leads(n, start=start)
    return frame.assign(category="sales", priority=2, decided_by="rule:test", confidence=1.0)


def context(run_id: str) -> BatchContext:
    return BatchContext("sandbox", run_id, "v1", at=AT)


def ledger_state(store: Store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(rep_state.c.pool, rep_state.c.rep_id, rep_state.c.pass_value, rep_state.c.assigned)
        )
        return pd.DataFrame(rows.mappings().all()).set_index(["pool", "rep_id"])


def assign(
    frame: pd.DataFrame,
    roster: Roster,
    state: pd.DataFrame | None = None,
    *,
    at: datetime = AT,
    load: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """assign_owners at `at` with the default SLAs' windows, from the given round-robin state and load."""
    moment = Moment(at, response_windows(DEFAULT_SLA), pd.DataFrame() if load is None else load)
    return assign_owners(
        frame, roster, pd.DataFrame(columns=STATE_COLUMNS) if state is None else state, moment
    )
