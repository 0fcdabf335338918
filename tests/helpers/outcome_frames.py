"""Per-lead outcome frames (LEAD_OUTCOME_COLUMNS) with known properties, for the report and feedback tests:
each segment of leads converts at an exact rate, so what a rule or a tier converts at is known beforehand."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from leadrouter.outcomes.join import LEAD_OUTCOME_COLUMNS, week_of

NOW = pd.Timestamp("2026-11-25 16:30", tz="UTC")


class Segment(NamedTuple):
    tier: str
    kind: str  # rule | model | review
    rule: str | None
    leads: int
    rate: float  # share of the segment's leads that became opportunities (exact)


# Standard converts at 15 % on average: std-fit at the average, std-hot at 3x it (the VIP tier's rate is the
# nearest), model-decided Standard leads below it so that the tier's average stays 15 %
SEGMENTS = [
    Segment("VIP", "rule", "vip-exec", 300, 0.50),
    Segment("VIP", "model", None, 100, 0.50),
    Segment("Standard", "rule", "std-fit", 800, 0.15),
    Segment("Standard", "rule", "std-hot", 100, 0.45),
    Segment("Standard", "model", None, 300, 0.05),
    Segment("Nurture", "rule", "nurture-small", 600, 0.03),
    Segment("Nurture", "review", None, 100, 0.03),
    Segment("Other", "rule", "spam", 200, 0.0),
]
OWNERS = ["005A", "005B", "005C", "<script>alert('rep')</script>"]


def outcome_frame(segments: list[Segment] = SEGMENTS, seed: int = 0, now: pd.Timestamp = NOW) -> pd.DataFrame:
    """Leads decided over the last 180 days; touched after a log-normal delay (a tenth never); opportunities
    worth 60-200k for VIP leads, 5-45k otherwise, within 80 days of the lead."""
    rng = np.random.default_rng(seed)
    parts = []
    for s in segments:
        converted = np.zeros(s.leads, dtype=bool)
        converted[: round(s.rate * s.leads)] = True
        parts.append(
            pd.DataFrame(
                {
                    "tier": s.tier,
                    "decided_kind": s.kind,
                    "rule": s.rule,
                    "decided_by": f"rule:{s.rule}" if s.kind == "rule" else f"{s.kind}:x",
                    "opportunity": rng.permutation(converted),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    n = len(frame)
    frame["source"] = "sandbox"
    frame["lead_id"] = [f"00Q{i:06d}" for i in range(n)]
    frame["owner_id"] = rng.choice(OWNERS, n)
    frame["decided_at"] = now - pd.to_timedelta(rng.uniform(0, 180 * 86_400, n).round(), unit="s")
    frame["lead_created_at"] = frame["decided_at"] - pd.Timedelta(seconds=20)
    frame["week"] = week_of(frame["decided_at"])
    speed = rng.lognormal(np.log(4.0), 1.2, n).round(2)
    touched = rng.random(n) > 0.1
    frame["speed_to_lead_min"] = np.where(touched, speed, np.nan)
    frame["first_touch_at"] = frame["lead_created_at"] + pd.to_timedelta(
        frame["speed_to_lead_min"], unit="min"
    )
    frame["accepted"] = touched
    frame["sla_breached"] = touched & (speed > 30)
    frame["reassigned"] = frame["sla_breached"] & (rng.random(n) < 0.5)
    frame["wrong_assignment"] = rng.random(n) < 0.03
    frame["manual_triage"] = frame["decided_kind"] == "review"
    frame["meeting"] = frame["opportunity"]
    vip = frame["tier"] == "VIP"
    frame["pipeline"] = np.where(
        frame["opportunity"],
        np.where(vip, rng.uniform(60_000, 200_000, n), rng.uniform(5_000, 45_000, n)),
        0.0,
    ).round()
    frame["closed"] = frame["opportunity"] & (rng.random(n) < 0.6)
    frame["won"] = frame["closed"] & (rng.random(n) < 0.5)
    frame["revenue"] = np.where(frame["won"], frame["pipeline"], 0.0)
    frame["currency"] = pd.NA  # the CRM's only currency
    frame["amount_date"] = (
        frame["lead_created_at"].dt.tz_localize(None).dt.normalize().where(frame["opportunity"])
    )
    frame["days_to_opportunity"] = np.where(frame["opportunity"], rng.uniform(1, 80, n).round(1), np.nan)
    frame.loc[frame["decided_kind"] != "rule", "rule"] = None
    return frame[list(LEAD_OUTCOME_COLUMNS)].astype(LEAD_OUTCOME_COLUMNS)
