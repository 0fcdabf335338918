"""`leadrouter backtest` on a generated messy export: the import's rejection report against the generator's
own record of what it broke, the replay, two rulebooks side by side, the command, a bad column map."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadrouter.backtest.changes import CHANGE_COLUMNS
from leadrouter.backtest.cleaning import FUZZY_CUTOFF
from leadrouter.backtest.replay import REVIEW, Backtest, run_backtest
from leadrouter.config import PROJECT_ROOT, ConfigError, Settings
from leadrouter.validate.suite import excerpt
from tests.helpers.messy_export import (
    CLEANED_KINDS,
    MAP,
    REJECTED_REASONS,
    MessyExport,
    messy_export,
)

MOVED_RULE = "standard-mid-market"  # the second rulebook sends this rule's leads to Nurture


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> MessyExport:
    return messy_export(tmp_path_factory.mktemp("export"), leads=10_000, messy=0.3)


@pytest.fixture(scope="module")
def moved_rulebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """config/rulebook.yaml with MOVED_RULE's tier changed from Standard to Nurture, nothing else."""
    text = (PROJECT_ROOT / "config" / "rulebook.yaml").read_text(encoding="utf-8")
    at = text.index(f"- id: {MOVED_RULE}")
    tier = text.index("tier: Standard", at)
    path = tmp_path_factory.mktemp("books") / "moved.yaml"
    path.write_text(text[:tier] + "tier: Nurture" + text[tier + len("tier: Standard") :], encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def result(export: MessyExport, moved_rulebook: Path) -> Backtest:
    books = [PROJECT_ROOT / "config" / "rulebook.yaml", moved_rulebook]
    return run_backtest(export.leads_csv, MAP, books, Settings(), export.deals_csv)


def test_rejection_report_matches_what_the_generator_broke(export: MessyExport, result: Backtest) -> None:
    truth, imported = export.truth, result.imported
    assert imported.rows == len(truth) == 10_000
    assert truth["kind"].ne("clean").mean() == pytest.approx(0.3, abs=0.001)
    rejected = imported.rejected
    reason = rejected["reason"].where(~rejected["reason"].str.startswith("invalid:"), "invalid")
    expected = {
        REJECTED_REASONS[k]: int(n) for k, n in truth["kind"].value_counts().items() if k in REJECTED_REASONS
    }
    assert reason.value_counts().to_dict() == expected
    assert rejected["row"].is_unique and rejected["fix"].notna().all()
    # the rows rejected for an id are the generator's: bad dates and invalid rows by row, copies by lead id
    for kind in ("bad_date", "missing_date", "missing_lead_id", "invalid"):
        assert set(rejected.loc[reason == REJECTED_REASONS[kind], "row"]) == set(
            truth.loc[truth["kind"] == kind, "row"]
        )
    for kind in ("duplicate_row", "duplicate_lead_id"):
        ids = rejected.loc[reason == kind, "lead_id"]
        assert sorted(ids) == sorted(truth.loc[truth["kind"] == kind, "lead_id"])


def test_messy_but_usable_rows_are_cleaned_to_what_the_generator_meant(
    export: MessyExport, result: Backtest
) -> None:
    truth, leads = export.truth.set_index("row"), result.imported.leads.set_index("row")
    cleaned = set(result.imported.cleaned_rows)
    messy_rows = set(truth.index[truth["kind"].isin(CLEANED_KINDS)])
    assert cleaned == messy_rows  # every messy row counted, no tidy row touched
    usable = truth.loc[
        ~truth["kind"].isin([*REJECTED_REASONS]), "lead_id"
    ]  # a copy may come before its original
    assert sorted(leads["lead_id"]) == sorted(usable)
    for kind in ("spelling", "whitespace", "casing", "country"):
        rows = truth.index[truth["kind"] == kind]
        field = truth.loc[rows, "field"].iloc[0]
        assert (leads.loc[rows, field].astype(str) == truth.loc[rows, "expected"].astype(str)).all(), kind
    rows = truth.index[truth["kind"] == "number"]
    assert np.allclose(
        leads.loc[rows, "annual_revenue"].astype(float), truth.loc[rows, "expected"].astype(float)
    )
    placeholders = truth[truth["kind"] == "placeholder"]
    for field, group in placeholders.groupby("field"):
        assert leads.loc[group.index, field].isna().all(), field
    late = (leads["created_at"] - truth.loc[leads.index, "created_at"]).abs()
    assert (late < pd.Timedelta(seconds=1)).all()  # every date format read to the same instant


# how the import lists each kind of mess the generator made ("U.S." is the map's alias of a country)
LISTED_METHODS = {
    "whitespace": {"trim"}, "casing": {"case"}, "country": {"country", "alias", "trim+alias"},
    "spelling": {"case", "format", "fuzzy", "alias"}, "number": {"number format"}, "date_format": {"date format"},
    "placeholder": {"placeholder"},
}  # fmt: skip


def test_every_change_is_listed_with_its_raw_and_new_value(export: MessyExport, result: Backtest) -> None:
    truth = export.truth.set_index("row")
    changes = result.imported.changes
    usable = changes[changes["row"].isin(result.imported.leads["row"])]
    for kind, methods in LISTED_METHODS.items():
        rows = truth.index[truth["kind"] == kind]
        field = truth.loc[rows, "field"]
        listed = usable.merge(pd.DataFrame({"row": rows, "field": field.to_numpy()}), on=["row", "field"])
        assert sorted(listed["row"]) == sorted(rows), kind  # exactly one listing of the broken field per row
        assert set(listed["method"]) <= methods, (kind, set(listed["method"]))
        if kind in ("whitespace", "casing", "country", "spelling"):
            expected = truth.loc[listed["row"], "expected"].map(excerpt).to_numpy()
            assert (listed["new"].to_numpy() == expected).all(), kind
    fuzzy = usable[usable["method"].str.endswith("fuzzy")]
    assert len(fuzzy) > 0 and fuzzy["score"].between(FUZZY_CUTOFF, 100).all()
    assert usable.loc[usable["method"].isin(["trim", "placeholder", "country"]), "score"].isna().all()
    # the summary counts exactly the listed cells of usable leads
    counts = (usable["field"] + ": " + usable["method"]).value_counts().to_dict()
    assert result.imported.summary()["cleaned_by_change"] == dict(sorted(counts.items()))


def test_every_usable_lead_is_routed_and_joined_to_its_deal(export: MessyExport, result: Backtest) -> None:
    replay = result.replays[0]
    leads = replay.leads.set_index("lead_id")
    assert set(leads.index) == set(result.imported.leads["lead_id"])
    routed = leads[leads["tier"].notna()]
    assert routed["owner_id"].notna().all()
    assert (leads["tier"].isna() == leads["manual_triage"]).all()
    deals = export.deals.set_index("lead_id")
    assert set(leads.index[leads["opportunity"]]) == set(deals.index)
    assert np.allclose(leads.loc[deals.index, "pipeline"], deals["amount"])
    assert (leads.loc[deals.index, "won"] == deals["won"]).all()
    assert len(result.deals.rejected) == export.orphan_deals
    # the tier table, recomputed from the generator's deals
    predicted = leads["tier"].fillna(REVIEW)
    tiers = replay.tiers.set_index("tier")
    for tier, group in leads.groupby(predicted):
        opportunities = group.index.isin(deals.index).sum()
        assert tiers.loc[tier, "opportunities"] == opportunities
        assert tiers.loc[tier, "conversion"] == pytest.approx(opportunities / len(group))
    assert replay.confusion.to_numpy().sum() == len(leads)
    # owner diff: predicted owner against the historical one (names resolved on the roster)
    owners = replay.owners.set_index("tier")
    known = routed[routed["historical_owner_id"].notna()]
    changed = known["owner_id"] != known["historical_owner_id"]
    assert owners["changed"].sum() == changed.sum() and owners["with_history"].sum() == len(known)
    assert routed.loc[routed["historical_owner"] == "Former Rep", "historical_owner_id"].isna().all()


def test_two_rulebooks_side_by_side_change_exactly_the_moved_rules_leads(result: Backtest) -> None:
    a, b = result.replays
    comparison = result.comparison
    moved = a.leads.loc[a.leads["decided_by"] == f"rule:{MOVED_RULE}", "lead_id"]
    assert len(moved) > 0
    assert set(comparison.changed["lead_id"]) == set(moved)
    assert b.leads.set_index("lead_id").loc[moved, "decided_by"].eq(f"rule:{MOVED_RULE}").all()
    assert (comparison.changed["tier_a"] == "Standard").all() and (
        comparison.changed["tier_b"] == "Nurture"
    ).all()
    tiers = comparison.tiers.set_index("tier")
    assert tiers.loc["Standard", "leads_a"] - tiers.loc["Standard", "leads_b"] == len(moved)
    assert tiers.loc["Nurture", "leads_b"] - tiers.loc["Nurture", "leads_a"] == len(moved)


def test_command_prints_the_report_and_writes_tables(
    tmp_path: Path, moved_rulebook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commands import backtest as command
    from commands.main import app

    monkeypatch.setattr(command.console, "width", 250)  # cells unfolded, to find them in the output
    small = messy_export(tmp_path / "small", leads=400, messy=0.3, seed=5, days=2)
    raw = pd.read_csv(small.leads_csv, dtype=str, keep_default_na=False)
    raw.loc[0, "Lead ID"], raw.loc[0, "Create Date"] = (
        "[bold red]x[/bold red]",
        "not a date",
    )  # markup in a cell
    raw.to_csv(small.leads_csv, index=False)
    args = ["backtest", "--leads", str(small.leads_csv), "--deals", str(small.deals_csv), "--map", str(MAP),
            "--rulebook", str(PROJECT_ROOT / "config" / "rulebook.yaml"), "--rulebook", str(moved_rulebook),
            "--out", str(tmp_path / "out")]  # fmt: skip
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "[bold red]x[/bold red]" in out.output  # shown as text, not taken as markup
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["import"]["rows"] == 400
    rejected = pd.read_csv(tmp_path / "out" / "rejected.csv")
    assert summary["import"]["rejected"] == len(rejected)
    cleaned = pd.read_csv(tmp_path / "out" / "cleaned.csv")  # every change listed, the usable rows' counted
    assert list(cleaned.columns) == CHANGE_COLUMNS
    listed = cleaned[~cleaned["row"].isin(rejected["row"])]
    assert sum(summary["import"]["cleaned_by_change"].values()) == len(listed) > 0
    outside = pd.read_csv(tmp_path / "out" / "outside_vocabulary.csv")
    assert list(outside.columns) == ["field", "value", "rows"]
    assert summary["import"]["outside_vocabulary"] == outside.groupby("field")["rows"].sum().to_dict()
    assert [r["name"] for r in summary["rulebooks"]] == ["rulebook.yaml", "moved.yaml"]
    assert (tmp_path / "out" / "tier_changes.csv").exists() and (
        tmp_path / "out" / "moved.yaml" / "by_tier.csv"
    ).exists()
    deals = summary["deals"]  # the generator's stages are Salesforce's: every linked deal has an outcome
    assert deals["by_outcome"]["unknown"] == 0 and deals["unknown_stages"] == {}
    assert sum(deals["by_outcome"].values()) == deals["linked"] > 0
    # the output folder renders as a report, one page per rulebook
    rendered = CliRunner().invoke(
        app, ["report", "--backtest", str(tmp_path / "out"), "--out", str(tmp_path / "r")]
    )
    assert rendered.exit_code == 0, rendered.output
    for name in ("rulebook.yaml", "moved.yaml"):
        page = (tmp_path / "r" / name / "index.html").read_text(encoding="utf-8")
        assert ">By historical owner<" in page and ">By lead source<" in page


def test_bad_map_fails_with_file_and_line(tmp_path: Path) -> None:
    from commands.main import app

    text = MAP.read_text(encoding="utf-8")
    typo = tmp_path / "typo.yaml"
    typo.write_text(text.replace("  title: Title\n", "  titel: Title\n"), encoding="utf-8")
    line = text.splitlines().index("  title: Title") + 1
    with pytest.raises(ConfigError) as err:
        run_backtest(tmp_path / "none.csv", typo, [PROJECT_ROOT / "config" / "rulebook.yaml"], Settings())
    assert (err.value.path, err.value.line, err.value.field) == (str(typo), line, "leads.titel")
    # a column the export lacks: the command exits 2 naming the column and the map's line
    leads = tmp_path / "leads.csv"
    leads.write_text("Lead ID,Email\n00Q1,a@b.com\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["backtest", "--leads", str(leads), "--map", str(MAP)])
    assert out.exit_code == 2
    company = text.splitlines().index("  company: Company / Account") + 1
    printed = out.output.replace("\n", "")
    assert (
        f"{MAP}:{company}: leads.company" in printed and "'Company / Account' is not in leads.csv" in printed
    )
