"""One outcome-loop run's star schema (docs/outcome-tables.md): the rep dimension brought up to the roster
(history kept), then the fact table, the calendar and the day's snapshot written in one transaction."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from leadrouter.assign.roster import Roster
from leadrouter.outcomes import star
from leadrouter.store import Store
from leadrouter.store import star as star_store


def save_star_schema(
    store: Store,
    source: str,
    outcomes: pd.DataFrame,
    roster: Roster,
    at: datetime,
    recheck_days: int = star.RECHECK_DAYS,
    fiscal_start_month: int = 1,
) -> dict[str, int]:
    """The source's star schema from its per-lead outcome frame (leadrouter.outcomes.join.lead_outcomes) as of
    `at`; returns what was written."""
    close, new = star.rep_changes(star_store.current_reps(store, source), star.rep_rows(roster, source))
    versions = star_store.update_reps(store, source, close, new, at)
    inputs = star_store.read_star_inputs(store, source)
    fact = star.fact_frame(outcomes, **inputs, reps=versions, at=at, recheck_days=recheck_days)
    today = pd.Timestamp(at).tz_convert("UTC").date()
    arrivals = fact["arrival_date"].dropna()
    first = arrivals.min().date() if len(arrivals) else today
    days = star.calendar(
        first, max(today, arrivals.max().date() if len(arrivals) else today), fiscal_start_month
    )
    snapshot = star.snapshot(fact.assign(source=source), at)
    star_store.save_star(store, source, fact, days, snapshot)
    return {"fact_rows": len(fact), "rep_versions_closed": len(close), "rep_versions_added": len(new),
            "snapshot_rows": len(snapshot), "deals_without_rate": star.deals_without_rate(fact, inputs["rates"])}  # fmt: skip
