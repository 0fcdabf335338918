"""A replay's decisions as the outcome loop's frame (leadrouter.outcomes.join.lead_outcomes) and its analyst
tables; historical owners resolved to the roster."""

from __future__ import annotations

import pandas as pd

from leadrouter.assign.roster import Roster
from leadrouter.backtest.deal_import import DealImport
from leadrouter.outcomes.join import DIMENSIONS, analyst_tables, lead_outcomes, metrics_by
from leadrouter.schema import Status

DEAL_COLUMNS = ["lead_id", "deal_id", "is_closed", "is_won", "amount", "close_date", "first_seen_at", "state",
                "dated"]  # fmt: skip


def outcome_frame(
    routed: pd.DataFrame, review: pd.DataFrame, deals: DealImport | None, source: str
) -> pd.DataFrame:
    """The replay's decisions in the store's shapes, through leadrouter.outcomes.join.lead_outcomes: decided (and
    arrived) when the lead was created, never touched (an export has no activity history)."""
    decided = pd.concat(
        [routed.assign(status=Status.RECORDED.value), review.assign(status=Status.REVIEW.value)],
        ignore_index=True,
    )
    decisions = pd.DataFrame(
        {
            "source": source,
            "lead_id": decided["lead_id"],
            "status": decided["status"],
            "tier": decided["tier"],
            "decided_by": decided["decided_by"],
            "owner_id": decided.get("owner_id", pd.Series(pd.NA, index=decided.index)),
            "lead_created_at": decided["created_at"],
            "decided_at": decided["created_at"],
            "first_touch_at": pd.NaT,
        }
    )
    outcomes = deal_rows(deals.deals if deals is not None else None, source)
    events = pd.DataFrame(columns=["source", "lead_id", "kind", "owner_id", "at"])
    queued = pd.DataFrame({"source": source, "lead_id": review["lead_id"]})
    return lead_outcomes(decisions, outcomes, events, queued)


def deal_rows(deals: pd.DataFrame | None, source: str) -> pd.DataFrame:
    """An import's deals (DealImport.deals; None or empty: none) as the store's outcome rows for lead_outcomes:
    the source added, and a null currency where the export gives none (its amounts are in one currency)."""
    rows = deals if deals is not None and len(deals) else pd.DataFrame(columns=DEAL_COLUMNS)
    currency = rows["currency"] if "currency" in rows else pd.Series(pd.NA, index=rows.index, dtype="string")
    return rows.assign(source=source, currency=currency)


def resolve_owners(owners: pd.Series, roster: Roster) -> pd.Series:
    """The roster id of each historical owner, written as a rep's id, email or name, or a queue's id or
    description (any case); <NA> for an owner not on the roster."""
    names: dict[str, str] = {}
    for rep in roster.reps:
        for alias in (rep.key, rep.email, rep.name):
            names[alias.strip().casefold()] = rep.key
    for queue, description in roster.queues.items():
        names[queue.casefold()] = queue
        names[description.strip().casefold()] = queue
    return owners.astype("string").str.strip().str.casefold().map(names).astype("string")


def deal_states(deals: DealImport | None) -> pd.Series:
    if deals is None:
        return pd.Series(dtype="string")
    return deals.deals.set_index("lead_id")["state"]


def replay_tables(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The analyst tables of a replay: by tier, rule, decider kind, predicted owner and week, source meaning
    the lead source, and one by historical owner (on the roster or not: roster_id says which)."""
    tables = analyst_tables(frame, [d for d in DIMENSIONS if d != "source"])
    tables["source"] = metrics_by(frame, "lead_source")
    by_owner = metrics_by(frame, "historical_owner")
    roster_ids = frame.dropna(subset=["historical_owner"]).drop_duplicates("historical_owner")
    roster_id = by_owner["historical_owner"].map(
        roster_ids.set_index("historical_owner")["historical_owner_id"]
    )
    by_owner.insert(1, "roster_id", roster_id.astype("string"))
    tables["historical_owner"] = by_owner
    return tables
