"""The outcome report (markdown artifact, HTML with PNG charts, `leadrouter report`) and the feedback it gives:
the rules to re-tier and the outcome labels the local model retrains on."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from commands.main import app
from leadrouter.outcomes.feedback import outcome_labels, retier_candidates, rule_report
from leadrouter.outcomes.join import analyst_tables, headline
from leadrouter.outcomes.report import report_markdown, write_report
from leadrouter.outcomes.tables import long_metrics
from leadrouter.store import open_store
from leadrouter.store.outcomes import replace_analyst_tables
from tests.helpers.outcome_frames import NOW, SEGMENTS, Segment, outcome_frame

HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return outcome_frame()


def nearest_tier(frame: pd.DataFrame, rate: float) -> str:
    """Ground truth for a suggestion: the tier whose average opportunity rate is nearest to `rate`."""
    averages = frame.groupby("tier")["opportunity"].mean()
    return str((averages - rate).abs().idxmin())


def test_a_rule_converting_at_three_times_its_tier_is_a_candidate_for_the_nearest_tier(frame) -> None:
    report = rule_report(frame).set_index("rule")
    ruled = frame[frame["decided_kind"] == "rule"]
    hot_rate = ruled.loc[ruled["rule"] == "std-hot", "opportunity"].mean()
    standard_rate = frame.loc[frame["tier"] == "Standard", "opportunity"].mean()
    assert hot_rate == pytest.approx(3 * standard_rate)  # the frame is what it claims
    expected = nearest_tier(frame, hot_rate)
    assert expected != "Standard"
    assert report.at["std-hot", "suggested_tier"] == expected
    assert report.at["std-hot", "ratio"] == pytest.approx(hot_rate / standard_rate)
    assert report.at["std-hot", "conversion_low"] < hot_rate < report.at["std-hot", "conversion_high"]
    # std-fit converts at its tier's average: tested, not significant, no suggestion
    assert report.at["std-fit", "conversion"] == pytest.approx(standard_rate)
    assert not report.at["std-fit", "significant"] and pd.isna(report.at["std-fit", "suggested_tier"])
    assert list(retier_candidates(rule_report(frame))["rule"]) == ["std-hot"]
    assert report["leads"].sum() == len(ruled)


def test_a_rule_with_too_few_leads_is_not_judged() -> None:
    frame = outcome_frame([*SEGMENTS, Segment("Standard", "rule", "tiny-hot", 12, 0.9)])
    report = rule_report(frame, min_leads=30).set_index("rule")
    assert report.at["tiny-hot", "leads"] == 12
    assert pd.isna(report.at["tiny-hot", "p_value"]) and pd.isna(report.at["tiny-hot", "suggested_tier"])
    assert report.at["std-hot", "suggested_tier"] == nearest_tier(frame, 0.45)


def decided_labels_of(frame: pd.DataFrame) -> pd.DataFrame:
    """What decided_labels() reads from the ledger: the leads a rule or a reviewer decided."""
    people = frame[frame["decided_kind"].isin(["rule", "review"])]
    category = np.where(people["tier"] == "Other", "spam", "sales")
    return pd.DataFrame(
        {
            "lead_id": people["lead_id"],
            "tier": people["tier"],
            "category": category,
            "decided_by": people["decided_by"],
        }
    )


def test_outcome_labels_replace_rule_labels_where_the_outcome_is_conclusive(frame) -> None:
    labels = outcome_labels(frame, decided_labels_of(frame), as_of=NOW).set_index("lead_id")
    # the ground truth, written out independently of leadrouter.outcomes.hindsight: VIP from the 80th percentile
    # of the won deals' amounts; a lead without an opportunity teaches Nurture
    old = (frame["lead_created_at"] <= NOW - pd.Timedelta(days=90)).to_numpy()
    cut = np.percentile(frame.loc[frame["won"] & frame["opportunity"], "pipeline"], 80)
    settled = (frame["opportunity"].to_numpy() | old) & ~(
        (frame["tier"] == "Other") & ~frame["opportunity"]
    ).to_numpy()
    in_time = frame["opportunity"] & (frame["days_to_opportunity"] <= 90)
    truth = np.where(in_time & (frame["pipeline"] >= cut), "VIP", np.where(in_time, "Standard", "Nurture"))
    kind = frame["decided_kind"].to_numpy()
    expected = pd.Series(np.where(settled & (kind != "review"), truth, frame["tier"]), index=frame["lead_id"])
    expected = expected[(kind != "model") | settled]  # model decisions join only with a conclusive outcome
    assert sorted(labels.index) == sorted(expected.index)
    assert (labels["tier"] == expected.reindex(labels.index)).all()
    changed = labels["tier"].ne(frame.set_index("lead_id")["tier"].reindex(labels.index))
    added = pd.Index(frame.loc[(kind == "model") & settled, "lead_id"])
    assert changed.sum() > 50 and len(added) > 20  # the frame exercises both
    outcome = labels["label_source"] == "outcome"
    assert (outcome == (changed | labels.index.isin(added))).all()
    assert (labels.loc[frame.loc[kind == "review", "lead_id"], "label_source"] == "review").all()
    # an Other lead that became an opportunity is a sales lead in hindsight
    other_hot = frame.loc[(frame["tier"] == "Other") & frame["opportunity"], "lead_id"]
    assert (labels.loc[other_hot, "category"] == "sales").all()


def test_no_outcome_yet_leaves_the_labels_as_decided(frame) -> None:
    decided = decided_labels_of(frame)
    labels = outcome_labels(frame.iloc[:0], decided, as_of=NOW)
    assert len(labels) == len(decided) and set(labels["label_source"]) <= {"rule", "review"}
    assert (labels.set_index("lead_id")["tier"] == decided.set_index("lead_id")["tier"]).all()


def test_markdown_has_the_tier_rows_the_charts_and_the_candidates(frame) -> None:
    markdown = report_markdown(analyst_tables(frame), frame, as_of=NOW)
    for tier, leads in frame["tier"].value_counts().items():
        opportunities = int(frame.loc[frame["tier"] == tier, "opportunity"].sum())
        assert f"| {tier} | {leads:,} | {opportunities:,} | {opportunities / leads:.1%} |" in markdown
    assert f"| all | {len(frame):,} |" in markdown
    assert markdown.count("```text") == 2 and "█" in markdown
    assert re.search(r"\| std-hot \| Standard \| 100 \|.*\| VIP \|", markdown)
    assert "<script>" not in markdown and "\\<script\\>" in markdown  # the hostile rep id, inert
    hot = int(
        ((frame["tier"] == "Nurture") & frame["opportunity"] & (frame["days_to_opportunity"] <= 90)).sum()
    )
    assert f"{hot:,} Nurture leads became opportunities" in markdown


def test_markdown_can_embed_the_png_charts(frame) -> None:
    markdown = report_markdown(analyst_tables(frame), frame, embed_png=True)
    images = re.findall(r"\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert len(images) == 4  # conversion, speed to lead, weeks, reps
    assert Image.open(io.BytesIO(base64.b64decode(images[0]))).size[0] >= 500


def hostile(frame: pd.DataFrame) -> pd.DataFrame:
    """Lead text and ids an attacker could choose: a company name, a formula, markup."""
    out = frame.assign(company="Acme " + HOSTILE)
    out.loc[out.index[::7], "owner_id"] = '=HYPERLINK("http://x")'
    return out


def test_html_report_escapes_lead_text_and_writes_valid_charts_deterministically(
    frame, tmp_path: Path
) -> None:
    leads = hostile(frame)
    tables = analyst_tables(leads)
    page = write_report(tables, leads, tmp_path / "a", as_of=NOW)
    write_report(tables, leads, tmp_path / "b", as_of=NOW)
    html = page.read_text()
    assert "<script" not in html.lower() and "Acme &lt;script&gt;" in html
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    pngs = [n for n in names if n.endswith(".png")]
    assert len(pngs) == 4 and all(f'src="{n}"' in html for n in pngs)
    for name in pngs:
        image = Image.open(tmp_path / "a" / name)
        image.verify()
        assert image.format == "PNG" and image.size[0] >= 500 and image.size[1] >= 200
        assert (tmp_path / "a" / name).stat().st_size > 10_000  # drawn, not blank
    by_tier = pd.read_csv(tmp_path / "a" / "by_tier.csv").set_index("tier")["leads"]
    assert by_tier.to_dict() == leads["tier"].value_counts().to_dict()
    owners = pd.read_csv(tmp_path / "a" / "by_owner_id.csv")["owner_id"]
    assert not owners.str.startswith("=").any() and owners.str.startswith("'=").sum() == 1


def test_report_command_writes_the_report_of_the_last_days(frame, tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        tables = analyst_tables(frame)
        leads = frame.assign(hindsight_tier="Nurture")
        replace_analyst_tables(
            store, "sandbox", leads, long_metrics(tables, headline(frame, NOW)), NOW.to_pydatetime()
        )
    env = {
        "LEADROUTER_STORE_URL": f"sqlite:///{tmp_path}/ledger.db",
        "LEADROUTER_ROUTING_CLOCK": NOW.isoformat(),
        "LEADROUTER_CRM": "sandbox",
    }
    cli = CliRunner()  # in-process: a subprocess would pay the CLI's imports again
    out = cli.invoke(app, ["report", "--out", str(tmp_path / "report"), "--since", "30"], env=env)
    assert out.exit_code == 0, out.output
    recent = frame[frame["decided_at"] >= NOW - pd.Timedelta(days=30)]
    assert f"{len(recent):,} leads" in out.output
    by_tier = pd.read_csv(tmp_path / "report" / "by_tier.csv").set_index("tier")["leads"]
    assert by_tier.to_dict() == recent["tier"].value_counts().to_dict()
    assert (tmp_path / "report" / "index.html").exists()
    empty = cli.invoke(app, ["report", "--out", str(tmp_path / "none"), "--source", "hubspot"], env=env)
    assert empty.exit_code == 1 and "no routed leads from hubspot" in empty.output


def test_an_empty_period_gives_a_report_not_a_crash(frame, tmp_path: Path) -> None:
    empty = frame.iloc[:0]
    markdown = report_markdown(analyst_tables(empty), empty)
    assert "No routed leads in this period." in markdown
    assert markdown.count("*No routed leads in this period: nothing to chart.*") == 4  # no empty axes
    page = write_report(analyst_tables(empty), empty, tmp_path)
    assert page.read_text().count("No routed leads in this period: nothing to chart.") == 4
    assert not list(tmp_path.glob("*.png"))
