"""`leadrouter backtest` as a command: the printed report, the tables it writes, a bad column map."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from leadrouter.backtest.replay import run_backtest
from leadrouter.config import PROJECT_ROOT, ConfigError, Settings
from tests.helpers.messy_export import MAP, messy_export
from tests.helpers.rulebooks import rulebook_with_moved_rule


@pytest.fixture(scope="module")
def moved_rulebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """config/rulebook.yaml with MOVED_RULE's tier changed from Standard to Nurture, nothing else."""
    return rulebook_with_moved_rule(tmp_path_factory.mktemp("books"))


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
    assert summary["import"]["rejected"] == len(pd.read_csv(tmp_path / "out" / "rejected.csv"))
    assert [r["name"] for r in summary["rulebooks"]] == ["rulebook.yaml", "moved.yaml"]
    assert (tmp_path / "out" / "tier_changes.csv").exists() and (
        tmp_path / "out" / "moved.yaml" / "by_tier.csv"
    ).exists()


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
