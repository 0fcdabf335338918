"""Reading exports of every common shape (backtest/files.py): each encoding, separator and header defect, and
an .xlsx, built here from code; exact cells, row numbers and notes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from leadrouter.backtest.files import BROKEN_LINE, Export
from leadrouter.config import ConfigError

NAMES = ["Müller", "São Paulo €5", "Zoë O'Brien"]  # letters outside ASCII that Windows-1252 can write


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def cells(path: Path, **kwargs) -> tuple[Export, list[dict]]:
    export = Export(path, **kwargs)
    return export, export.read().to_dict("records")


@pytest.mark.parametrize(
    ("encoding", "said"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM"), ("utf-16", "UTF-16"), ("cp1252", "Windows-1252")],
)
def test_each_encoding_is_detected_and_read_exactly(tmp_path: Path, encoding: str, said: str) -> None:
    text = "Lead ID,Company\r\n" + "".join(f"{i},{name}\r\n" for i, name in enumerate(NAMES, start=1))
    export, rows = cells(write(tmp_path, text, encoding))
    assert export.shape.describe() == f"CSV, {said}, comma-separated"
    assert export.header == ["Lead ID", "Company"]
    assert rows == [{"Lead ID": str(i), "Company": n, "row": i + 1} for i, n in enumerate(NAMES, start=1)]


def test_utf16_without_a_bom_is_read_by_its_zero_bytes(tmp_path: Path) -> None:
    export, rows = cells(write(tmp_path, "a,b\n1,Müller\n", "utf-16-le"))
    assert export.shape.encoding == "UTF-16-LE"
    assert rows == [{"a": "1", "b": "Müller", "row": 2}]


def test_bytes_no_supported_encoding_can_read_stop_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(b"a,b\n1,\x81\x8d\n")  # invalid UTF-8, undefined in Windows-1252
    with pytest.raises(ConfigError, match=r"neither UTF-8, UTF-16 nor Windows-1252.*save it as UTF-8"):
        Export(path)


@pytest.mark.parametrize(("separator", "said"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_each_separator_is_detected_with_the_others_inside_quoted_cells(
    tmp_path: Path, separator: str, said: str
) -> None:
    rows = [["1", "Acme; Inc, Ltd", "1,5"], ["2", "Beta\tGmbH", "2"], ["3", "Gamma", "3;4"]]
    text = separator.join(["Lead ID", "Company", "Score"]) + "\n"
    text += "".join(separator.join(f'"{c}"' for c in row) + "\n" for row in rows)
    export, read = cells(write(tmp_path, text))
    assert export.shape.describe() == f"CSV, UTF-8, {said}-separated"
    assert [[r["Lead ID"], r["Company"], r["Score"]] for r in read] == rows


def test_quoted_newlines_stay_in_their_cell_and_rows_count_records(tmp_path: Path) -> None:
    text = 'id,message\n1,"line one\nline two\r\nline three"\n2,plain\n'
    _, rows = cells(write(tmp_path, text))
    assert rows == [
        {"id": "1", "message": "line one\nline two\r\nline three", "row": 2},
        {"id": "2", "message": "plain", "row": 3},
    ]


def test_a_trailing_comma_in_the_header_drops_its_empty_column_and_says_so(tmp_path: Path) -> None:
    # rows with and without the trailing comma are both whole rows
    export, rows = cells(write(tmp_path, "a,b,c,\n1,2,3,\n4,5,6\n"))
    assert export.header == ["a", "b", "c"]
    assert rows == [{"a": "1", "b": "2", "c": "3", "row": 2}, {"a": "4", "b": "5", "c": "6", "row": 3}]
    assert export.shape.all_notes() == ["dropped 1 empty columns without a name: (column 4)"]


def test_a_trailing_comma_in_rows_only_is_read_and_counted(tmp_path: Path) -> None:
    export, rows = cells(write(tmp_path, "a,b\n1,2,\n3,4,\n5,6\n"))
    assert [r["row"] for r in rows] == [2, 3, 4] and rows[0] == {"a": "1", "b": "2", "row": 2}
    assert export.shape.all_notes() == ["2 rows end in empty cells the header has no column for: ignored"]


def test_empty_and_duplicate_names_are_renamed_never_rejected(tmp_path: Path) -> None:
    export, rows = cells(write(tmp_path, "Email,,Email,email,Email\nx@a.com,kept,y@b.com,z,w\n"))
    assert export.header == ["Email", "(column 2)", "Email (2)", "email", "Email (3)"]
    assert rows == [
        {
            "Email": "x@a.com",
            "(column 2)": "kept",
            "Email (2)": "y@b.com",
            "email": "z",
            "Email (3)": "w",
            "row": 2,
        }
    ]
    assert export.shape.all_notes() == [
        "column 3 repeats the name 'Email': read as 'Email (2)'",
        "column 5 repeats the name 'Email': read as 'Email (3)'",
        "(column 2) has no name but has values: kept",
    ]


def test_rows_that_do_not_fit_are_marked_broken_and_blank_lines_keep_their_number(tmp_path: Path) -> None:
    export, rows = cells(write(tmp_path, "a,b,c\n1,2,3\n\n4,5\n6,7,8,9\n10,11,12\n"))
    assert rows == [
        {"a": "1", "b": "2", "c": "3", "row": 2},
        {"a": BROKEN_LINE, "b": "5", "c": "", "row": 4},
        {"a": BROKEN_LINE, "b": "7", "c": "8", "row": 5},
        {"a": "10", "b": "11", "c": "12", "row": 6},
    ]
    assert export.shape.all_notes() == ["1 blank lines skipped"]


def test_chunks_number_rows_across_chunk_boundaries_and_report_progress(tmp_path: Path) -> None:
    path = write(tmp_path, "a\n" + "".join(f"{i}\n" for i in range(7)))
    seen: list[tuple[int, int]] = []
    chunks = list(
        Export(path, chunk_rows=3, progress=lambda done, total: seen.append((done, total))).chunks()
    )
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [r for c in chunks for r in c["row"]] == list(range(2, 9))
    assert len(seen) == 3 and seen[-1] == (path.stat().st_size, path.stat().st_size)


def test_an_empty_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="the export is empty"):
        Export(write(tmp_path, ""))


def test_xlsx_cells_are_read_as_text_from_the_first_sheet(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Leads"
    sheet.append(["Lead ID", "Created", "Employees", "Revenue", "Email", "Email"])
    sheet.append(["00Q1", datetime(2025, 3, 4, 9, 30), 12, 1.5e6, "a@b.com", None])
    sheet.append(["00Q2", "03/05/2025", 12.0, 0.25, None, "c@d.com", None])
    book.create_sheet("Notes").append(["ignored"])
    path = tmp_path / "export.xlsx"
    book.save(path)
    export, rows = cells(path)
    assert export.shape.describe() == "Excel workbook, sheet 'Leads'"
    assert export.header == ["Lead ID", "Created", "Employees", "Revenue", "Email", "Email (2)"]
    assert rows == [
        {"Lead ID": "00Q1", "Created": "2025-03-04T09:30:00", "Employees": "12", "Revenue": "1500000",
         "Email": "a@b.com", "Email (2)": "", "row": 2},
        {"Lead ID": "00Q2", "Created": "03/05/2025", "Employees": "12", "Revenue": "0.25",
         "Email": "", "Email (2)": "c@d.com", "row": 3},
    ]  # fmt: skip
    assert export.shape.all_notes() == [
        "read the first of 2 sheets, 'Leads'",
        "column 6 repeats the name 'Email': read as 'Email (2)'",
        "dropped 1 empty columns without a name: (column 7)",  # the sheet's width reaches a blank cell
    ]


def test_blank_rows_above_the_header_are_skipped_and_said(tmp_path: Path) -> None:
    book = Workbook()
    book.active["B3"], book.active["C3"] = "Variables", "Description"
    book.active["B4"], book.active["C4"] = "Lead Origin", "How the lead came"
    path = tmp_path / "dictionary.xlsx"
    book.save(path)
    export, rows = cells(path)
    assert rows == [{"Variables": "Lead Origin", "Description": "How the lead came", "row": 4}]
    assert export.shape.all_notes() == [
        "the header is row 3: the rows above it are blank",
        "dropped 1 empty columns without a name: (column 1)",
    ]


def test_a_workbook_named_csv_is_read_as_the_workbook_it_is(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["Prospect ID", "Lead Source"])
    book.active.append(["7927b2df", "Olark Chat"])
    path = tmp_path / "Leads.csv"  # as a public lead-scoring dataset ships it
    book.save(path)
    export, rows = cells(path)
    assert export.shape.describe() == "Excel workbook, sheet 'Sheet'"
    assert rows == [{"Prospect ID": "7927b2df", "Lead Source": "Olark Chat", "row": 2}]
    assert "the file is an Excel workbook, though named 'Leads.csv': read as one" in export.shape.all_notes()


def test_an_old_binary_xls_is_refused_with_the_fix_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(ConfigError, match=r"an old Excel \.xls file: save it as \.xlsx or CSV"):
        Export(path).read()
