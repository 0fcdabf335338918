"""Import a CRM export of leads (the deals: backtest.deal_import) through its column map: clean every cell, drop what cannot be used
with a reason per row, and hand on the canonical lead frame, validated as routing validates it.

A CSV row number is the row a spreadsheet shows (the header is row 1). Nothing in a cell can fail the import:
an unusable row gets a reason (what, which field, the fix); a messy but usable one is kept and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from leadrouter.backtest import cleaning as clean
from leadrouter.backtest.changes import CHANGE_COLUMNS, OUTSIDE_COLUMNS, listed, outside_values
from leadrouter.backtest.column_map import ExportMap, require_columns
from leadrouter.backtest.files import BROKEN_LINE, CHUNK_ROWS, Export, FileShape, Progress
from leadrouter.backtest.memory import parked, unparked
from leadrouter.backtest.rejections import invalid_rows, unusable_rows
from leadrouter.backtest.verdict import stop_message
from leadrouter.config import ConfigError
from leadrouter.fields import conform_leads
from leadrouter.memory import release_memory
from leadrouter.schema import column
from leadrouter.validate.suite import validate_leads

TEXT_FIXES = {"email": clean.recase_email, "first_name": clean.recase_name, "last_name": clean.recase_name}


class MostRowsRejected(Exception):
    """The import stopped (leadrouter.backtest.verdict): result holds all it found, to show and write."""

    def __init__(self, message: str, result: ImportResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class ImportResult:
    """leads: validated canonical rows that may route (+ row, historical_owner); rejected: one row per unusable
    CSV row (REJECTED_COLUMNS); changes: one row per cleaned cell (CHANGE_COLUMNS: the raw and new value, the
    method, the score of a fuzzy correction); outside: usable leads' values that are in no vocabulary of their
    field, kept as written (OUTSIDE_COLUMNS)."""

    rows: int
    leads: pd.DataFrame
    rejected: pd.DataFrame
    changes: pd.DataFrame
    warnings: pd.DataFrame = field(default_factory=pd.DataFrame)  # validation's report of warnings
    outside: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=OUTSIDE_COLUMNS))
    shape: FileShape | None = None  # what the file turned out to be, and the repairs to its header

    @property
    def cleaned_rows(self) -> pd.Index:
        """Rows of usable leads that needed cleaning."""
        return pd.Index(self.changes["row"].unique()).intersection(pd.Index(self.leads["row"]))

    def cleaned_by_change(self) -> dict[str, int]:
        """Cleaned cells of usable leads per "field: method"."""
        kept = self.changes[self.changes["row"].isin(self.leads["row"])]
        counts = (kept["field"] + ": " + kept["method"]).value_counts().sort_index()
        return {str(k): int(v) for k, v in counts.items()}

    def outside_by_field(self) -> dict[str, int]:
        """Usable leads per field whose value is in no vocabulary word, kept as written."""
        counts = self.outside.groupby("field")["rows"].sum().sort_index()
        return {str(k): int(v) for k, v in counts.items()}

    def summary(self) -> dict:
        reasons = self.rejected["reason"].value_counts().sort_index()
        return {
            "file": self.shape.describe() if self.shape else None,
            "file_notes": self.shape.all_notes() if self.shape else [],
            "rows": self.rows,
            "usable": len(self.leads),
            "clean": len(self.leads) - len(self.cleaned_rows),
            "cleaned": len(self.cleaned_rows),
            "rejected": len(self.rejected),
            "rejected_by_reason": {str(k): int(v) for k, v in reasons.items()},
            "cleaned_by_change": self.cleaned_by_change(),
            "outside_vocabulary": self.outside_by_field(),
        }


def import_leads(
    path: Path,
    export_map: ExportMap,
    map_path: Path,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportResult:
    """Read the export in chunks, clean each, drop unusable rows (with reasons) and validate the leads; stop
    (MostRowsRejected) if one reason rejects most rows or none is usable."""
    export = Export(path, chunk_rows, progress)
    require_columns(export.header, export_map.leads, "leads", export_map, map_path, path)
    leads, keys, changes = _read_all(export, export_map)
    rejected = unusable_rows(keys, leads, export_map)
    candidates = leads[~keys["row"].isin(rejected["row"])]
    rows = len(keys)
    del leads, keys  # freed before validation, which copies the leads again (a million rows: gigabytes)
    typed = conform_leads(candidates, export_map.fields).assign(row=candidates["row"].to_numpy())
    checked = validate_leads(typed, export_map.fields.required)
    del typed
    invalid = invalid_rows(checked.quarantined, candidates)
    owners = column(candidates, "owner").set_axis(candidates["row"].to_numpy())
    valid = checked.valid.assign(historical_owner=checked.valid["row"].map(owners).astype("string"))
    warnings = checked.report[(checked.report["severity"] == "warning") & (checked.report["failed"] > 0)]
    rejected = pd.concat([rejected, invalid], ignore_index=True).sort_values("row", kind="stable")
    outside = outside_values(valid, export_map)
    # the leads' text made anew once everything else is freed: validation leaves its kept strings (phones
    # from the worker processes, warnings) scattered among freed cells, each pinning a pool (backtest.memory);
    # a million leads end the import at ~1,290 MiB instead of ~1,385 (the same steps after import_leads
    # returned reached 860: something still alive here holds more of the old text)
    dtypes, parked_valid = valid.dtypes, parked(valid)
    del valid, checked, candidates, owners, invalid  # every reference to the old strings
    release_memory()
    valid = unparked(parked_valid, dtypes)
    result = ImportResult(
        rows, valid, rejected.reset_index(drop=True), changes, warnings, outside, export.shape
    )
    if (message := stop_message(result.rows, result.rejected, len(valid))) is not None:
        raise MostRowsRejected(message, result)
    return result


def _read_all(export: Export, export_map: ExportMap) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Every chunk read and cleaned, joined: leads, keys, changes (the chunks are freed on return). What each
    chunk keeps is parked (backtest.memory) until every chunk's cells are freed."""
    parts: dict[str, list[pd.DataFrame]] = {"leads": [], "keys": [], "changes": []}
    dtypes: dict[str, pd.Series] = {}
    for chunk in export.chunks(copy_keys=True):
        leads, keys, changed = _read_chunk(chunk, export_map)
        del chunk
        for kind, frame in (("leads", leads), ("keys", keys), *(("changes", c) for c in changed)):
            dtypes.setdefault(kind, frame.dtypes)
            parts[kind].append(parked(frame))
    if not parts["leads"]:
        raise ConfigError(export.path, 1, "", "the export has a header but no rows")
    joined = {}
    for kind, frames in parts.items():
        if not frames:
            joined[kind] = pd.DataFrame(columns=CHANGE_COLUMNS)
            continue
        whole = pd.concat(frames, ignore_index=True)
        frames.clear()  # each part freed as soon as it is joined: never the parts and the whole at once
        joined[kind] = unparked(whole, dtypes[kind])
    return joined["leads"], joined["keys"], joined["changes"]


def _read_chunk(raw: pd.DataFrame, export_map: ExportMap) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """A chunk's cleaned lead columns (+ row), what unusable_rows needs of its raw cells, and its changes."""
    leads, created_blank, changes = _clean_leads(raw, export_map)
    # the raw id and date only where they could not be read (the rejections quote them): a raw cell kept for
    # every row would pin all of the chunk's cells in memory
    keys = pd.DataFrame(
        {
            "row": raw["row"],
            "broken": raw.iloc[:, 0].eq(BROKEN_LINE),
            "copy_key": raw["copy_key"],
            "lead_id": raw[export_map.leads.lead_id].astype("string").where(leads["lead_id"].isna()),
            "created_at": raw[export_map.leads.created_at].astype("string").where(leads["created_at"].isna()),
            "created_blank": created_blank,
        }
    )
    return leads.assign(row=raw["row"]), keys, changes


def _clean_leads(
    raw: pd.DataFrame, export_map: ExportMap
) -> tuple[pd.DataFrame, pd.Series, list[pd.DataFrame]]:
    """The canonical text and number columns, cleaned; whether each creation date is blank (or a placeholder);
    the changes made (one frame per field). Each column is cleaned on its distinct values: a column of a
    million cells holds a few thousand."""
    columns = {f: c for f, c in export_map.leads.model_dump().items() if c is not None and f != "created_at"}
    out, changes = pd.DataFrame(index=raw.index), []
    lead_ids = raw[export_map.leads.lead_id].str.strip()
    rows = raw["row"].to_numpy()
    for name, header in columns.items():
        codes, values = _distinct(raw[header])
        text, method, score = _clean_values(name, values, export_map)
        out[name] = _per_row(text, codes, raw.index)
        per_row = _per_row(method, codes, raw.index), _per_row(score, codes, raw.index)
        changes.append(listed(name, *per_row, raw[header], out[name], lead_ids, rows))
    codes, values = _distinct(raw[export_map.leads.created_at])
    trimmed = clean.trim_and_blank(values, export_map.placeholders)[0]
    stamps, which = clean.parse_dates(trimmed, export_map.dates.formats, export_map.dates.timezone)
    out["created_at"] = _per_row(stamps, codes, raw.index)
    other_format = (which > 0).map({True: "date format", False: pd.NA}).astype("string")
    created = raw[export_map.leads.created_at]
    method = _per_row(other_format, codes, raw.index)
    changes.append(
        listed("created_at", method, clean.no_score(raw.index), created, out["created_at"], lead_ids, rows)
    )
    return out, _per_row(trimmed.isna(), codes, raw.index), [c for c in changes if len(c)]


def _distinct(column: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes into the column's distinct values (a missing cell is one of them), and those values, in order of
    first appearance."""
    if column.dtype == object:
        try:  # a file's cells are all text: Arrow encodes them in half of pandas' time
            encoded = pa.array(column.to_numpy(), type=pa.string(), from_pandas=False).dictionary_encode()
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # a cell that is not text (or missing): pandas factorizes anything
        else:
            if not encoded.null_count:
                codes = encoded.indices.to_numpy().astype(np.intp)
                return codes, pd.Series(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    codes, values = column.factorize(use_na_sentinel=False)
    return codes, pd.Series(values.to_numpy(), dtype=column.dtype)


def _per_row(per_value: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """A column of one value per distinct value, as one per row."""
    return pd.Series(per_value.array.take(codes), index=index, name=per_value.name)


def _clean_values(name: str, values: pd.Series, export_map: ExportMap) -> clean.Scored:
    """One field's distinct raw values cleaned: the values, the method of each change, the score of each
    fuzzy correction."""
    text, method = clean.trim_and_blank(values, export_map.placeholders)
    text, mapped = clean.map_values(text, export_map.values.get(name, {}))
    method, score = clean.then(method, mapped), clean.no_score(values.index)
    for fix in _fixes_for(name, export_map):
        text, fixed, *scored = fix(text)
        method, score = clean.then(method, fixed), scored[0].fillna(score) if scored else score
    if pd.api.types.is_string_dtype(text.dtype):  # steps that undo each other ("US" -> alias -> "US")
        method = method.mask(text.eq(values).fillna(False))
    return text, method, score


def _fixes_for(name: str, export_map: ExportMap) -> list:
    if name in export_map.fields.names and (custom := export_map.custom_fix(name)):
        return [custom]
    if name in ("employees", "annual_revenue"):
        return [clean.numbers, _whole] if name == "employees" else [clean.numbers]
    if name == "country":
        return [clean.countries]
    if name in TEXT_FIXES:
        return [TEXT_FIXES[name]]
    if export_map.known_values(name):
        return [lambda text: clean.to_vocabulary(text, export_map.known_values(name))]
    return []


def _whole(values: pd.Series) -> clean.Changed:
    """Head counts as whole numbers (a export's 12.0 is 12)."""
    return values.round(0), clean.no_change(values.index)
