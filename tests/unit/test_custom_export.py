"""A backtest export with custom columns and neither email nor company (an anonymised B2C lead export)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leadrouter.backtest.column_map import load_export_map
from leadrouter.backtest.importer import import_leads
from leadrouter.backtest.replay import run_backtest
from leadrouter.config import PROJECT_ROOT, ConfigError, Settings
from leadrouter.fields import LeadFields, load_fields
from tests.helpers.custom_fields import write_fields

EXPORT = """Prospect ID,Lead Origin,What is your current occupation,Total Time Spent on Website,Repeat Visitor,Lead Quality,Last Activity,Created
p1,API,Student,1532,Yes,High in Relevance,2026-01-05,2026-01-02 10:00
p2,Landing Page,Engineer,about ten,no,,2026-01-06,2026-01-02 11:00
p3,API,  ,0,maybe,Not Sure,later,2026-01-02 12:00
"""
MAP = """leads:
  lead_id: Prospect ID
  lead_source: Lead Origin
  created_at: Created
  time_on_site: Total Time Spent on Website
dates:
  formats: ["%Y-%m-%d %H:%M"]
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    export, map_path = tmp_path / "leads.csv", tmp_path / "map.yaml"
    export.write_text(EXPORT)
    map_path.write_text(MAP)
    return export, map_path, write_fields(tmp_path)


def test_custom_columns_arrive_typed_and_unreadable_values_are_listed(files: tuple[Path, Path, Path]) -> None:
    export, map_path, fields_path = files
    export_map = load_export_map(map_path, load_fields(fields_path))
    result = import_leads(export, export_map, map_path)
    leads = result.leads.set_index("lead_id")
    assert list(leads.index) == ["p1", "p2", "p3"]
    assert result.rejected.empty
    assert leads["occupation"].astype(object).where(leads["occupation"].notna(), None).tolist() == [
        "Student", "Engineer", None,
    ]  # fmt: skip
    assert leads["time_on_site"].astype(object).where(leads["time_on_site"].notna(), None).tolist() == [
        1532.0, None, 0.0,
    ]  # fmt: skip
    assert leads["repeat_visitor"].astype(object).where(leads["repeat_visitor"].notna(), None).tolist() == [
        True, False, None,
    ]  # fmt: skip
    assert leads["lead_quality"].astype(object).where(leads["lead_quality"].notna(), None).tolist() == [
        "High in Relevance", None, "Not Sure",
    ]  # fmt: skip
    assert leads.loc["p1", "last_activity"] == pd.Timestamp("2026-01-05", tz="UTC")
    lost = result.changes[result.changes["method"].str.startswith("not a ")]
    assert lost[["row", "lead_id", "field", "method", "raw"]].values.tolist() == [
        [3, "p2", "time_on_site", "not a number: left empty", "'about ten'"],
        [4, "p3", "repeat_visitor", "not a boolean: left empty", "'maybe'"],
        [4, "p3", "last_activity", "not a date: left empty", "'later'"],
    ]


def test_a_map_key_that_is_no_field_fails_at_its_line(files: tuple[Path, Path, Path]) -> None:
    _, map_path, fields_path = files
    map_path.write_text(MAP.replace("  time_on_site:", "  time_on_sight:"))
    with pytest.raises(ConfigError) as caught:
        load_export_map(map_path, load_fields(fields_path))
    assert (caught.value.line, caught.value.field) == (5, "leads.time_on_sight")
    assert "'time_on_sight' is not a lead field or a custom field of config/fields.yaml" in str(caught.value)


def test_the_b2b_default_needs_the_email_and_company_columns(files: tuple[Path, Path, Path]) -> None:
    _, map_path, _ = files
    map_path.write_text(MAP.replace("  time_on_site: Total Time Spent on Website\n", ""))
    with pytest.raises(ConfigError) as caught:
        load_export_map(map_path, LeadFields())
    assert (caught.value.line, caught.value.field) == (2, "leads")
    assert "config/fields.yaml requires email: name its export column here" in str(caught.value)


def test_a_backtest_routes_by_a_custom_field_and_tables_group_by_it(
    files: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    export, map_path, fields_path = files
    monkeypatch.setenv("LEADROUTER_FIELDS_PATH", str(fields_path))
    rule = "rules:\n  - {id: students, when: 'occupation == \"Student\"', tier: Nurture}\n"
    book = tmp_path / "rulebook.yaml"
    book.write_text((PROJECT_ROOT / "config" / "rulebook.yaml").read_text().replace("rules:\n", rule, 1))
    result = run_backtest(export, map_path, [book], Settings(model="none"))
    (replayed,) = result.replays
    assert replayed.name == "rulebook.yaml"  # its output folder: the rulebook's, not a custom field's
    frame = replayed.leads.set_index("lead_id")
    assert frame.loc["p1", "decided_by"] == "rule:students" and frame.loc["p1", "tier"] == "Nurture"
    assert (frame["decided_by"] == "rule:students").sum() == 1
    assert frame["time_on_site"].astype(object).where(frame["time_on_site"].notna(), None).tolist() == [
        1532.0, None, 0.0,
    ]  # fmt: skip
    by_occupation = replayed.tables["occupation"]
    assert by_occupation[["occupation", "leads"]].values.tolist() == [
        ["(none)", 1],
        ["Engineer", 1],
        ["Student", 1],
    ]
    by_flag = replayed.tables["repeat_visitor"]
    assert by_flag[["repeat_visitor", "leads"]].values.tolist() == [["(none)", 1], ["False", 1], ["True", 1]]
    assert replayed.tables["time_on_site"]["leads"].sum() == 3
