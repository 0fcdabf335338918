"""Feedback from sales results: the rules whose leads convert far from their tier (candidates to re-tier), and
the outcome labels the local model retrains on. Pure pandas over the per-lead outcome frame."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from leadrouter.config import Settings
from leadrouter.outcomes.hindsight import hindsight
from leadrouter.outcomes.join import matured
from leadrouter.schema import TIERS, Category, Tier

MIN_RULE_LEADS = 30  # fewer leads than this: a rule's (or a tier's) conversion is too noisy to judge
ALPHA = 0.05  # family-wise: Bonferroni over the rules tested
WILSON_Z = 1.96  # the 95 % interval shown beside each rule

RULE_REPORT_COLUMNS = {
    "rule": "string",
    "tier": "string",
    "leads": "int64",
    "opportunities": "int64",
    "conversion": "float64",  # opportunity rate
    "conversion_low": "float64",  # its 95 % Wilson interval
    "conversion_high": "float64",
    "tier_conversion": "float64",  # the average of all the tier's leads (rules, model and reviewers)
    "ratio": "float64",  # conversion / tier_conversion
    "p_value": "float64",  # two-proportion z-test against the rest of the tier, Bonferroni-adjusted
    "significant": "bool",
    "large_effect": "bool",  # ratio at least min_ratio, or at most 1 / min_ratio
    "suggested_tier": "string",  # significant, a large effect, and another tier's average is nearer than its own
}
LABEL_COLUMNS = ["lead_id", "tier", "category", "decided_by", "label_source"]


def rule_report(
    frame: pd.DataFrame, min_leads: int = MIN_RULE_LEADS, alpha: float = ALPHA, min_ratio: float | None = None
) -> pd.DataFrame:
    """Per rule: leads, opportunity rate and its Wilson interval, its tier's average, a two-proportion test
    against the rest of the tier, and a suggested tier (the tier whose average is nearest) for rules that
    convert significantly and markedly unlike their tier (a conversion ratio of at least min_ratio, or at most
    its inverse; default LEADROUTER_RETIER_MIN_RATIO) and nearer another one. Candidates first, then by
    p-value."""
    min_ratio = min_ratio if min_ratio is not None else Settings().retier_min_ratio
    ruled = frame[
        (frame["decided_kind"].eq("rule") & frame["rule"].notna() & frame["tier"].notna()).to_numpy()
    ]
    if ruled.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in RULE_REPORT_COLUMNS.items()})
    converted = frame["opportunity"].astype(bool)
    tiers = converted.groupby(frame["tier"].astype("string")).agg(["size", "sum"])
    rules = (
        converted[ruled.index]
        .groupby([ruled["rule"].astype("string"), ruled["tier"].astype("string")])
        .agg(["size", "sum"])
        .rename(columns={"size": "leads", "sum": "opportunities"})
        .reset_index()
    )
    n, x = rules["leads"].to_numpy(float), rules["opportunities"].to_numpy(float)
    tier_n = tiers["size"].reindex(rules["tier"]).to_numpy(float)
    tier_x = tiers["sum"].reindex(rules["tier"]).to_numpy(float)
    # the test compares the rule with the rest of its tier: a rule must not be compared with itself
    tested = (n >= min_leads) & (tier_n - n >= min_leads)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate, tier_rate = x / n, tier_x / tier_n
        p_raw = _two_proportion_p(x, n, tier_x - x, tier_n - n)
    p_value = np.where(tested, np.minimum(p_raw * max(int(tested.sum()), 1), 1.0), np.nan)
    significant = tested & (p_value < alpha)
    # significance alone is not enough: 100 % against 98 % over thousands of leads is significant, and no reason
    # to move a rule; a rate against a tier average of 0 (or a rule at 0 against one above) is a large effect
    large = ((rate >= tier_rate * min_ratio) | (rate * min_ratio <= tier_rate)) & (rate != tier_rate)
    nearest = _nearest_tier(rate, tiers, min_leads)
    moved = significant & large & nearest.ne(rules["tier"]).fillna(False).to_numpy(bool)
    report = rules.assign(
        conversion=rate,
        conversion_low=wilson_interval(x, n)[0],
        conversion_high=wilson_interval(x, n)[1],
        tier_conversion=tier_rate,
        ratio=rate / np.where(tier_rate > 0, tier_rate, np.nan),
        p_value=p_value,
        significant=significant,
        large_effect=large,
        suggested_tier=nearest.where(moved),
        moved=moved,
    )
    report = report.sort_values(
        ["moved", "p_value", "rule"], ascending=[False, True, True], na_position="last", ignore_index=True
    )
    return report[list(RULE_REPORT_COLUMNS)].astype(RULE_REPORT_COLUMNS)


def retier_candidates(report: pd.DataFrame) -> pd.DataFrame:
    """The rules of a rule_report that should move to another tier."""
    return report[report["suggested_tier"].notna().to_numpy()].reset_index(drop=True)


def wilson_interval(x: np.ndarray, n: np.ndarray, z: float = WILSON_Z) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of x successes in n trials (sound at small n and at rates near 0 or 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    # clipped: at x = 0 or x = n rounding leaves a bound a hair outside [0, 1] ("-0.0%")
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _two_proportion_p(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Two-sided p-value of the pooled two-proportion z-test (nan where a side is empty or both are 0 or 1)."""
    pooled = (x1 + x2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (x1 / n1 - x2 / n2) / np.where(se > 0, se, np.nan)
    # erfc per rule (a handful), not per lead: scipy.stats would add seconds to every CLI start
    return np.vectorize(math.erfc, otypes=[float])(np.abs(z) / math.sqrt(2))


def _nearest_tier(rate: np.ndarray, tiers: pd.DataFrame, min_leads: int) -> pd.Series:
    """For each rate, the tier whose average conversion is nearest (ties: the earlier tier in business order).
    Tiers with fewer than min_leads leads are no reference."""
    known = tiers[tiers["size"] >= min_leads]
    names = np.array(sorted(known.index, key=_tier_rank), dtype=object)
    if not len(names) or not len(rate):
        return pd.Series(pd.NA, index=range(len(rate)), dtype="string")
    averages = (known["sum"] / known["size"]).reindex(names).to_numpy(float)
    distance = np.nan_to_num(np.abs(averages[None, :] - rate[:, None]), nan=np.inf)
    picked = pd.Series(names[distance.argmin(axis=1)], dtype="string")
    return picked.mask(np.isinf(distance.min(axis=1)))


def _tier_rank(tier: str) -> int:
    return TIERS.index(tier) if tier in TIERS else len(TIERS)


def conclusive(frame: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Leads whose outcome is settled: an opportunity exists, or their 90 days passed without one."""
    return frame["opportunity"].astype(bool) | frame.index.isin(matured(frame, as_of).index)


def label_tier(frame: pd.DataFrame, rates: pd.DataFrame | None = None) -> pd.Series:
    """The tier a lead teaches the local model, from its hindsight tier (leadrouter.outcomes.hindsight): the
    same, except that a lead with no opportunity is Nurture, not Other. Its Other says "never engaged", while
    the model's Other is a non-sales lead (support, jobs, press, spam): a sales lead that never bought stays a
    sales lead, at the lowest sales tier. rates: fx_rates' rows, for the VIP cut across currencies."""
    tiers = hindsight(frame, reasons=False, rates=rates)["hindsight"]
    silent = tiers.eq(Tier.OTHER.value).fillna(False) & ~frame["opportunity"].astype(bool)
    return tiers.mask(silent, Tier.NURTURE.value).rename("hindsight")


def outcome_labels(
    frame: pd.DataFrame,
    labels: pd.DataFrame,
    as_of: pd.Timestamp | None = None,
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Training labels corrected by what the leads became. `labels` is decided_labels() (lead_id, tier,
    category, decided_by); where the outcome is conclusive, the hindsight tier replaces a rule's label, and
    leads the model decided join as examples (the outcome is not the model's own answer). Reviewers' labels
    stand; so does Other for a lead that never became an opportunity (no deal says nothing about it being press
    or spam). A lead with no opportunity is labelled Nurture (label_tier). label_source says where each final
    label came from: rule | review | outcome. rates: fx_rates' rows (label_tier)."""
    as_of = as_of if as_of is not None else pd.Timestamp.now(tz="UTC")
    no_deal = ~frame["opportunity"].astype(bool)
    settled = (
        conclusive(frame, as_of) & ~(frame["tier"].eq(Tier.OTHER.value).fillna(False) & no_deal)
    ).to_numpy()
    outcome = pd.DataFrame(
        {
            "lead_id": frame["lead_id"].astype("string"),
            "hindsight": label_tier(frame, rates),
            "decider": frame["decided_by"].astype("string"),
        }
    )[settled].drop_duplicates("lead_id")
    by_review = labels["decided_by"].astype("string").str.startswith("review:").fillna(False)
    base = labels.astype({c: "string" for c in LABEL_COLUMNS[:4]}).assign(
        label_source=pd.array(np.where(by_review, "review", "rule"), dtype="string")
    )
    merged = base.merge(outcome, on="lead_id", how="outer")
    # NA label_source: a lead only the outcome labels (the model decided it)
    override = merged["hindsight"].notna() & merged["label_source"].ne("review").fillna(True)
    changed = override & merged["hindsight"].ne(merged["tier"]).fillna(True)
    became_sales = override & merged["tier"].eq(Tier.OTHER.value).fillna(True)
    merged["label_source"] = merged["label_source"].mask(changed, "outcome")
    merged["category"] = merged["category"].mask(became_sales, Category.SALES.value)
    merged["tier"] = merged["tier"].mask(override, merged["hindsight"])
    merged["decided_by"] = merged["decided_by"].fillna(merged["decider"])
    # a lead the store knows no category for (a model decision whose outcome kept its tier) teaches nothing
    merged = merged.dropna(subset=["tier", "category"])
    return merged[LABEL_COLUMNS].sort_values("lead_id", ignore_index=True)
