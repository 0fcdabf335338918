"""The star schema analysts query (docs/outcome-tables.md): the fact frame (one row per routed lead, from the
per-lead outcome frame and what the ledger recorded at the decision), the rep dimension's versions, the
calendar, and a day's snapshot of the headline counts. Pure pandas; leadrouter.store.star reads and writes."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from leadrouter.assign.roster import Roster
from leadrouter.outcomes.hindsight import HORIZON_DAYS, HindsightRules, hindsight
from leadrouter.outcomes.money import currency_codes, in_base_currency
from leadrouter.outcomes.tables import NONE_LABEL
from leadrouter.schema import UTC_TS, Tier, segments

RECHECK_DAYS = 365  # a deal still open is re-checked this long after its lead arrived, then marked final
SNAPSHOT_DIMENSIONS = ("tier", "rule", "first_owner_id", "source")
REP_ATTRIBUTES = ["kind", "name", "email", "role", "team", "pools", "regions", "languages", "active"]
SNAPSHOT_COUNTS = {
    "leads": "lead_id", "accepted": "accepted", "breached": "sla_breached", "wrong_assignments":
    "wrong_assignment", "reassigned": "reassigned", "opportunities": "opportunity", "won": "won",
    "closed_deals": "closed", "matured": "matured", "matured_hindsight_vip": "matured_vip",
}  # fmt: skip
# what the ledger recorded at the decision; ARRIVAL_FACTS: what the lead said of itself on arrival
ARRIVAL_FACTS = ["lead_source", "country", "employees", "language"]
LEAD_FACTS = [
    "pool",
    "owner_id",
    "region",
    "territory",
    "industry",
    "seniority",
    *ARRIVAL_FACTS,
    "custom_fields",
]
DEAL_FACTS = ["deal_id", "stage", "close_date", "amount", "currency", "deal_created_at"]


def fact_frame(
    outcomes: pd.DataFrame,
    decided: pd.DataFrame,
    deals: pd.DataFrame,
    moves: pd.DataFrame,
    reps: pd.DataFrame,
    at: datetime,
    recheck_days: int = RECHECK_DAYS,
    rules: HindsightRules | None = None,
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per lead of the per-lead outcome frame (leadrouter.outcomes.join.lead_outcomes) with what was
    recorded at its decision (decided: lead_id + LEAD_FACTS), its deal (deals: lead_id + DEAL_FACTS), its
    owner path (moves: lead_id, at, new_owner_id of each re-route) and the rep_key of its first owner's
    dim_rep version at the decision (reps: dim_rep's rows). The hindsight tier compares deal amounts across
    currencies through rates (fx_rates' rows), else per currency (leadrouter.outcomes.hindsight.vip_cuts)."""
    out = outcomes.reset_index(drop=True)
    arrival = out["lead_created_at"].fillna(out["decided_at"])
    fact = pd.DataFrame({"source": out["source"], "lead_id": out["lead_id"]})
    fact["arrival_date"] = _day(arrival)
    fact["arrival_hour"] = arrival.dt.hour.astype("int64")
    for column in ("tier", "decided_by", "decided_kind", "rule"):
        fact[column] = out[column]
    lead = decided.set_index("lead_id").reindex(out["lead_id"]).reset_index(drop=True)
    fact["pool"] = lead["pool"]
    fact["first_owner_id"] = out["owner_id"]
    fact["owner_id"] = lead["owner_id"].fillna(out["owner_id"])
    fact["owner_path"] = owner_paths(out["lead_id"], out["owner_id"], moves)
    fact["rep_key"] = rep_keys(out["owner_id"], out["decided_at"], reps)
    for column in ("region", "territory", "industry", "seniority", "lead_source", "country"):
        fact[column] = lead[column].astype("string")
    fact["employees"] = pd.to_numeric(lead["employees"], errors="coerce").astype("Int64")
    # the one banding of company size (the conversion model's segments); null where employees is unknown
    fact["size_band"] = segments(fact).mask(fact["employees"].isna())
    fact["language"] = lead["language"].astype("string")
    fact["custom_fields"] = lead["custom_fields"]
    for column in ("lead_created_at", "decided_at", "first_touch_at", "speed_to_lead_min", "accepted",
                   "sla_breached", "reassigned", "wrong_assignment", "manual_triage", "opportunity", "won",
                   "closed"):  # fmt: skip
        fact[column] = out[column]
    deal = deals.set_index("lead_id").reindex(out["lead_id"]).reset_index(drop=True)
    fact["deal_id"] = deal["deal_id"].astype("string")
    fact["deal_stage"] = deal["stage"].astype("string")
    fact["deal_created_at"] = pd.to_datetime(deal["deal_created_at"], utc=True, format="mixed").astype(UTC_TS)
    fact["deal_close_date"] = pd.to_datetime(deal["close_date"]).astype("datetime64[us]")
    fact["deal_amount"] = pd.to_numeric(deal["amount"], errors="coerce").round(2)
    fact["deal_currency"] = currency_codes(deal["currency"])
    horizon = arrival + pd.Timedelta(days=recheck_days)
    fact["deal_final"] = (out["closed"] | (horizon <= pd.Timestamp(at))).to_numpy(dtype=bool)
    fact["days_to_opportunity"] = out["days_to_opportunity"]
    # the per-lead frame's currency and amount_date: the one rule of v_routed_leads (the close date, else arrival)
    fact["hindsight_tier"] = hindsight(out, rules, reasons=False, rates=rates)["hindsight"]
    fact["computed_at"] = pd.Timestamp(at)
    return fact


def deals_without_rate(fact: pd.DataFrame, rates: pd.DataFrame) -> int:
    """Deals of the fact frame priced in a currency that is not a base currency of rates (fx_rates' rows) and
    that no rate converts on its close date (else arrival date): v_routed_leads leaves their deal_amount_base
    null and hindsight judges them among their own currency's deals."""
    priced = fact[fact["deal_currency"].notna()]  # the deals, not every routed lead
    currency = currency_codes(priced["deal_currency"])
    foreign = ~currency.isin(currency_codes(rates["base_currency"]).dropna().unique())
    on = priced["deal_close_date"].fillna(priced["arrival_date"])
    converted = in_base_currency(priced["deal_amount"], currency, on, rates)["amount_base"].notna()
    return int((foreign & ~converted).sum())


def _day(stamps: pd.Series) -> pd.Series:
    """The UTC day of each stamp, as a naive datetime64 (dates stay vectorised until they are written)."""
    return stamps.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize().astype("datetime64[us]")


def owner_paths(lead_ids: pd.Series, first: pd.Series, moves: pd.DataFrame) -> pd.Series:
    """'first > second > …' per lead: the first owner, then each re-route's new owner in time order."""
    path = first.astype("string").fillna(NONE_LABEL).to_numpy(dtype=object)
    ordered = moves.dropna(subset=["new_owner_id"]).sort_values(["lead_id", "at"], kind="stable")
    position = pd.Index(lead_ids).get_indexer(ordered["lead_id"])
    found = position >= 0
    position, owners = position[found], ordered["new_owner_id"].to_numpy(dtype=object)[found]
    step = pd.Series(position).groupby(position).cumcount().to_numpy()
    for k in range(
        int(step.max()) + 1 if len(step) else 0
    ):  # one pass per re-route depth (a few), not per lead
        at = step == k
        path[position[at]] = path[position[at]] + " > " + owners[at]
    return pd.Series(path, index=lead_ids.index, dtype="string")


def rep_keys(owner_ids: pd.Series, decided_at: pd.Series, reps: pd.DataFrame) -> pd.Series:
    """The rep_key of each owner's dim_rep version valid at decided_at; an owner decided before the
    dimension first saw them gets their earliest version; an owner the roster never listed, <NA>."""
    left = pd.DataFrame(
        {"rep_id": owner_ids.astype("string"), "at": decided_at, "row": np.arange(len(owner_ids))}
    )
    if reps.empty:
        return pd.Series(pd.NA, index=owner_ids.index, dtype="Int64")
    versions = reps[["rep_id", "valid_from", "rep_key"]].assign(
        rep_id=lambda f: f["rep_id"].astype("string"),
        valid_from=lambda f: pd.to_datetime(f["valid_from"], utc=True).astype(UTC_TS),
    )
    known = left.dropna(subset=["rep_id", "at"]).sort_values("at")
    found = pd.merge_asof(
        known, versions.sort_values("valid_from"), left_on="at", right_on="valid_from", by="rep_id"
    )
    earliest = versions.sort_values("valid_from").drop_duplicates("rep_id").set_index("rep_id")["rep_key"]
    keys = found["rep_key"].fillna(found["rep_id"].map(earliest))
    out = pd.Series(pd.NA, index=range(len(owner_ids)), dtype="Int64")
    out.iloc[found["row"].to_numpy()] = keys.astype("Int64").to_numpy()
    return out.set_axis(owner_ids.index)


def rep_rows(roster: Roster, source: str) -> pd.DataFrame:
    """The rep dimension's attributes as the roster says now: one row per rep and per queue."""
    pools: dict[str, list[str]] = {}
    for pool in roster.pools:
        for member in pool.reps:
            pools.setdefault(member, []).append(pool.name)
    rows = [
        {
            "rep_id": rep.key,
            "kind": "rep",
            "name": rep.name,
            "email": rep.email,
            "role": rep.role,
            "team": getattr(rep, "team", None),  # the roster may not name teams
            "pools": _joined(pools.get(rep.key, []) + pools.get(rep.email, [])),
            "regions": _joined(rep.regions),
            "languages": _joined(getattr(rep, "languages", None) or []),
            "active": rep.active,
        }
        for rep in roster.reps
    ]
    rows += [
        {
            "rep_id": queue,
            "kind": "queue",
            "name": about,
            "pools": _joined(pools.get(queue, [])),
            "active": True,
        }
        for queue, about in roster.queues.items()
    ]
    frame = pd.DataFrame(rows).reindex(columns=["rep_id", *REP_ATTRIBUTES])
    return frame.assign(source=source)


def _joined(values: list[str]) -> str | None:
    return ",".join(sorted(set(values))) or None


def rep_changes(current: pd.DataFrame, wanted: pd.DataFrame) -> tuple[list[int], pd.DataFrame]:
    """SCD2: the rep_keys of current versions (valid_to null) to close — changed or gone from the roster —
    and the rows to insert as new versions (new, or changed)."""
    now = current.set_index("rep_id")[REP_ATTRIBUTES] if len(current) else None
    if now is None:
        return [], wanted
    target = wanted.set_index("rep_id")[REP_ATTRIBUTES]
    common = target.index.intersection(now.index)
    same = (_comparable(target.loc[common]) == _comparable(now.loc[common])).all(axis=1)
    changed = set(same.index[~same.to_numpy()])
    gone = set(now.index.difference(target.index))
    keys = current.loc[current["rep_id"].isin(changed | gone), "rep_key"].astype(int).tolist()
    inserts = wanted[wanted["rep_id"].isin(changed | set(target.index.difference(now.index)))]
    return sorted(keys), inserts.reset_index(drop=True)


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), "").astype(str)


def calendar(start: date, end: date, fiscal_start_month: int = 1) -> pd.DataFrame:
    """dim_calendar's rows from start to end (inclusive); the fiscal year starts on the first of
    fiscal_start_month and is named by the calendar year it ends in."""
    if not 1 <= fiscal_start_month <= 12:
        raise ValueError(f"fiscal year start month {fiscal_start_month!r}: give a month number from 1 to 12")
    days = pd.date_range(start, end, freq="D")
    shifted = days.month - fiscal_start_month  # months since the fiscal year began (negative: last year's)
    fiscal_year = days.year + (fiscal_start_month > 1) - (shifted < 0)
    fiscal_q = (shifted % 12) // 3 + 1
    return pd.DataFrame(
        {
            "date": days.date,
            "iso_week": (days - pd.to_timedelta(days.dayofweek, unit="D")).date,
            "month": days.to_period("M").to_timestamp().date,
            "quarter": days.year.astype(str) + "-Q" + days.quarter.astype(str),
            "year": days.year.astype("int64"),
            "day_of_week": (days.dayofweek + 1).astype("int64"),
            "fiscal_year": fiscal_year.astype("int64"),
            "fiscal_quarter": "FY" + fiscal_year.astype(str) + "-Q" + pd.Index(fiscal_q).astype(str),
            "fiscal_year_start_month": fiscal_start_month,
        }
    )


def snapshot(fact: pd.DataFrame, at: datetime) -> pd.DataFrame:
    """The day's headline counts per (dimension, value) over SNAPSHOT_DIMENSIONS (a missing value: '(none)'),
    with the median and 90th percentile speed to lead of touched leads."""
    moment = pd.Timestamp(at)
    arrival = fact["lead_created_at"].fillna(fact["decided_at"])
    base = fact.assign(
        # past its 90 days with a known hindsight tier (an undated opportunity has none): VIP precision's base
        matured=(
            (arrival + pd.Timedelta(days=HORIZON_DAYS) <= moment) & fact["hindsight_tier"].notna()
        ).to_numpy(),
        matured_vip=lambda f: f["matured"] & (f["hindsight_tier"] == Tier.VIP.value).fillna(False).to_numpy(),
    )
    flags = [c for c in SNAPSHOT_COUNTS.values() if c != "lead_id"]
    parts = []
    for dimension in SNAPSHOT_DIMENSIONS:
        value = base[dimension].astype("string").fillna(NONE_LABEL)
        grouped = base[flags].astype("int64").groupby(value.to_numpy())
        counts = grouped.sum().rename(columns={v: k for k, v in SNAPSHOT_COUNTS.items()})
        counts.insert(0, "leads", grouped.size())
        speed = base["speed_to_lead_min"].where(base["accepted"]).groupby(value.to_numpy())
        counts["speed_median_min"] = speed.median()
        counts["speed_p90_min"] = speed.quantile(0.9)
        parts.append(counts.rename_axis("value").reset_index().assign(dimension=dimension))
    out = pd.concat(parts, ignore_index=True)
    out["source"] = fact["source"].iloc[0] if len(fact) else None
    out["snapshot_date"] = moment.tz_convert("UTC").date()
    out["computed_at"] = moment
    columns = ["source", "snapshot_date", "dimension", "value", *SNAPSHOT_COUNTS, "speed_median_min",
               "speed_p90_min", "computed_at"]  # fmt: skip
    return out[columns]
