"""The outcome report as a VP reads it: pass/fail as words, intervals inside [0, 1], a sentence where a chart
would be empty, every row named, VIP precision and recall over the leads whose outcome is known."""

from __future__ import annotations

from pathlib import Path

import markupsafe
import numpy as np
import pandas as pd
import pytest

from leadrouter.classify.rules import load_rulebook
from leadrouter.config import Settings
from leadrouter.outcomes.display import hot_table, rule_table, tier_threshold_table
from leadrouter.outcomes.feedback import rule_report, wilson_interval
from leadrouter.outcomes.join import analyst_tables
from leadrouter.outcomes.report import report_markdown, write_report
from leadrouter.schema import Tier
from tests.helpers.outcome_frames import NOW, outcome_frame


def fresh_frame(days: int = 10, in_review: int = 5) -> pd.DataFrame:
    """A new install: the last `days` days of routing, no lead an opportunity yet, the first `in_review` leads
    still in the review queue (no tier, no owner)."""
    frame = outcome_frame()
    frame = frame[(frame["decided_at"] > NOW - pd.Timedelta(days=days)).to_numpy()].reset_index(drop=True)
    frame = frame.assign(
        opportunity=False, won=False, closed=False, pipeline=0.0, revenue=0.0, days_to_opportunity=np.nan
    )
    frame.loc[: in_review - 1, ["tier", "owner_id"]] = pd.NA
    return frame


def first_outcome_day(frame: pd.DataFrame) -> str:
    return f"{frame['lead_created_at'].min() + pd.Timedelta(days=90):%Y-%m-%d}"


def test_pass_and_fail_are_words_that_render_in_any_font() -> None:
    frame = outcome_frame()
    shown = tier_threshold_table(analyst_tables(frame), frame).set_index("tier")
    limits = load_rulebook(Settings().rulebook_path).sla  # each tier by its own SLA: VIP 5 min, Standard 30
    assert {t.value: s.minutes for t, s in limits.items()} == {"VIP": 5, "Standard": 30}
    for tier in ("VIP", "Standard", "Nurture", "Other"):
        median = frame.loc[frame["tier"] == tier, "speed_to_lead_min"].median()
        sla = limits.get(Tier(tier))
        verdict = "" if sla is None else " pass" if median < sla.minutes else " FAIL"
        assert shown.at[tier, "first response within the tier's SLA"] == f"{median:.1f} min{verdict}", tier
    assert shown.at["all", "first response within the tier's SLA"].endswith(" min")  # all tiers: no one bar
    markdown = report_markdown(analyst_tables(frame), frame, as_of=NOW)
    assert not {"✅", "❌"} & set(markdown)


def test_an_interval_of_no_successes_starts_at_zero_not_minus_zero() -> None:
    low, high = wilson_interval(np.array([0.0, 46.0]), np.array([46.0, 46.0]))
    assert low[0] == 0.0 and not np.signbit(low[0]) and high[1] == 1.0
    assert high[0] == pytest.approx(1.96**2 / (46 + 1.96**2), rel=1e-3)  # the closed form at x = 0
    frame = fresh_frame()
    rules = rule_report(frame).set_index("rule")
    shown = rule_table(rule_report(frame)).set_index("rule")
    for rule in rules.index:
        n = int(rules.at[rule, "leads"])
        assert shown.at[rule, "conversion (95 % interval)"] == f"0.0% (0.0%–{1.96**2 / (n + 1.96**2):.1%})"
    assert "-0.0%" not in report_markdown(analyst_tables(frame), frame, as_of=NOW)


def test_charts_with_nothing_to_show_are_a_sentence_saying_why(tmp_path: Path) -> None:
    frame = fresh_frame()
    why = (
        f"No outcomes yet: none of the {len(frame)} leads has become an opportunity so far, and the first "
        f"lead's 90 days end on {first_outcome_day(frame)}."
    )
    page = write_report(analyst_tables(frame), frame, tmp_path, as_of=NOW).read_text()
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["reps.png", "speed_to_lead.png"]
    assert (
        page.count(f'<p class="gap">{markupsafe.escape(why)}</p>') == 2
    )  # conversion by tier, pipeline by week
    markdown = report_markdown(analyst_tables(frame), frame, as_of=NOW, embed_png=True)
    assert markdown.count(f"*{why}*") == 2
    assert markdown.count("data:image/png") == 2 and markdown.count("```text") == 1  # speed to lead drawn
    untouched = frame.assign(speed_to_lead_min=np.nan, first_touch_at=pd.NaT, accepted=False)
    page = write_report(analyst_tables(untouched), untouched, tmp_path / "untouched", as_of=NOW).read_text()
    assert "No lead has been touched yet: the chart fills as owners first act on their leads." in page
    assert "No rep has accepted a lead or closed a deal yet: nothing to chart." in page
    assert not list((tmp_path / "untouched").glob("*.png"))


def test_leads_without_a_tier_or_an_owner_are_a_named_row(tmp_path: Path) -> None:
    frame = fresh_frame(in_review=5)
    markdown = report_markdown(analyst_tables(frame), frame, as_of=NOW)
    assert "(none)" not in markdown
    assert "| quarantined / in review | 5 | 0 | 0.0% |" in markdown
    # the tier rows come last before "all", after the four tiers
    rows = [line.split(" | ")[0][2:] for line in markdown.splitlines() if line.startswith("| ")]
    assert rows[1:7] == ["VIP", "Standard", "Nurture", "Other", "quarantined / in review", "all"]
    assert "| no owner yet \\(in review\\) | 5 |" in markdown
    write_report(analyst_tables(frame), frame, tmp_path, as_of=NOW)
    assert pd.read_csv(tmp_path / "by_tier.csv").set_index("tier").at["quarantined / in review", "leads"] == 5
    by_rule = pd.read_csv(tmp_path / "by_rule.csv").set_index("rule")["leads"]
    assert by_rule["no rule (model or review)"] == frame["rule"].isna().sum() > 0
    assert "(none)" not in "".join(p.read_text() for p in tmp_path.glob("*.csv"))


def test_vip_figures_wait_for_leads_with_an_outcome_and_say_so() -> None:
    frame = fresh_frame()
    vip = int((frame["tier"] == "VIP").sum())
    markdown = report_markdown(analyst_tables(frame), frame, as_of=NOW)
    assert (
        "No VIP precision or recall yet: they are counted over leads whose outcome is known \\(their 90 days "
        f"over\\), and none is yet. {vip} of the {len(frame)} leads were routed as VIP; the first lead's 90 "
        f"days end on {first_outcome_day(frame)}."
    ) in markdown
    assert "Of 0 leads" not in markdown


def test_vip_figures_count_the_leads_past_their_90_days() -> None:
    frame = outcome_frame()
    known = frame[(frame["lead_created_at"] + pd.Timedelta(days=90) <= NOW).to_numpy()]
    called = known["tier"] == "VIP"
    # VIP in hindsight: at least the 80th percentile of all the won deals' amounts, by hand
    cut = np.percentile(frame.loc[frame["won"] & frame["opportunity"], "pipeline"], 80)
    truly = known["opportunity"] & (known["days_to_opportunity"] <= 90) & (known["pipeline"] >= cut)
    hits = int((called & truly).sum())
    routed = int((frame["tier"] == "VIP").sum())
    expected = (
        f"Counted over the {len(known):,} leads whose outcome is known \\(their 90 days over\\); "
        f"{len(frame) - len(known):,} more, {routed - int(called.sum()):,} of them routed as VIP, are still within "
        f"their 90 days. Of the {int(called.sum()):,} of them routed as VIP, {hits:,} were VIPs in hindsight "
        f"\\(precision {hits / called.sum():.1%}\\); of the {int(truly.sum()):,} VIPs in hindsight, the router "
        f"called {hits:,} VIP \\(recall {hits / truly.sum():.1%}\\)."
    )
    assert expected in report_markdown(analyst_tables(frame), frame, as_of=NOW)


def test_nurture_that_turned_hot_shows_each_deals_currency_beside_its_amount() -> None:
    hot = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "owner_id": ["rep-a", "rep-b", None],
            "decided_by": ["rule:newsletter", "model", "rule:newsletter"],
            "days_to_opportunity": [3.0, 40.0, 88.0],
            "pipeline": [12_000.0, 9_500.0, 700.0],
            "currency": ["USD", "EUR", None],
        }
    )
    table = hot_table(hot)
    assert table["pipeline"].tolist() == ["12,000", "9,500", "700"]
    assert table["currency"].tolist() == ["USD", "EUR", ""]
    assert "currency" not in hot_table(hot.drop(columns="currency")).columns
