"""Read a CRM export of any common shape as text cells, in chunks: CSV in UTF-8 (with or without a BOM),
UTF-16 or Windows-1252, separated by commas, semicolons, tabs or pipes, with quoted newlines; or an Excel .xlsx.

The header is repaired, never rejected: a column without a name and without values is dropped, one with values
is kept as "(column N)", and a repeated name gets " (2)", " (3)"; each repair is a note for the summary. A row
is numbered as a spreadsheet shows it (the header is row 1 unless blank rows precede it; blank lines keep
their number and are skipped).
A row whose cells do not fit the header is marked broken (BROKEN_LINE in its first cell), never shifted.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

from leadrouter.backtest.encodings import (
    SAMPLE_BYTES,
    SEPARATOR_NAMES,
    detect_encoding,
    detect_separator,
    encoding_name,
)
from leadrouter.config import ConfigError

BROKEN_LINE = "\x00broken line"  # the first cell of a row with more or fewer cells than the header
CHUNK_ROWS = 100_000
# (done, total) in the reader's own unit: bytes of a CSV, rows of a sheet
Progress = Callable[[int, int], None]


ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # an old binary .xls


@dataclass
class FileShape:
    """What the file turned out to be, and every repair made to its header."""

    kind: str  # "csv" or "xlsx"
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    header: list[str] = field(default_factory=list)  # the repaired column names, in file order
    notes: list[str] = field(default_factory=list)
    blank_lines: int = 0
    padded_rows: int = 0  # rows that ended in extra empty cells (a trailing separator): read as they are

    def describe(self) -> str:
        """One line for the summary: 'CSV, UTF-8 with BOM, semicolon-separated'."""
        if self.kind == "xlsx":
            return f"Excel workbook, sheet {self.sheet!r}"
        return f"CSV, {self.encoding}, {SEPARATOR_NAMES.get(self.separator or '', self.separator)}-separated"

    def all_notes(self) -> list[str]:
        """The header repairs and what was read around (blank lines, trailing empty cells)."""
        out = list(self.notes)
        if self.blank_lines:
            out.append(f"{self.blank_lines} blank lines skipped")
        if self.padded_rows:
            out.append(f"{self.padded_rows} rows end in empty cells the header has no column for: ignored")
        return out


class Export:
    """An open export: its shape (known once the header is read) and its rows as chunks of text frames."""

    def __init__(self, path: Path, chunk_rows: int = CHUNK_ROWS, progress: Progress | None = None) -> None:
        self.path, self.chunk_rows, self.progress = path, chunk_rows, progress
        self.shape, self._rows, self._total, self._position = _open(path)
        # a sheet may open with blank rows: the header is the first row with a cell
        self._header_row, raw_header = next(
            ((i, r) for i, r in enumerate(self._rows, start=1) if any(c.strip() for c in r)), (0, None)
        )
        if raw_header is None:
            raise ConfigError(path, 1, "", "the export is empty: it needs a header row")
        if self._header_row > 1:
            self.shape.notes.append(f"the header is row {self._header_row}: the rows above it are blank")
        self._raw = [c.strip() for c in raw_header]
        self._unnamed = [f"(column {i})" for i, name in enumerate(self._raw, start=1) if not name]
        self.shape.header, repairs = repair_header(self._raw)
        self.shape.notes.extend(repairs)
        self.dropped: list[str] = []

    @property
    def header(self) -> list[str]:
        return self.shape.header

    def chunks(self, copy_keys: bool = False) -> Iterator[pd.DataFrame]:
        """Frames of text cells under the repaired header plus `row` (the spreadsheet's row number), and with
        copy_keys `copy_key`: a hash of the row's cells, equal for exact copies. Once all are read, columns
        without a name are dropped if empty in every row, else kept; both are noted."""
        width, named = len(self._raw), _named_width(self._raw)
        filled = dict.fromkeys(self._unnamed, False)
        number = self._header_row
        while block := list(itertools.islice(self._rows, self.chunk_rows)):
            cells, rows, keys = [], [], []
            for record in block:
                number += 1
                if len(record) == width:  # the usual row: nothing to fit
                    cells.append(record)
                elif not record or (len(record) == 1 and not record[0]):
                    self.shape.blank_lines += 1
                    continue
                else:
                    cells.append(self._fit(record, width, named))
                rows.append(number)
                if copy_keys:  # hashed while the cells are one list: hashing the frame's columns costs 20x
                    keys.append(hash(tuple(cells[-1])))
            # object columns: framing costs a fifth of string ones, and cleaning converts the columns it uses
            frame = pd.DataFrame(cells, columns=self.header, dtype=object)
            for name in filled:
                filled[name] = filled[name] or bool(frame[name].ne("").any())
            if self.progress is not None:
                self.progress(self._position() or number, self._total)
            frame["row"] = pd.Series(rows, index=frame.index, dtype="int64")
            if copy_keys:
                frame["copy_key"] = pd.Series(keys, index=frame.index, dtype="int64")
            yield frame
        self.dropped = [name for name, has in filled.items() if not has]
        if self.dropped:
            self.shape.notes.append(
                f"dropped {len(self.dropped)} empty columns without a name: {', '.join(self.dropped)}"
            )
            self.shape.header = [h for h in self.header if h not in self.dropped]
        self.shape.notes.extend(
            f"{name} has no name but has values: kept" for name, has in filled.items() if has
        )

    def read(self) -> pd.DataFrame:
        """The whole export as one frame (for small files: the deals)."""
        header = list(self.header)
        frames = list(self.chunks())
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*header, "row"])
        return frame.drop(columns=self.dropped)

    def _fit(self, record: list[str], width: int, named: int) -> list[str]:
        """The cells of a row whose length differs from the header's: extra empty cells are cut, a row that
        stops after the last named column is padded; anything else is a broken row (its first cell reads
        BROKEN_LINE, the others are kept) rather than a row whose cells shift columns."""
        if len(record) > width:
            if any(c.strip() for c in record[width:]):
                return [BROKEN_LINE, *record[1:width]]
            self.shape.padded_rows += 1
            return record[:width]
        if len(record) < named:
            return [BROKEN_LINE, *record[1:], *[""] * (width - len(record))]
        return record + [""] * (width - len(record))


def repair_header(raw: list[str]) -> tuple[list[str], list[str]]:
    """Unique names for every column, "(column N)" for a blank one: (header, a note per repeated name)."""
    header, notes, seen = [], [], set()
    for i, given in enumerate(raw, start=1):
        base = given or f"(column {i})"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base} ({n})"
        seen.add(name)
        if name != base:
            notes.append(f"column {i} repeats the name {base!r}: read as {name!r}")
        header.append(name)
    return header, notes


def _named_width(raw: list[str]) -> int:
    """Cells up to the last named column: a row may stop there (a trailing separator is optional)."""
    return max((i + 1 for i, name in enumerate(raw) if name), default=0)


def _open(path: Path) -> tuple[FileShape, Iterator[list[str]], int, Callable[[], int]]:
    """The shape so far, the rows (header first), the progress total and where the reading is."""
    if not path.is_file():
        raise ConfigError(path, None, "", "cannot read the export: no such file")
    with path.open("rb") as raw:
        magic = raw.read(4)
    # by content, not name: a workbook saved as "leads.csv" is common in shared exports
    if path.suffix.lower() in (".xlsx", ".xlsm") or magic == ZIP_MAGIC:
        shape, *rest = _open_xlsx(path)
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            shape.notes.append(f"the file is an Excel workbook, though named {path.name!r}: read as one")
        return shape, *rest
    if path.suffix.lower() == ".xls" or magic == OLE2_MAGIC:
        raise ConfigError(path, None, "", "an old Excel .xls file: save it as .xlsx or CSV")
    encoding = detect_encoding(path)
    handle = path.open(encoding=encoding, newline="")
    try:
        sample = handle.read(SAMPLE_BYTES // 4)
        handle.seek(0)
    except UnicodeDecodeError as exc:
        handle.close()
        raise ConfigError(
            path, None, "", f"cannot read the export as {encoding} ({exc}): save it as UTF-8"
        ) from exc
    separator = detect_separator(sample)
    shape = FileShape("csv", encoding_name(encoding), separator)
    rows = _guarded(csv.reader(handle, delimiter=separator), handle.close, path, encoding)
    size = path.stat().st_size
    return shape, rows, size, lambda: size if handle.closed else handle.buffer.tell()


def _guarded(
    rows: Iterator[list[str]], close: Callable[[], None], path: Path, encoding: str
) -> Iterator[list[str]]:
    try:
        yield from rows
    except UnicodeDecodeError as exc:
        raise ConfigError(
            path, None, "", f"cannot read the export as {encoding} ({exc}): save it as UTF-8"
        ) from exc
    except csv.Error as exc:
        raise ConfigError(path, None, "", f"the export is not a readable CSV ({exc})") from exc
    finally:
        close()


def _open_xlsx(path: Path) -> tuple[FileShape, Iterator[list[str]], int, Callable[[], int]]:
    from openpyxl import load_workbook

    handle = path.open("rb")  # a handle, not the name: openpyxl refuses a workbook named .csv
    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # a damaged file raises zipfile, KeyError or openpyxl's own errors
        handle.close()
        raise ConfigError(
            path, None, "", f"cannot read the workbook ({exc}): save it again as .xlsx"
        ) from exc
    sheet = book.worksheets[0]
    shape = FileShape("xlsx", sheet=sheet.title)
    if len(book.worksheets) > 1:
        shape.notes.append(f"read the first of {len(book.worksheets)} sheets, {sheet.title!r}")
    rows = ([_text(v) for v in r] for r in sheet.iter_rows(values_only=True))

    def close() -> None:
        book.close()
        handle.close()

    return shape, _guarded(rows, close, path, "xlsx"), sheet.max_row or 0, lambda: 0


def _text(value: object) -> str:
    """A cell as text: a sheet's numbers without a spurious .0, its dates as ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)
