"""The outcome report's sentences: what a figure is counted over, and why a chart is left out ("no outcomes yet:
…") rather than drawn empty. Our own words around counts and dates; callers escape them for their output."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadrouter.outcomes import charts
from leadrouter.outcomes.join import HORIZON_DAYS, matured, vip_precision_recall
from leadrouter.schema import Tier

EMPTY = "–"


def pct(value: float | None) -> str:
    return EMPTY if value is None or pd.isna(value) else f"{value:.1%}"


def first_outcome_day(frame: pd.DataFrame) -> pd.Timestamp | None:
    """When the earliest lead's 90 days end, its outcome then final; None for no leads."""
    start = frame["lead_created_at"].fillna(frame["decided_at"]).min()
    return None if pd.isna(start) else start + pd.Timedelta(days=HORIZON_DAYS)


def no_outcomes(frame: pd.DataFrame, as_of: pd.Timestamp | None) -> str:
    """Why there is no outcome to chart: no leads, or none has become an opportunity (yet)."""
    if frame.empty:
        return "No routed leads in this period: nothing to chart."
    first = first_outcome_day(frame)
    leads = f"{len(frame):,} lead{'s' if len(frame) != 1 else ''}"
    if as_of is not None and first is not None and first > as_of:
        return (
            f"No outcomes yet: none of the {leads} has become an opportunity so far, and the first lead's "
            f"{HORIZON_DAYS} days end on {first:%Y-%m-%d}."
        )
    return f"No outcomes: none of the {leads} has become an opportunity, so there is nothing to chart."


def rep_table(tables: dict[str, pd.DataFrame]) -> tuple[str, pd.DataFrame]:
    """The reps' table and its name: `rep` where the outcome loop built one (each lead charged to every rep who
    had it, queues apart), else `owner_id` (each lead's owner: a backtest, or a report without SLA events)."""
    name = "rep" if "rep" in tables else "owner_id"
    return name, tables[name]


def chart_gaps(
    tables: dict[str, pd.DataFrame], frame: pd.DataFrame, as_of: pd.Timestamp | None
) -> dict[str, str]:
    """The charts that would be empty (axes with nothing on them), each with the sentence shown instead."""
    gaps: dict[str, str] = {}
    nothing = no_outcomes(frame, as_of)
    if not frame["opportunity"].any():
        gaps["conversion_by_tier.png"] = nothing
        gaps["by_week.png"] = nothing
    if frame["speed_to_lead_min"].isna().all():
        gaps["speed_to_lead.png"] = (
            "No lead has been touched yet: the chart fills as owners first act on their leads."
            if len(frame)
            else nothing
        )
    _, reps = rep_table(tables)
    if reps.empty or (not reps["accepted"].any() and reps["win_rate"].isna().all()):
        gaps["reps.png"] = (
            "No rep has accepted a lead or closed a deal yet: nothing to chart." if len(frame) else nothing
        )
    return gaps


def vip_note(frame: pd.DataFrame, as_of: pd.Timestamp | None, rates: pd.DataFrame | None = None) -> str:
    """VIP precision and recall (deal amounts converted through rates: fx_rates' rows), saying which leads they
    are counted over: those whose outcome is known."""
    vip = vip_precision_recall(frame, as_of, rates=rates)
    routed = int((frame["tier"] == Tier.VIP.value).fillna(False).sum())
    pending = len(frame) - len(matured(frame, as_of))
    if vip["leads"] == 0:
        first = first_outcome_day(frame)
        when = f"; the first lead's {HORIZON_DAYS} days end on {first:%Y-%m-%d}" if first is not None else ""
        return (
            "No VIP precision or recall yet: they are counted over leads whose outcome is known (their "
            f"{HORIZON_DAYS} days over), and none is yet. {routed:,} of the {len(frame):,} leads were routed as "
            f"VIP{when}."
        )
    over = (
        f"Counted over the {vip['leads']:,} leads whose outcome is known (their {HORIZON_DAYS} days over); "
        f"{pending:,} more, {routed - vip['routed_vip']:,} of them routed as VIP, are still within their "
        f"{HORIZON_DAYS} days."
        if as_of is not None
        else f"Counted over the {vip['leads']:,} leads with an outcome."
    )
    return (
        f"{over} Of the {vip['routed_vip']:,} of them routed as VIP, {vip['true_positives']:,} were VIPs in "
        f"hindsight (precision {pct(vip['precision'])}); of the {vip['hindsight_vip']:,} VIPs in hindsight, "
        f"the router called {vip['true_positives']:,} VIP (recall {pct(vip['recall'])})."
    )


def speed_note(frame: pd.DataFrame) -> str:
    speed = frame["speed_to_lead_min"].dropna()
    if speed.empty:
        return "No lead has been touched yet."
    limit = charts.FIRST_RESPONSE_MIN
    return (
        f"{(speed < limit).mean():.0%} of the {len(speed):,} touched leads were first touched within {limit:g} "
        f"minutes; median {speed.median():.1f} min, p90 {speed.quantile(0.9):.1f} min."
    )


def undated_note(frame: pd.DataFrame) -> str:
    """Which figures leave out opportunities without a date (an export's undated deals), or "" if none."""
    undated = int((frame["opportunity"] & frame["days_to_opportunity"].isna()).sum())
    if not undated:
        return ""
    return (
        f"{undated:,} of {int(frame['opportunity'].sum()):,} opportunities have no date. Days to opportunity, "
        "whether it came within 90 days, the tier in hindsight, VIP precision and recall and Nurture leads that "
        "turned hot cannot be given for them and leave them out; counts, pipeline and win rates include them."
    )


def heading(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No routed leads in this period."
    first, last = frame["decided_at"].min(), frame["decided_at"].max()
    return f"{len(frame):,} routed leads decided from {first:%Y-%m-%d} to {last:%Y-%m-%d} (UTC)."


def conversion(opportunities: pd.Series, leads: pd.Series) -> pd.Series:
    """Opportunities per lead (NaN for no leads)."""
    return opportunities / leads.replace(0, np.nan)
