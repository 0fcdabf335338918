"""The 90-day outcome loop's figures: every routing decision joined to the deal it became, and the analyst
tables (by tier, rule, decider kind, rep, source and week) beside the seed's operating thresholds.

Pure pandas over the store's tables read as frames (leadrouter.store.outcomes reads and writes them);
docs/outcome-tables.md defines every column.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from leadrouter.outcomes.hindsight import HORIZON_DAYS, HindsightRules, hindsight
from leadrouter.outcomes.money import currency_codes
from leadrouter.outcomes.tables import (
    DIMENSIONS,
    METRIC_COLUMNS,
    NONE_LABEL,
    THRESHOLDS,
    Threshold,
    against_thresholds,
    analyst_tables,
    metrics_by,
)
from leadrouter.schema import COUNTED, OUTCOME_INPUTS, OUTCOME_KEYS, UTC_TS, Status, Tier

# the contract's names live here; the tables are built in leadrouter.outcomes.tables
__all__ = [
    "COUNTED",
    "DIMENSIONS",
    "HORIZON_DAYS",
    "LEAD_OUTCOME_COLUMNS",
    "METRIC_COLUMNS",
    "NONE_LABEL",
    "OUTCOME_INPUTS",
    "THRESHOLDS",
    "OutcomeInputError",
    "Threshold",
    "against_thresholds",
    "analyst_tables",
    "headline",
    "lead_outcomes",
    "matured",
    "metrics_by",
    "nurture_turned_hot",
    "vip_precision_recall",
]  # fmt: skip


LEAD_OUTCOME_COLUMNS: dict[str, str] = {
    "source": "string",
    "lead_id": "string",
    "tier": "string",
    "decided_by": "string",
    "decided_kind": "string",
    "rule": "string",
    "owner_id": "string",
    "week": "object",  # datetime.date
    "lead_created_at": UTC_TS,
    "decided_at": UTC_TS,
    "first_touch_at": UTC_TS,
    "speed_to_lead_min": "float64",
    "sla_breached": "bool",
    "reassigned": "bool",
    "wrong_assignment": "bool",
    "manual_triage": "bool",
    "accepted": "bool",
    "meeting": "bool",
    "opportunity": "bool",
    "won": "bool",
    "pipeline": "float64",  # in the deal's currency
    "revenue": "float64",
    "currency": "string",  # the deal's ISO 4217 code (null: the CRM's only currency, or no deal)
    "amount_date": "datetime64[us]",  # the day the amount converts on: the close date, else the arrival date
    "closed": "bool",
    "days_to_opportunity": "float64",
}


class OutcomeInputError(ValueError):
    """A frame handed to lead_outcomes lacks a column; the message names the frame, the column and the fix."""


def lead_outcomes(
    decisions: pd.DataFrame, outcomes: pd.DataFrame, events: pd.DataFrame, review: pd.DataFrame
) -> pd.DataFrame:
    """One LEAD_OUTCOME_COLUMNS row per routed (or reviewed) lead: its decision, its SLA history and its deal."""
    for name, frame in (
        ("decisions", decisions),
        ("outcomes", outcomes),
        ("events", events),
        ("review", review),
    ):
        _require(name, frame)
    counted = decisions.loc[decisions["status"].isin(COUNTED), OUTCOME_INPUTS["decisions"]]
    # one integer per (source, lead_id) across the four frames: every join below is an array lookup
    keys = _lead_keys([counted, outcomes, events, review])
    first = (keys[0] >= 0) & ~pd.Series(keys[0]).duplicated().to_numpy()
    leads = counted[first].reset_index(drop=True)
    lookup = np.full(max((int(k.max()) for k in keys if len(k)), default=-1) + 1, -1, dtype=np.int64)
    lookup[keys[0][first]] = np.arange(len(leads))
    _, deal_at, event_at, review_at = (np.where(k >= 0, lookup[np.maximum(k, 0)], -1) for k in keys)
    n = len(leads)
    for column in OUTCOME_KEYS:
        leads[column] = leads[column].astype("string")
    out = leads[OUTCOME_KEYS].copy()
    out["tier"] = leads["tier"].astype("string")
    out["decided_by"] = leads["decided_by"].astype("string")
    kind, rule = decider_kind(out["decided_by"], leads["status"])
    out["decided_kind"], out["rule"] = kind, rule
    history = _event_history(events, event_at, n)
    out["owner_id"] = history["first_owner"].fillna(leads["owner_id"].astype("string"))
    for column in ("lead_created_at", "decided_at"):
        out[column] = _utc(leads[column])
    out["week"] = week_of(out["decided_at"])
    out["first_touch_at"] = earlier(_utc(leads["first_touch_at"]), history["first_touch"])
    out["speed_to_lead_min"] = (out["first_touch_at"] - out["lead_created_at"]).dt.total_seconds() / 60
    out["sla_breached"] = history["breach"]
    out["reassigned"] = history["reroute"]
    out["wrong_assignment"] = history["reject"]
    out["manual_triage"] = _any_row(review_at, n)
    out["accepted"] = out["first_touch_at"].notna()
    out = out.join(_deals(outcomes, deal_at, out["lead_created_at"].fillna(out["decided_at"])))
    return out[list(LEAD_OUTCOME_COLUMNS)].astype(LEAD_OUTCOME_COLUMNS)


def decider_kind(decided_by: pd.Series, status: pd.Series) -> tuple[pd.Series, pd.Series]:
    """'rule' | 'model' | 'review' from decided_by ("rule:<id>", "model:<name>", "review:<who>"), and the rule id.
    A lead still waiting in the review queue has no decider yet: its kind is 'review'."""
    # a few dozen distinct deciders among a million decisions: split each distinct one once
    codes, distinct = pd.factorize(decided_by.astype("string"))
    parts = pd.Series(distinct, dtype="string").str.partition(":").reindex(columns=[0, 1, 2])
    kinds = parts[0].where(parts[0].isin(["rule", "model", "review"]))
    rules = parts[2].where((kinds == "rule").fillna(False))
    # a missing decider's code is -1: it picks the <NA> appended last (all missing: the only entry)
    kind = pd.Series(np.append(kinds.to_numpy(), pd.NA)[codes], index=decided_by.index, dtype="string")
    kind = kind.mask(kind.isna().to_numpy() & (status.to_numpy() == Status.REVIEW.value), "review")
    rule = pd.Series(np.append(rules.to_numpy(), pd.NA)[codes], index=decided_by.index, dtype="string")
    return kind, rule


def week_of(stamps: pd.Series) -> pd.Series:
    """The Monday (a date) of each stamp's ISO week, in UTC."""
    day = stamps.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    return (day - pd.to_timedelta(day.dt.dayofweek, unit="D")).dt.date


def earlier(a: pd.Series, b: pd.Series) -> pd.Series:
    """The earlier of two stamps per row, ignoring a missing one."""
    return a.mask(b.notna() & (a.isna() | (b < a)), b)


def _require(name: str, frame: pd.DataFrame) -> None:
    missing = [c for c in OUTCOME_INPUTS[name] if c not in frame.columns]
    if missing:
        raise OutcomeInputError(
            f"{name} frame has no column {missing[0]!r}: read it with leadrouter.store.outcomes "
            f"(it needs {', '.join(OUTCOME_INPUTS[name])})"
        )


def _utc(values: pd.Series) -> pd.Series:
    # SQLite hands back naive UTC stamps, PostgreSQL aware ones
    return pd.to_datetime(values, utc=True, format="mixed").astype(UTC_TS)


def _lead_keys(frames: list[pd.DataFrame]) -> list[np.ndarray]:
    """Per frame, an int64 per row naming its (source, lead_id), the same across frames; -1 where one is missing.
    Hashing every id once (no sorting) is what keeps a million decisions fast."""
    codes = []
    for column in OUTCOME_KEYS:
        values = np.concatenate([f[column].to_numpy(dtype=object, na_value=None) for f in frames])
        found, distinct = _factorize(values)
        codes.append((found.astype(np.int64), len(distinct)))
    (source, _), (lead, n_leads) = codes
    keys = np.where((source >= 0) & (lead >= 0), source * n_leads + lead, -1)
    return np.split(keys, np.cumsum([len(f) for f in frames])[:-1])


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize, short-cut for a column holding one value throughout (the source, nearly always)."""
    if len(values) and values[0] is not None and (values == values[0]).all():
        return np.zeros(len(values), dtype=np.int64), values[:1]
    return pd.factorize(values)


def _any_row(positions: np.ndarray, n: int) -> np.ndarray:
    """Per lead: whether any row points at it."""
    hit = np.zeros(n, dtype=bool)
    hit[positions[positions >= 0]] = True
    return hit


def _event_history(events: pd.DataFrame, position: np.ndarray, n: int) -> pd.DataFrame:
    """Per lead: any breach / reroute / reject, the first touch, and the owner the first re-route took it from
    (the owner the routing decision chose). position: each event's lead (-1: not one of the leads)."""
    events = events.reset_index(drop=True)
    kind = events["kind"].to_numpy(dtype=object)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for name in ("breach", "reroute", "reject"):
        out[name] = _any_row(position[kind == name], n)
    touches = (position >= 0) & (kind == "touch")
    at = _utc(events["at"])
    out["first_touch"] = at[touches].groupby(position[touches]).min().reindex(out.index)
    moved = (position >= 0) & (kind == "reroute")
    moves = pd.DataFrame(
        {
            "p": position[moved],
            "at": at[moved].reset_index(drop=True),
            "owner": events["owner_id"].to_numpy(dtype=object)[moved],
        }
    )
    moves = moves.sort_values(["p", "at"], kind="stable").drop_duplicates("p")
    out["first_owner"] = moves.set_index("p")["owner"].reindex(out.index).astype("string")
    return out


def _deals(outcomes: pd.DataFrame, position: np.ndarray, started: pd.Series) -> pd.DataFrame:
    """Per lead: opportunity, meeting (= opportunity: the protocol has no meetings), won, closed, pipeline,
    revenue, their currency and amount_date (the day they convert on, the rule of v_routed_leads: the close
    date, else the arrival date; null without a deal) and days from the lead's creation to the opportunity
    (the earlier of the day the loop first saw the deal and the end of its close date: the CRM protocol gives
    no creation date)."""
    found = outcomes[position >= 0].assign(p=position[position >= 0]).drop_duplicates("p").set_index("p")
    found = found.reindex(pd.RangeIndex(len(started)))
    out = pd.DataFrame(index=found.index)
    out["opportunity"] = found["deal_id"].notna().to_numpy()
    out["meeting"] = out["opportunity"]
    out["won"] = found["is_won"].fillna(False).astype(bool) & out["opportunity"]
    out["closed"] = found["is_closed"].fillna(False).astype(bool) & out["opportunity"]
    amount = pd.to_numeric(found["amount"], errors="coerce").fillna(0.0).astype("float64")
    out["pipeline"] = amount.where(out["opportunity"], 0.0)
    out["revenue"] = amount.where(out["won"], 0.0)
    out["currency"] = currency_codes(found["currency"]).where(out["opportunity"]).to_numpy()
    closing = _utc(found["close_date"])  # a date from the store, a stamp from an export: its UTC day
    on = closing.fillna(_utc(started.reset_index(drop=True))).dt.tz_localize(None).dt.normalize()
    out["amount_date"] = on.astype("datetime64[us]").where(out["opportunity"])
    opened = earlier(_utc(found["first_seen_at"]), closing + pd.Timedelta(days=1))
    days = (opened - started.reset_index(drop=True)).dt.total_seconds() / 86_400
    out["days_to_opportunity"] = days.clip(lower=0).where(out["opportunity"])
    return out


def matured(frame: pd.DataFrame, as_of: datetime | pd.Timestamp | None) -> pd.DataFrame:
    """The leads whose 90 days are over at as_of (all of them when as_of is None): their hindsight is final."""
    if as_of is None:
        return frame
    start = frame["lead_created_at"].fillna(frame["decided_at"])
    return frame[start + pd.Timedelta(days=HORIZON_DAYS) <= pd.Timestamp(as_of)]


def vip_precision_recall(
    frame: pd.DataFrame,
    as_of: datetime | pd.Timestamp | None = None,
    rules: HindsightRules | None = None,
    rates: pd.DataFrame | None = None,
) -> dict:
    """Was the VIP correctly identified? precision: routed VIPs that were VIPs in hindsight
    (leadrouter.outcomes.hindsight, its VIP cut taken over the whole frame, amounts converted through rates:
    fx_rates' rows); recall: hindsight VIPs the router called VIP. Over leads matured at as_of (default: all)
    whose hindsight is known (undated: those left out, their opportunity having no date); None where nothing
    to divide by."""
    tiers = hindsight(frame, rules, reasons=False, rates=rates)["hindsight"]
    leads = matured(frame, as_of)
    tiers = tiers.loc[leads.index]
    undated = int(tiers.isna().sum())
    leads, tiers = leads[tiers.notna().to_numpy()], tiers.dropna()
    called = (leads["tier"] == Tier.VIP.value).fillna(False).to_numpy()
    truly = (tiers == Tier.VIP.value).to_numpy()
    hits = int((called & truly).sum())
    return {
        "leads": len(leads),
        "routed_vip": int(called.sum()),
        "hindsight_vip": int(truly.sum()),
        "true_positives": hits,
        "precision": hits / int(called.sum()) if called.any() else None,
        "recall": hits / int(truly.sum()) if truly.any() else None,
        "undated": undated,
    }


def nurture_turned_hot(frame: pd.DataFrame) -> pd.DataFrame:
    """Nurture leads that became opportunities within 90 days (did the Nurture lead come back hot?)."""
    hot = (
        (frame["tier"] == Tier.NURTURE.value).fillna(False)
        & frame["opportunity"]
        & (frame["days_to_opportunity"] <= HORIZON_DAYS)
    )
    return frame[hot].sort_values(["days_to_opportunity", "lead_id"]).reset_index(drop=True)


def headline(
    frame: pd.DataFrame, as_of: datetime | pd.Timestamp | None = None, rates: pd.DataFrame | None = None
) -> dict[str, float | None]:
    """The seed's two questions as figures: was the VIP correctly identified (over leads matured at as_of, deal
    amounts converted through rates), and did the Nurture lead come back hot within 90 days."""
    vip = vip_precision_recall(frame, as_of, rates=rates)
    nurture = int((frame["tier"] == Tier.NURTURE.value).fillna(False).sum())
    hot = len(nurture_turned_hot(frame))
    return {
        "vip_precision": vip["precision"],
        "vip_recall": vip["recall"],
        "vip_matured_leads": vip["leads"],
        "vip_routed": vip["routed_vip"],
        "vip_hindsight": vip["hindsight_vip"],
        "nurture_leads": nurture,
        "nurture_turned_hot": hot,
        "nurture_turned_hot_rate": hot / nurture if nurture else None,
    }
