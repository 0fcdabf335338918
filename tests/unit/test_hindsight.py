"""Hindsight tiers on a hand-built frame: each rule, its reason, the VIP cut by share or by amount."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from leadrouter.config import Settings
from leadrouter.outcomes.hindsight import (
    HindsightRules,
    by_tier,
    configured_rules,
    converted,
    hindsight,
    vip_cut,
    vip_rule,
)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": list("ABCDEFGH"),
            "tier": ["VIP", "Standard", "Nurture", "Standard", "Nurture", "Other", "Nurture", None],
            "opportunity": [True, True, True, True, False, False, False, True],
            "days_to_opportunity": [10.4, 30.0, 5.0, 120.0, np.nan, np.nan, np.nan, np.nan],
            "pipeline": [100_000.0, 50_000.0, 20_000.0, 90_000.0, 0.0, 0.0, 0.0, 10_000.0],
            "won": [True, True, True, False, False, False, False, False],
            "category": ["sales", "sales", "sales", "sales", "sales", "support", None, "sales"],
            "reengaged": [False, False, False, False, True, False, False, False],
        }
    )


def test_each_rule_gives_its_tier_and_reason() -> None:
    frame = _frame()
    # won amounts 20k, 50k, 100k: their 80th percentile is 80k
    assert vip_cut(frame) == 80_000.0
    out = hindsight(frame)
    assert out["hindsight"].fillna("?").tolist() == [
        "VIP", "Standard", "Standard", "Nurture", "Nurture", "Other", "Other", "?",
    ]  # fmt: skip
    assert out["hindsight_reason"].tolist() == [
        "opportunity on day 10 worth 100,000 (top 20% of won deals: at least 80,000)",
        "opportunity on day 30 worth 50,000 (under the VIP cut, 80,000)",
        "opportunity on day 5 worth 20,000 (under the VIP cut, 80,000)",
        "opportunity on day 120 worth 90,000 (after 90 days)",
        "no opportunity; re-engaged",
        "no opportunity; category support",
        "no opportunity, never re-engaged",
        "opportunity without a date: within 90 days or not is unknown",
    ]
    assert converted(out["hindsight"]).astype("object").fillna("?").tolist() == [
        True, True, True, False, False, False, False, "?",
    ]  # fmt: skip


def test_an_absolute_amount_sets_the_cut() -> None:
    out = hindsight(_frame(), HindsightRules(vip_amount=20_000))
    assert out["hindsight"].fillna("?").tolist()[:4] == ["VIP", "VIP", "VIP", "Nurture"]
    assert out["hindsight_reason"].iat[2] == "opportunity on day 5 worth 20,000 (at least 20,000)"


def test_without_category_or_reengagement_no_deal_is_never_engaged() -> None:
    out = hindsight(_frame().drop(columns=["category", "reengaged"]))
    assert out["hindsight"].tolist()[4:7] == ["Other", "Other", "Other"]


def test_a_bad_share_is_refused() -> None:
    with pytest.raises(ValueError, match=r"vip_share 1\.5 must be above 0"):
        HindsightRules(vip_share=1.5)


def test_the_setting_moves_the_vip_cut_for_every_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    # won amounts 20k, 50k, 100k: the top half starts at their median, 50k
    monkeypatch.setenv("LEADROUTER_HINDSIGHT_VIP_SHARE", "0.5")
    assert configured_rules() == HindsightRules(vip_share=0.5)
    assert vip_cut(_frame()) == 50_000.0
    out = hindsight(_frame())
    assert out["hindsight"].fillna("?").tolist()[:4] == ["VIP", "VIP", "Standard", "Nurture"]
    assert (
        out["hindsight_reason"].iat[1]
        == "opportunity on day 30 worth 50,000 (top 50% of won deals: at least 50,000)"
    )
    assert vip_rule() == "an opportunity within 90 days in the top 50% of won deals by amount"
    # an amount, when set, is the cut itself: 20,000 makes the 20k deal a VIP too
    monkeypatch.setenv("LEADROUTER_HINDSIGHT_VIP_AMOUNT", "20000")
    assert vip_cut(_frame()) == 20_000.0
    assert hindsight(_frame())["hindsight"].fillna("?").tolist()[:4] == ["VIP", "VIP", "VIP", "Nurture"]
    assert vip_rule() == "an opportunity within 90 days worth at least 20,000"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LEADROUTER_HINDSIGHT_VIP_SHARE", "0", "LEADROUTER_HINDSIGHT_VIP_SHARE is 0.0: set a share above 0"),
        (
            "LEADROUTER_HINDSIGHT_VIP_SHARE",
            "1.5",
            "LEADROUTER_HINDSIGHT_VIP_SHARE is 1.5: set a share above 0",
        ),
        (
            "LEADROUTER_HINDSIGHT_VIP_AMOUNT",
            "-5",
            "LEADROUTER_HINDSIGHT_VIP_AMOUNT is -5.0: set an amount of 0",
        ),
    ],
)
def test_a_bad_vip_setting_is_refused_at_load(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_routed_against_hindsight_with_conversion() -> None:
    frame = _frame().join(hindsight(_frame()))
    table = by_tier(frame).set_index("routed")
    assert table.loc["Nurture", ["Standard", "Nurture", "Other", "leads"]].tolist() == [1, 1, 1, 3]
    assert table.loc["Nurture", "conversion"] == pytest.approx(1 / 3, abs=1e-4)
    assert table.loc["(review)", "(undated deal)"] == 1
    assert pd.isna(table.loc["(review)", "conversion"])


def _priced() -> pd.DataFrame:
    """Won deals within 90 days in USD, EUR and GBP (EUR has a rate to USD, GBP none), one open USD deal."""
    return pd.DataFrame(
        {
            "opportunity": [True] * 7,
            "days_to_opportunity": [10.0] * 7,
            "pipeline": [100_000.0, 10_000.0, 90_000.0, 50_000.0, 900_000.0, 100_000.0, 95_000.0],
            "won": [True, True, True, True, True, True, False],
            "currency": ["USD", "USD", "EUR", "EUR", "GBP", "GBP", "USD"],
            "amount_date": pd.to_datetime(["2026-05-01"] * 7),
        }
    )


RATES = pd.DataFrame({"currency": ["EUR"], "valid_from": [pd.Timestamp("2026-01-01")], "base_currency": ["USD"],
                      "rate": [2.0]})  # fmt: skip


def test_amounts_in_other_currencies_convert_through_the_rates_before_the_cut() -> None:
    out = hindsight(_priced(), HindsightRules(vip_share=0.5), rates=RATES)
    # won in USD: 100k, 10k, 180k and 100k (the EUR ones at 2.0): the median, 100k, is the cut
    assert out["hindsight"].tolist()[:4] == ["VIP", "Standard", "VIP", "VIP"]
    assert out["hindsight_reason"].iat[2] == (
        "opportunity on day 10 worth 180,000 (top 50% of won deals: at least 100,000 USD)"
    )
    assert out["hindsight"].iat[6] == "Standard"  # 95k USD, open: under the USD cut


def test_a_currency_without_a_rate_is_judged_among_its_own_deals_and_said_so() -> None:
    out = hindsight(_priced(), HindsightRules(vip_share=0.5), rates=RATES)
    # GBP won 900k and 100k: their own median, 500k, never the USD cut
    assert out["hindsight"].tolist()[4:6] == ["VIP", "Standard"]
    assert out["hindsight_reason"].iat[5] == (
        "opportunity on day 10 worth 100,000 (under the VIP cut, 500,000 GBP, among GBP deals: "
        "GBP has no rate in fx_rates)"
    )


def test_without_rates_every_currency_has_its_own_cut() -> None:
    out = hindsight(_priced(), HindsightRules(vip_share=0.5))
    # USD won 100k, 10k: cut 55k; EUR won 90k, 50k: cut 70k; GBP: 500k
    assert out["hindsight"].tolist() == ["VIP", "Standard", "VIP", "Standard", "VIP", "Standard", "VIP"]


def test_an_absolute_amount_is_in_the_base_currency_and_not_applied_to_an_unconverted_one() -> None:
    out = hindsight(_priced(), HindsightRules(vip_amount=95_000), rates=RATES)
    assert out["hindsight"].tolist() == ["VIP", "Standard", "VIP", "VIP", "VIP", "Standard", "VIP"]
    assert "top 20% of won deals: at least 740,000 GBP, among GBP deals" in out["hindsight_reason"].iat[4]


def test_converting_needs_the_day_each_amount_converts_on() -> None:
    with pytest.raises(ValueError, match="amount_date"):
        hindsight(_priced().drop(columns="amount_date"), rates=RATES)
