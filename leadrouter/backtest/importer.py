"""Import a CRM export (leads and deals CSV) through its column map: clean every cell, drop what cannot be used
with a reason per row, and hand on the canonical lead frame, validated as routing validates it.

A CSV row number is the row a spreadsheet shows (the header is row 1). Nothing in a cell can fail the import:
an unusable row gets a reason (what, which field, the fix); a messy but usable one is kept and counted.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from leadrouter.backtest import cleaning as clean
from leadrouter.backtest.column_map import ExportMap, require_columns
from leadrouter.config import ConfigError
from leadrouter.dedupe import normalize_email
from leadrouter.fields import conform_leads
from leadrouter.schema import column
from leadrouter.validate.suite import excerpt, validate_leads

REJECTED_COLUMNS = ["row", "lead_id", "reason", "field", "value", "fix"]
CHANGE_COLUMNS = ["row", "lead_id", "field", "change", "value"]
FIRST_ROW = 2  # the header is the spreadsheet's row 1
BROKEN_LINE = "\x00broken line"  # what a row with the wrong number of cells reads as
TEXT_FIXES = {"email": clean.recase_email, "first_name": clean.recase_name, "last_name": clean.recase_name}
FIXES = {
    "broken_line": "re-export the file: this line has a different number of cells than the header",
    "duplicate_row": "none needed: an exact copy of an earlier row, dropped",
    "missing_lead_id": "export the lead id column filled for every row",
    "duplicate_lead_id": "keep one row per lead in the export (the earliest row was used)",
    "bad_created_at": "write the date in one of the map's dates.formats",
    "no_lead": "none needed if the lead is not in the export: else check the deal's link column",
}


@dataclass
class ImportResult:
    """leads: validated canonical rows that may route (+ row, historical_owner); rejected: one row per unusable
    CSV row (REJECTED_COLUMNS); changes: one row per cleaned cell (CHANGE_COLUMNS)."""

    rows: int
    leads: pd.DataFrame
    rejected: pd.DataFrame
    changes: pd.DataFrame
    warnings: pd.DataFrame = field(default_factory=pd.DataFrame)  # validation's report of warnings

    @property
    def cleaned_rows(self) -> pd.Index:
        """Rows of usable leads that needed cleaning."""
        return pd.Index(self.changes["row"].unique()).intersection(pd.Index(self.leads["row"]))

    def cleaned_by_change(self) -> dict[str, int]:
        """Cleaned cells of usable leads per "field: change"."""
        kept = self.changes[self.changes["row"].isin(self.leads["row"])]
        counts = (kept["field"] + ": " + kept["change"]).value_counts().sort_index()
        return {str(k): int(v) for k, v in counts.items()}

    def summary(self) -> dict:
        reasons = self.rejected["reason"].value_counts().sort_index()
        return {
            "rows": self.rows,
            "usable": len(self.leads),
            "clean": len(self.leads) - len(self.cleaned_rows),
            "cleaned": len(self.cleaned_rows),
            "rejected": len(self.rejected),
            "rejected_by_reason": {str(k): int(v) for k, v in reasons.items()},
            "cleaned_by_change": self.cleaned_by_change(),
        }


def read_csv(path: Path) -> pd.DataFrame:
    """Every cell as text, nothing guessed; a line with too many or too few cells stays as a broken row."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, "", f"cannot read the export ({exc})") from exc
    if not header:
        raise ConfigError(path, 1, "", "the export is empty: it needs a header row")
    broken = [BROKEN_LINE] * len(header)
    frame = pd.read_csv(
        path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig", engine="python",
        on_bad_lines=lambda _cells: broken, index_col=False,
    ).reindex(columns=header)  # fmt: skip
    # with na_filter off an empty cell is "": a missing one is a line with too few cells
    frame.loc[frame.isna().any(axis=1), frame.columns[0]] = BROKEN_LINE
    return frame.fillna("")


def import_leads(path: Path, export_map: ExportMap, map_path: Path) -> ImportResult:
    """Read, clean, drop unusable rows (with reasons) and validate the leads of an export."""
    raw = read_csv(path)
    require_columns(list(raw.columns), export_map.leads, "leads", export_map, map_path, path)
    row = pd.Series(np.arange(len(raw)) + FIRST_ROW, index=raw.index)
    leads, changes = _clean_leads(raw, export_map)
    rejected = _unusable(raw, leads, row, export_map)
    usable = ~row.isin(rejected["row"])
    changes = pd.concat(changes, ignore_index=True) if changes else pd.DataFrame(columns=CHANGE_COLUMNS)
    candidates = leads[usable].assign(row=row[usable])
    typed = conform_leads(candidates, export_map.fields)
    checked = validate_leads(typed.assign(row=candidates["row"].to_numpy()), export_map.fields.required)
    invalid = _invalid_rows(checked.quarantined, candidates)
    owners = column(candidates, "owner").set_axis(candidates["row"].to_numpy())
    valid = checked.valid.assign(historical_owner=checked.valid["row"].map(owners).astype("string"))
    warnings = checked.report[(checked.report["severity"] == "warning") & (checked.report["failed"] > 0)]
    rejected = pd.concat([rejected, invalid], ignore_index=True).sort_values("row", kind="stable")
    return ImportResult(len(raw), valid, rejected.reset_index(drop=True), changes, warnings)


def _clean_leads(raw: pd.DataFrame, export_map: ExportMap) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """The canonical text and number columns, cleaned, and the changes made (one frame per field)."""
    columns = {f: c for f, c in export_map.leads.model_dump().items() if c is not None and f != "created_at"}
    out, changes = pd.DataFrame(index=raw.index), []
    lead_ids = raw[export_map.leads.lead_id].str.strip()
    for name, header in columns.items():
        text, change = clean.trim_and_blank(raw[header], export_map.placeholders)
        text, mapped = clean.map_values(text, export_map.values.get(name, {}))
        change = mapped.fillna(change)
        for fix in _fixes_for(name, export_map):
            text, fixed = fix(text)
            change = fixed.fillna(change)
        out[name] = text
        changes.append(_changes(change, name, raw[header], lead_ids))
    stamps, which = clean.parse_dates(
        clean.trim_and_blank(raw[export_map.leads.created_at], export_map.placeholders)[0],
        export_map.dates.formats,
        export_map.dates.timezone,
    )
    out["created_at"] = stamps
    other_format = (which > 0).map({True: "date in another format", False: pd.NA}).astype("string")
    changes.append(_changes(other_format, "created_at", raw[export_map.leads.created_at], lead_ids))
    return out, [c for c in changes if len(c)]


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


def _changes(change: pd.Series, name: str, raw: pd.Series, lead_ids: pd.Series) -> pd.DataFrame:
    at = change.notna().to_numpy()
    return pd.DataFrame(
        {
            "row": np.flatnonzero(at) + FIRST_ROW,
            "lead_id": lead_ids[at].to_numpy(),
            "field": name,
            "change": change[at].to_numpy(),
            "value": [excerpt(v) for v in raw[at]],
        }
    )


def _unusable(raw: pd.DataFrame, leads: pd.DataFrame, row: pd.Series, export_map: ExportMap) -> pd.DataFrame:
    """One reason per unusable row, the first that applies: a broken line, an exact copy of an earlier row, no
    lead id, a lead id an earlier row has, no readable creation date."""
    reason = pd.Series(pd.NA, index=raw.index, dtype="string")
    column = pd.Series(pd.NA, index=raw.index, dtype="string")
    detail = pd.Series("", index=raw.index, dtype="string")

    def mark(hit: pd.Series, name: str, field_name: str, value: pd.Series) -> None:
        hit = hit.fillna(False).astype(bool) & reason.isna()
        reason[hit], column[hit], detail[hit] = name, field_name, value[hit]

    created = export_map.leads.created_at
    broken = raw.iloc[:, 0].eq(BROKEN_LINE)
    mark(broken, "broken_line", "*", pd.Series("", index=raw.index))
    copy_of = clean.first_copy_rows(pd.Series(pd.util.hash_pandas_object(raw, index=False), index=raw.index))
    mark(
        copy_of != np.arange(len(raw)),
        "duplicate_row",
        "*",
        "copy of row " + (copy_of + FIRST_ROW).astype("Int64").astype("string"),
    )
    ids = leads["lead_id"].where(reason.isna())
    mark(ids.isna(), "missing_lead_id", "lead_id", raw[export_map.leads.lead_id].map(excerpt))
    first = clean.first_copy_rows(ids)
    mark(
        first != np.arange(len(raw)),
        "duplicate_lead_id",
        "lead_id",
        "same id as row " + (first + FIRST_ROW).astype("Int64").astype("string"),
    )
    mark(leads["created_at"].isna(), "bad_created_at", "created_at", raw[created].map(excerpt))
    bad = reason.notna()
    return pd.DataFrame(
        {
            "row": row[bad].to_numpy(),
            "lead_id": leads.loc[bad, "lead_id"].astype("string").mask(broken[bad]).to_numpy(),
            "reason": reason[bad].to_numpy(),
            "field": column[bad].to_numpy(),
            "value": detail[bad].to_numpy(),
            "fix": reason[bad].map(FIXES).to_numpy(),
        }
    )


def _invalid_rows(quarantined: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """Rows validation stopped, each with its first blocking check as the reason."""
    if quarantined.empty:
        return pd.DataFrame(columns=REJECTED_COLUMNS)
    first = [next(r for r in reasons if r["severity"] == "blocking") for reasons in quarantined["reasons"]]
    rows = candidates.drop_duplicates("lead_id").set_index("lead_id")["row"]
    return pd.DataFrame(
        {
            "row": quarantined["lead_id"].map(rows).to_numpy(),
            "lead_id": quarantined["lead_id"].to_numpy(),
            "reason": ["invalid:" + r["check"] for r in first],
            "field": [r["column"] for r in first],
            "value": [r["value"] for r in first],
            "fix": [r["fix"] for r in first],
        }
    )


@dataclass
class DealImport:
    """deals: one row per lead with a deal, in the store's outcomes shape (lead_id, deal_id, is_closed, is_won,
    amount, close_date, first_seen_at); rejected: deal rows that name no usable lead."""

    rows: int
    deals: pd.DataFrame
    rejected: pd.DataFrame
    extra: int  # further deals of a lead that has one already (the earliest is its outcome)


def import_deals(path: Path, export_map: ExportMap, map_path: Path, leads: pd.DataFrame) -> DealImport:
    """Read and clean the deals, link each to its lead (by id, else by email) among the usable leads."""
    raw = read_csv(path)
    spec = export_map.deals
    if spec is None:
        raise ConfigError(map_path, None, "deals", "the map has no deals section: add one to read deals")
    require_columns(list(raw.columns), spec, "deals", export_map, map_path, path)
    cell = lambda name: (  # noqa: E731
        clean.trim_and_blank(raw[getattr(spec, name)], export_map.placeholders)[0]
        if getattr(spec, name)
        else pd.Series(pd.NA, index=raw.index, dtype="string")
    )
    lead_id = cell("lead_id")
    if spec.email:  # a deal without a lead id finds its lead by email
        by_email = leads.assign(key=normalize_email(leads["email"])).drop_duplicates("key").set_index("key")
        lead_id = lead_id.fillna(normalize_email(cell("email")).map(by_email["lead_id"]))
    known = lead_id.isin(leads["lead_id"]).fillna(False).astype(bool)
    formats, zone = export_map.dates.formats, export_map.dates.timezone
    stage = cell("stage")
    won = clean.yes_no(cell("won")) if spec.won else clean.yes_no(stage)
    out = pd.DataFrame(
        {
            "lead_id": lead_id,
            "deal_id": cell("deal_id").fillna(
                "row " + pd.Series(np.arange(len(raw)) + FIRST_ROW, index=raw.index).astype(str)
            ),
            "amount": clean.numbers(cell("amount"))[0].fillna(0.0).astype(float),
            "is_won": won.fillna(False).astype(bool),
            "close_date": clean.parse_dates(cell("close_date"), formats, zone)[0],
            "first_seen_at": clean.parse_dates(cell("created_at"), formats, zone)[0],
        }
    )
    closed = stage.str.contains(r"(?i)closed", regex=True).fillna(False) | out["is_won"]
    out["is_closed"] = (closed if spec.stage else out["close_date"].notna()).astype(bool)
    rejected = pd.DataFrame(
        {
            "row": np.flatnonzero(~known) + FIRST_ROW,
            "lead_id": lead_id[~known].to_numpy(),
            "reason": "no_lead",
            "field": "lead_id" if spec.lead_id else "email",
            "value": raw.loc[~known, spec.lead_id or spec.email].map(excerpt).to_numpy(),
            "fix": FIXES["no_lead"],
        }
    )
    linked = out[known].sort_values(["lead_id", "first_seen_at", "close_date"], kind="stable")
    first = linked.drop_duplicates("lead_id")
    return DealImport(len(raw), first.reset_index(drop=True), rejected, len(linked) - len(first))
