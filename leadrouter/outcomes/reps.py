"""The rep and queue tables: each lead counted once for every owner who had it (the routing decision's owner, then
each re-route's), and each touch, rejection and breach charged to the owner who made it, the owner at that
moment; split by tier, queues apart. Pure pandas over the outcome loop's inputs (leadrouter.store.outcomes
.read_inputs) and the per-lead frame (leadrouter.outcomes.join.lead_outcomes); docs/outcome-tables.md."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from leadrouter.outcomes.join import _lead_keys, _utc
from leadrouter.outcomes.tables import in_one_currency, metrics_by
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
    "currency": "string",  # the amounts' currency and the day they convert on (lead_outcomes)
    "amount_date": "datetime64[us]",
}
DEAL_FLAGS = ["meeting", "opportunity", "won", "closed"]
DEAL_AMOUNTS = ["pipeline", "revenue"]
DEAL_MONEY = ["currency", "amount_date"]
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
    owned = leads[leads["owner_id"].notna().to_numpy()].reset_index(drop=True)
    counted = decisions[decisions["status"].isin(COUNTED).to_numpy()].reset_index(drop=True)
    events = events.reset_index(drop=True)
    # integers for leads and owners, the same across the frames: every join below is on int64 (a million rows)
    lead_of = dict(zip(("owned", "events", "decisions"), _lead_keys([owned, events, counted]), strict=True))
    owner_codes, owners = pd.factorize(
        np.concatenate([f[c].to_numpy(dtype=object, na_value=None) for f, c in (
            (owned, "owner_id"), (events, "owner_id"), (events, "new_owner_id"), (counted, "owner_id"))])
    )  # fmt: skip
    o_owned, o_event, o_taker, o_decision = np.split(
        owner_codes, np.cumsum([len(owned), *[len(events)] * 2])[:3]
    )
    width = max(len(owners), 1)

    def pairs(lead: np.ndarray, owner: np.ndarray) -> np.ndarray:
        return np.where((lead >= 0) & (owner >= 0), lead * width + owner, -1)

    kind = events["kind"].to_numpy(dtype=object)
    at = _utc(events["at"])
    moved = (kind == "reroute") & np.isin(lead_of["events"], lead_of["owned"]) & (o_taker >= 0)
    # the decision's owner first, then each re-route's in time; an owner had a lead once (reroute never returns it)
    lead = np.concatenate([lead_of["owned"], lead_of["events"][moved]])
    owner = np.concatenate([o_owned, o_taker[moved]])
    # int64 microseconds (UTC_TS), not datetime64 arrays: converting an aware column to one walks every stamp
    got = np.concatenate([_utc(owned["decided_at"]).array.asi8, at[moved].array.asi8])
    order = np.lexsort((got, lead))  # stable: on a tie the decision's owner stays first
    lead, owner, got = lead[order], owner[order], got[order]
    keep = ~pd.Series(pairs(lead, owner)).duplicated().to_numpy()
    lead, owner, got = lead[keep], owner[keep], got[keep]
    stint = pairs(lead, owner)
    out = pd.DataFrame(index=pd.RangeIndex(len(stint)))
    row = pd.Index(lead_of["owned"]).get_indexer(lead)  # each stint's lead in `owned` (one row per lead)
    for column in KEYS:
        out[column] = owned[column].to_numpy()[row]
    out["owner_id"] = owners[owner] if len(owner) else []
    out["tier"] = owned["tier"].to_numpy()[row]
    out["got_at"] = pd.to_datetime(got, unit="us", utc=True)
    touched = np.concatenate(
        [pairs(lead_of["events"], o_event)[kind == "touch"], pairs(lead_of["decisions"], o_decision)]
    )
    touched_at = pd.concat([at[kind == "touch"], _utc(counted["first_touch_at"])], ignore_index=True)
    firsts = touched_at.groupby(touched).min()
    out["first_touch_at"] = firsts.reindex(stint).array  # .array: to_numpy would walk every aware stamp
    out["speed_to_lead_min"] = (out["first_touch_at"] - out["got_at"]).dt.total_seconds() / 60
    out["accepted"] = out["first_touch_at"].notna()
    charged = pairs(lead_of["events"], o_event)
    out["sla_breached"] = np.isin(stint, charged[kind == "breach"])
    out["wrong_assignment"] = np.isin(stint, charged[kind == "reject"])
    out["reassigned"] = np.isin(stint, charged[kind == "reroute"])
    out["manual_triage"] = owned["manual_triage"].to_numpy(bool)[row]
    out["last"] = ~pd.Series(lead).duplicated(keep="last").to_numpy()
    for column in DEAL_FLAGS:
        out[column] = owned[column].to_numpy(bool)[row] & out["last"].to_numpy()
    for column in DEAL_AMOUNTS:
        out[column] = np.where(out["last"], owned[column].to_numpy(float)[row], 0.0)
    for column in DEAL_MONEY:
        out[column] = owned[column].to_numpy()[row] if column in owned else None
    return out[list(STINT_COLUMNS)].astype(STINT_COLUMNS)


def owner_tables(
    stints: pd.DataFrame, queues: Collection[str], rates: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """The METRIC_COLUMNS of each owner's stints (first column owner_id): `rep` (every rep, all tiers), then per
    tier present `rep:<tier>` and `queue:<tier>` (queues: the roster's queue ids; rates: fx_rates' rows, for the
    amounts across currencies)."""
    stints = in_one_currency(stints, rates)  # once, not per table
    queue = stints["owner_id"].isin(list(queues)).to_numpy()
    tables = {"rep": metrics_by(stints[~queue], "owner_id")}
    for tier in TIERS:
        of_tier = stints["tier"].eq(tier).fillna(False).to_numpy(bool)
        for name, mask in (("rep", ~queue), ("queue", queue)):
            if (mask & of_tier).any():
                tables[f"{name}:{tier}"] = metrics_by(stints[mask & of_tier], "owner_id")
    return tables
