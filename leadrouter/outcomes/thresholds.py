"""The seed's operating thresholds and which groups each one judges: response speed and SLA breaches only a
group of one tier's leads whose tier has a response SLA, speed against that tier's own minutes (VIP 5, Standard
30 in the seed's rulebook); nothing a queue, whose leads nobody is meant to touch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from leadrouter.classify.rules import ResponseSla, load_rulebook
from leadrouter.config import Settings
from leadrouter.schema import Tier


@dataclass(frozen=True)
class Threshold:
    metric: str
    op: str  # "<": passes below the limit; ">": passes above it
    limit: float
    label: str  # the seed's words

    def passes(self, figure: pd.Series) -> pd.Series:
        """True/False per figure; <NA> where there is nothing to judge (no touched lead, no leads)."""
        ok = figure < self.limit if self.op == "<" else figure > self.limit
        return pd.Series(ok, index=figure.index, dtype="boolean").mask(figure.isna())


# the seed's operating thresholds; the speed one's limit is each tier's own SLA (tier_speed)
THRESHOLDS: dict[str, Threshold] = {
    t.metric: t
    for t in (
        Threshold("speed_median_min", "<", 5.0, "first response < 5 min"),
        Threshold("wrong_assignment_rate", "<", 0.05, "wrong assignment < 5 %"),
        Threshold("manual_triage_rate", "<", 0.20, "manual triage < 20 %"),
        Threshold("acceptance_rate", ">", 0.60, "acceptance > 60 %"),
        Threshold("breach_rate", "<", 0.10, "SLA breach < 10 %"),
    )
}
TIMED = ("speed_median_min", "breach_rate")  # judged only where a response SLA runs
SPEED_LABEL = (
    "first response within the tier's SLA"  # a column judging several tiers, each by its own minutes
)
JUDGED_COLUMNS = ["op", "threshold", "target", "passes"]


def sla_minutes(sla: Mapping[Tier, ResponseSla]) -> dict[str, float]:
    """Tier name -> its response SLA in minutes (a rulebook's `sla`)."""
    return {Tier(t).value: float(s.minutes) for t, s in sla.items()}


def configured_minutes() -> dict[str, float]:
    """Tier name -> response SLA minutes of the configured rulebook (LEADROUTER_RULEBOOK_PATH): what every caller
    that passes no minutes is judged by."""
    return sla_minutes(load_rulebook(Settings().rulebook_path).sla)


def tier_speed(tier: str, minutes: float) -> Threshold:
    """The response speed threshold of one tier: its SLA's minutes."""
    return replace(THRESHOLDS["speed_median_min"], limit=minutes, label=f"first response < {minutes:g} min")


def thresholds_for(dimension: str, value: str, minutes: Mapping[str, float]) -> list[Threshold]:
    """The thresholds that judge one group of an analyst table. A group of one tier (dimension `tier`, or
    `rep:<tier>`) with a response SLA is judged on speed (its own minutes) and breaches too; reps are not judged on
    manual triage (a reviewer's choice, not theirs); queues on nothing."""
    kind, _, split = dimension.partition(":")
    if kind == "queue":
        return []
    tier = value if dimension == "tier" else split
    judged = [
        t
        for m, t in THRESHOLDS.items()
        if m not in TIMED and not (kind == "rep" and m == "manual_triage_rate")
    ]
    if tier in minutes:
        judged += [tier_speed(tier, minutes[tier]), THRESHOLDS["breach_rate"]]
    return judged


def judge(long: pd.DataFrame, minutes: Mapping[str, float]) -> pd.DataFrame:
    """A long frame (dimension, value, metric, figure) with each figure beside the threshold that judges it:
    op, threshold, target (the seed's words) and passes (<NA> without a threshold or a figure)."""
    pairs = long[["dimension", "value"]].drop_duplicates()
    rows = [
        (d, v, t.metric, t.op, t.limit, t.label)
        for d, v in pairs.itertuples(index=False)  # one per group (a few hundred), not per lead
        for t in thresholds_for(d, v, minutes)
    ]
    limits = pd.DataFrame(rows, columns=["dimension", "value", "metric", "op", "threshold", "target"])
    out = long.merge(limits.astype({"threshold": "float64"}), on=["dimension", "value", "metric"], how="left")
    figure, limit = out["figure"].astype("float64"), out["threshold"]
    judged = out["op"].notna() & figure.notna()
    ok = np.where(out["op"] == "<", figure < limit, figure > limit)
    out["passes"] = pd.Series(ok, index=out.index, dtype="boolean").where(judged)
    return out
