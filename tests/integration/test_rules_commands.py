"""`leadrouter rules check` and `rules explain` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from tests.helpers.cli import run
from tests.helpers.rulebooks import BOOK, write


def test_rules_commands(tmp_path: Path) -> None:
    checked = run("rules", "check", str(write(tmp_path, BOOK)), "--probe", "500")
    assert checked.returncode == 1, checked.stderr[-2000:]
    assert "rulebook.yaml:6: error rule 'big-vp'" in checked.stdout.replace("\n", " ")
    lead = '{"lead_id": "x", "title": "VP Sales", "employees": 1500, "lead_source": "demo_request"}'
    explained = run("rules", "explain", lead)
    assert explained.returncode == 0, explained.stderr[-2000:]
    assert "vip-senior-buyer" in explained.stdout and "fired" in explained.stdout
    # no rule decides a four-person intern's web lead: the local model answers, as routing's chain would
    unruled = (
        '{"lead_id": "y", "title": "Intern", "employees": 4, "lead_source": "web", "email": "a@gmail.com"}'
    )
    answered = run("rules", "explain", unruled)
    assert answered.returncode == 0, answered.stderr[-2000:]
    assert "no rule fired: the local model local-" in answered.stdout
    assert "  tier           Nurture" in answered.stdout


FIELDS = """required: []
custom:
  - {name: plan, type: category, known_at: arrival, column: Plan}
  - {name: stage_note, type: category, known_at: later, column: Stage Note}
"""
MAP = """leads:
  lead_id: Lead ID
  employees: Employees
  created_at: Created
deals:
  deal_id: Opportunity ID
  lead_id: Lead ID
  stage: Stage
  created_at: Created Date
dates:
  formats: ["%Y-%m-%d %H:%M"]
  timezone: UTC
"""


def write_history(folder: Path, n: int = 1000) -> list[str]:
    """A leads and a deals export: leads with 200+ employees became opportunities within days 4 times in 5, the
    rest 1 in 10; stage_note, filled in later, says so outright. Lead 3's deal came two years on: not within
    90 days (and no lead is younger than 90 days when the export was taken)."""
    created = pd.date_range("2024-01-01", periods=n, freq="12h")
    leads, deals = (
        ["Lead ID,Employees,Plan,Stage Note,Created"],
        ["Opportunity ID,Lead ID,Stage,Created Date"],
    )
    for i, at in enumerate(created):
        big, k = i % 2 == 0, i // 2
        converted = k % 5 != 0 if big else k % 10 == 0
        employees = 200 + (i * 7) % 800 if big else 10 + (i * 3) % 190
        note = "won" if converted else "lost"
        leads.append(f"L{i:05d},{employees},{'pro' if i % 3 == 0 else 'free'},{note},{at:%Y-%m-%d %H:%M}")
        if converted or i == 3:
            opened = pd.Timestamp("2026-06-01") if i == 3 else at + pd.Timedelta(days=5)
            deals.append(f"D{i:05d},L{i:05d},Closed Won,{opened:%Y-%m-%d %H:%M}")
    files = {
        "leads.csv": leads,
        "deals.csv": deals,
        "map.yaml": MAP.splitlines(),
        "fields.yaml": FIELDS.splitlines(),
    }
    for name, lines in files.items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [
        "--history",
        str(folder / "leads.csv"),
        "--deals",
        str(folder / "deals.csv"),
        "--map",
        str(folder / "map.yaml"),
    ]


def test_rules_mine_and_check_on_an_export_history(tmp_path: Path) -> None:
    history = write_history(tmp_path)
    env = {"LEADROUTER_FIELDS_PATH": str(tmp_path / "fields.yaml"), "COLUMNS": "200"}
    proposal = tmp_path / "proposal.yaml"
    mined = run("rules", "mine", *history, "--out", str(proposal), "--coverage", "1", env=env)
    assert mined.returncode == 0, mined.stderr[-2000:] + mined.stdout[-2000:]
    out = " ".join(mined.stdout.split())
    assert "1,000 leads with a known outcome, 45.0% converted" in out
    assert "left out: 0 younger than 90 days" in out
    assert "never reads (known_at: later): stage_note" in out
    assert "proposed: 2 rules deciding 100.0% of the leads" in out
    book = tmp_path / "rulebook.yaml"
    book.write_text("rules:\n" + "".join(f"  {line}\n" for line in proposal.read_text().splitlines()))
    assert [(r["id"], r["when"]) for r in yaml.safe_load(book.read_text())["rules"]] == [
        ("mined-standard-1", "employees >= 200"), ("mined-nurture-1", "employees < 200"),
    ]  # fmt: skip
    checked = run("rules", "check", str(book), "--probe", "0", *history, env=env)
    assert checked.returncode == 0, checked.stderr[-2000:] + checked.stdout[-2000:]
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in checked.stdout.splitlines() if line.startswith("│")}  # fmt: skip
    assert rows["mined-standard-1"] == ["Standard", "500", "500", "50.0%", "80.0%", "76.3%-83.3%", "80.0%"]
    assert rows["mined-nurture-1"] == ["Nurture", "500", "500", "50.0%", "10.0%", "7.7%-12.9%", "90.0%"]
    assert (
        "rules decide 1,000 of 1,000 leads (100.0%); their outcome fits the rule's tier for 85.0%"
        in " ".join(checked.stdout.split())
    )
    no_deals = run("rules", "check", "--history", str(tmp_path / "leads.csv"), env=env)
    assert no_deals.returncode == 2 and "--history needs --deals" in no_deals.stdout
