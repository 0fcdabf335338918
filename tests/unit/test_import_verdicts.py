"""The backtest import end to end on awkward exports built here: a UTF-16 semicolon file with a trailing comma
and an .xlsx import with exact counts; one reason rejecting most rows, or no usable row, stops the import with
examples and the fix; columns the export lacks are listed at once (the command's exit codes:
tests/integration/test_backtest_verdicts.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from leadrouter.backtest.column_map import load_export_map
from leadrouter.backtest.importer import ImportResult, MostRowsRejected, import_leads
from leadrouter.config import ConfigError, ConfigErrors
from tests.helpers.lead_exports import BROKEN_MAP_PROBLEMS, HEADER, broken_map, lead, write_csv, write_map


@pytest.fixture(autouse=True)
def map_path(tmp_path: Path) -> Path:
    return write_map(tmp_path)


def run(path: Path) -> ImportResult:
    map_path = path.parent / "map.yaml"
    return import_leads(path, load_export_map(map_path), map_path)


def test_utf16_semicolon_export_with_a_trailing_separator_imports_every_row(tmp_path: Path) -> None:
    rows = [lead(i) for i in range(8)] + [lead(8, "not a date")]
    result = run(write_csv(tmp_path / "leads.csv", rows, ";", "utf-16", trailing=";"))
    summary = result.summary()
    assert summary["file"] == "CSV, UTF-16, semicolon-separated"
    assert summary["file_notes"] == ["dropped 1 empty columns without a name: (column 8)"]
    assert (summary["rows"], summary["usable"], summary["rejected"]) == (9, 8, 1)
    assert summary["rejected_by_reason"] == {"bad_created_at": 1}
    assert result.rejected[["row", "value"]].values.tolist() == [[10, "'not a date'"]]
    assert result.leads["company"].tolist()[:2] == ["Northwind 0 GmbH", "Northwind 1 GmbH"]


def test_xlsx_export_imports_with_its_date_cells(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(HEADER)
    for i in range(5):
        book.active.append(lead(i, datetime(2025, 3, 4, 9, 30 + i)))
    path = tmp_path / "leads.xlsx"
    book.save(path)
    result = run(path)
    assert result.summary()["file"] == "Excel workbook, sheet 'Sheet'"
    assert (result.rows, len(result.leads), len(result.rejected)) == (5, 5, 0)
    # a sheet's date has no offset: it is the map's time zone (America/New_York), as a CSV's would be
    assert str(result.leads["created_at"].iat[0]) == "2025-03-04 14:30:00+00:00"


FIX_DATE = (
    "Fix: write it in one of the map's formats: %m/%d/%Y %I:%M %p, %m/%d/%Y %H:%M, %m/%d/%Y, iso, "
    "%d.%m.%Y %H:%M, %d.%m.%Y, excel"
)  # the formats of config/backtest-map.yaml, named in the fix


def test_one_reason_rejecting_over_half_the_rows_stops_with_examples_and_the_fix(tmp_path: Path) -> None:
    rows = [lead(i, "31/02/2025" if i < 6 else "03/04/2025 09:30 AM") for i in range(10)]
    with pytest.raises(MostRowsRejected) as stopped:
        run(write_csv(tmp_path / "leads.csv", rows))
    message = str(stopped.value)
    assert message.startswith("6 of 10 rows (60%) are rejected as bad_created_at; bad_created_at: row 2 ")
    assert "row 6 created_at='31/02/2025' and 1 more" in message
    assert message.endswith(FIX_DATE)
    assert (len(stopped.value.result.leads), len(stopped.value.result.rejected)) == (4, 6)


def test_exactly_half_rejected_goes_on(tmp_path: Path) -> None:
    rows = [lead(i, "31/02/2025" if i < 5 else "03/04/2025 09:30 AM") for i in range(10)]
    result = run(write_csv(tmp_path / "leads.csv", rows))
    assert (len(result.leads), result.summary()["rejected_by_reason"]) == (5, {"bad_created_at": 5})


def test_no_usable_row_stops_even_when_no_reason_has_half(tmp_path: Path) -> None:
    rows = [lead(0, "soon"), lead(1, "soon"), ["", *lead(2)[1:]], ["", *lead(3)[1:]]]
    with pytest.raises(MostRowsRejected) as stopped:
        run(write_csv(tmp_path / "leads.csv", rows))
    assert str(stopped.value) == (
        "none of the 4 rows is usable (bad_created_at 2, missing_lead_id 2); bad_created_at: "
        f"row 2 created_at='soon'; row 3 created_at='soon'. {FIX_DATE}"
    )


def test_every_column_the_export_lacks_is_listed_at_once(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Lead ID,Email\n00Q1,a@b.com\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        run(path)
    assert isinstance(err.value, ConfigErrors)
    assert [e.field for e in err.value.errors] == [
        "leads.company",
        "leads.created_at",
        "leads.first_name",
        "leads.last_name",
        "leads.country",
    ]


def test_a_map_with_several_problems_lists_them_all_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(broken_map(), encoding="utf-8")
    with pytest.raises(ConfigErrors) as err:
        load_export_map(path)
    assert sorted((e.line, e.field) for e in err.value.errors) == sorted(BROKEN_MAP_PROBLEMS)
    assert str(err.value).splitlines() == [str(e) for e in err.value.errors]
