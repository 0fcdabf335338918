"""The rep and queue tables: each lead counted once for every owner who had it (the routing decision's owner, then
each re-route's), and each touch, rejection and breach charged to the owner who made it, the owner at that
moment; split by tier, queues apart. Pure pandas over the outcome loop's inputs (leadrouter.store.outcomes
.read_inputs) and the per-lead frame (leadrouter.outcomes.join.lead_outcomes); docs/outcome-tables.md."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from leadrouter.outcomes.tables import metrics_by
from leadrouter.schema import COUNTED, OUTCOME_KEYS, TIERS, UTC_TS

KEYS = list(OUTCOME_KEYS)
# one row per (lead, owner who had it); the flags metrics_by counts, charged to that owner
STINT_COLUMNS: dict[str, str] = {
    "source": "string",
    "lead_id": "string",
    "owner_id": "string",
    "tier": "string",
    "got_at": UTC_TS,  # when the owner got the lead: the decision, or the re-route that gave it to them
    "first_touch_at": UTC_TS,  # the owner's first touch of it; null if they never touched it
    "speed_to_lead_min": "float64",  # first_touch_at - got_at: the owner's own response time
    "accepted": "bool",  # the owner touched it
    "sla_breached": "bool",  # the owner let its response SLA lapse
    "wrong_assignment": "bool",  # the owner rejected it as not theirs
    "reassigned": "bool",  # it was taken from the owner (after their breach or rejection)
    "manual_triage": "bool",  # the lead went through the review queue
    "last": "bool",  # the lead's last owner: the one its deal is charged to
    "meeting": "bool",
    "opportunity": "bool",
    "won": "bool",
    "closed": "bool",
    "pipeline": "float64",
    "revenue": "float64",
}
DEAL_FLAGS = ["meeting", "opportunity", "won", "closed"]
DEAL_AMOUNTS = ["pipeline", "revenue"]
OWNER_EVENT_COLUMNS = [*KEYS, "kind", "owner_id", "new_owner_id", "at"]


def owner_stints(leads: pd.DataFrame, decisions: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """STINT_COLUMNS: one row per (lead, owner who had it). leads: lead_outcomes' frame (its owner_id is the
    routing decision's choice); decisions and events: read_inputs' frames, events with new_owner_id. A touch,
    rejection or breach is charged to the owner its SLA event names (the owner then); the decision's own
    first_touch_at to its current owner; deals to the lead's last owner. Leads waiting in review have no owner."""
    missing = [c for c in OWNER_EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(
            f"events frame has no column {missing[0]!r}: read it with leadrouter.store.outcomes.read_inputs"
        )
    owned = leads[leads["owner_id"].notna().to_numpy()]
    events = _typed(events[OWNER_EVENT_COLUMNS])
    first = owned[[*KEYS, "owner_id"]].assign(got_at=owned["decided_at"])
    moves = events.loc[events["kind"] == "reroute", [*KEYS, "new_owner_id", "at"]]
    moves = moves.set_axis([*KEYS, "owner_id", "got_at"], axis=1).merge(owned[KEYS], on=KEYS)
    # the decision's owner first, then each re-route's in time; an owner had a lead once (reroute never returns it)
    stints = pd.concat([first, moves], ignore_index=True).dropna(subset=["owner_id"])
    stints = stints.sort_values([*KEYS, "got_at"], kind="stable").drop_duplicates([*KEYS, "owner_id"])
    stints["last"] = ~stints.duplicated(KEYS, keep="last")
    stints = stints.merge(_first_touches(decisions, events), on=[*KEYS, "owner_id"], how="left")
    stints["speed_to_lead_min"] = (stints["first_touch_at"] - stints["got_at"]).dt.total_seconds() / 60
    stints["accepted"] = stints["first_touch_at"].notna()
    for flag, kind in (("sla_breached", "breach"), ("wrong_assignment", "reject")):
        stints[flag] = _charged(stints, events.loc[events["kind"] == kind, [*KEYS, "owner_id"]])
    stints["reassigned"] = _charged(stints, events.loc[events["kind"] == "reroute", [*KEYS, "owner_id"]])
    lead = owned[[*KEYS, "tier", "manual_triage", *DEAL_FLAGS, *DEAL_AMOUNTS]].drop_duplicates(KEYS)
    stints = stints.merge(lead, on=KEYS, how="left")
    last = stints["last"].to_numpy(bool)
    for column in DEAL_FLAGS:
        stints[column] = stints[column].to_numpy(bool) & last
    for column in DEAL_AMOUNTS:
        stints[column] = np.where(last, stints[column].to_numpy(float), 0.0)
    return stints[list(STINT_COLUMNS)].astype(STINT_COLUMNS)


def owner_tables(stints: pd.DataFrame, queues: Collection[str]) -> dict[str, pd.DataFrame]:
    """The METRIC_COLUMNS of each owner's stints (first column owner_id): `rep` (every rep, all tiers), then per
    tier present `rep:<tier>` and `queue:<tier>` (queues: the roster's queue ids)."""
    queue = stints["owner_id"].isin(list(queues)).to_numpy()
    tables = {"rep": metrics_by(stints[~queue], "owner_id")}
    for tier in TIERS:
        of_tier = stints["tier"].eq(tier).fillna(False).to_numpy(bool)
        for name, mask in (("rep", ~queue), ("queue", queue)):
            if (mask & of_tier).any():
                tables[f"{name}:{tier}"] = metrics_by(stints[mask & of_tier], "owner_id")
    return tables


def _typed(events: pd.DataFrame) -> pd.DataFrame:
    out = events.astype({c: "string" for c in (*KEYS, "kind", "owner_id", "new_owner_id")})
    # SQLite hands back naive UTC stamps, PostgreSQL aware ones
    return out.assign(at=pd.to_datetime(out["at"], utc=True, format="mixed").astype(UTC_TS))


def _first_touches(decisions: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """(lead, owner) -> the earliest touch charged to that owner: their touch events, and the decision's
    first_touch_at for its current owner (re-routing clears it, so it is always the current owner's)."""
    counted = decisions.loc[decisions["status"].isin(COUNTED), [*KEYS, "owner_id", "first_touch_at"]]
    counted = counted.astype({c: "string" for c in (*KEYS, "owner_id")}).drop_duplicates(KEYS)
    stamped = counted.assign(
        at=pd.to_datetime(counted["first_touch_at"], utc=True, format="mixed").astype(UTC_TS)
    )
    touches = pd.concat(
        [events.loc[events["kind"] == "touch", [*KEYS, "owner_id", "at"]], stamped[[*KEYS, "owner_id", "at"]]]
    ).dropna()
    return (
        touches.groupby([*KEYS, "owner_id"], as_index=False)["at"]
        .min()
        .rename(columns={"at": "first_touch_at"})
    )


def _charged(stints: pd.DataFrame, acts: pd.DataFrame) -> np.ndarray:
    """Per stint: whether any of `acts` (lead keys and owner_id) names its lead and owner."""
    hits = acts.dropna().drop_duplicates().assign(_hit=True)
    joined = stints[[*KEYS, "owner_id"]].merge(hits, on=[*KEYS, "owner_id"], how="left")
    return joined["_hit"].notna().to_numpy()
