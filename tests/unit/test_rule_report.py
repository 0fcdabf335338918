"""The rule report's re-tier suggestions: significant and large enough (LEADROUTER_RETIER_MIN_RATIO), on outcome
frames whose segments convert at exact rates."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from leadrouter.config import Settings
from leadrouter.outcomes.feedback import retier_candidates, rule_report
from tests.helpers.outcome_frames import SEGMENTS, Segment, outcome_frame

# Standard averages 98 %: a rule at 100 % is significantly above it (2,000 leads), and VIP's 99.5 % is nearer
NEAR_CERTAIN = [
    Segment("VIP", "rule", "vip-exec", 400, 0.995),
    Segment("Standard", "rule", "std-sure", 1000, 1.0),
    Segment("Standard", "model", None, 1000, 0.96),
    Segment("Nurture", "rule", "nurture-small", 600, 0.03),
]


def test_a_significant_but_tiny_difference_is_not_a_suggestion() -> None:
    frame = outcome_frame(NEAR_CERTAIN)
    without_minimum = rule_report(frame, min_ratio=1.0).set_index("rule")
    assert without_minimum.at["std-sure", "suggested_tier"] == "VIP"  # what a test alone would suggest
    report = rule_report(frame, min_ratio=1.5).set_index("rule")
    row = report.loc["std-sure"]
    assert (row["conversion"], row["tier_conversion"]) == (1.0, pytest.approx(0.98))
    assert row["ratio"] == pytest.approx(1 / 0.98)
    assert row["p_value"] < 0.05 and bool(row["significant"]) and not bool(row["large_effect"])
    assert pd.isna(row["suggested_tier"])
    assert retier_candidates(rule_report(frame, min_ratio=1.5)).empty


def test_a_rule_at_three_times_its_tier_passes_a_ratio_of_1_5_but_not_of_4(monkeypatch) -> None:
    frame = outcome_frame(SEGMENTS)
    assert list(retier_candidates(rule_report(frame))["rule"]) == ["std-hot"]  # the default: 1.5
    report = rule_report(frame).set_index("rule")
    assert bool(report.at["std-hot", "large_effect"]) and report.at["std-hot", "ratio"] == pytest.approx(3.0)
    monkeypatch.setenv("LEADROUTER_RETIER_MIN_RATIO", "4")
    assert retier_candidates(rule_report(frame)).empty
    assert bool(rule_report(frame).set_index("rule").at["std-hot", "significant"])


def test_a_rule_far_below_its_tier_is_a_large_effect_too() -> None:
    frame = outcome_frame([*SEGMENTS, Segment("VIP", "rule", "vip-cold", 300, 0.03)])
    report = rule_report(frame).set_index("rule")
    assert (
        bool(report.at["vip-cold", "large_effect"]) and report.at["vip-cold", "suggested_tier"] == "Nurture"
    )


@pytest.mark.parametrize("value", ["0.9", "0", "-2"])
def test_a_ratio_below_1_is_refused_at_load(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LEADROUTER_RETIER_MIN_RATIO", value)
    with pytest.raises(
        ValidationError, match=rf"LEADROUTER_RETIER_MIN_RATIO is {float(value)!r}: set a ratio of 1"
    ):
        Settings()
