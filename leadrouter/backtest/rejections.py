"""Why an imported row cannot be used: one reason per row (what, which field, the raw value, the fix), from the
file's own defects (broken lines, copies, missing or repeated ids, unreadable dates) and from validation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadrouter.backtest import cleaning as clean
from leadrouter.backtest.changes import excerpts
from leadrouter.backtest.column_map import ExportMap

REJECTED_COLUMNS = ["row", "lead_id", "reason", "field", "value", "fix"]
FIXES = {
    "broken_line": "re-export the file: this line has a different number of cells than the header",
    "duplicate_row": "none needed: an exact copy of an earlier row, dropped",
    "missing_lead_id": "export the lead id column filled for every row",
    "duplicate_lead_id": "keep one row per lead in the export (the earliest row was used)",
    "missing_created_at": "the date is missing: fill it or drop the row",
    "bad_created_at": "write it in one of the map's formats: {formats}",
}


def unusable_rows(keys: pd.DataFrame, leads: pd.DataFrame, export_map: ExportMap) -> pd.DataFrame:
    """One reason per unusable row, the first that applies: a broken line, an exact copy of an earlier row, no
    lead id, a lead id an earlier row has, a blank creation date, an unreadable one."""
    reason = pd.Series(pd.NA, index=keys.index, dtype="string")
    column = pd.Series(pd.NA, index=keys.index, dtype="string")
    detail = pd.Series("", index=keys.index, dtype="string")
    row = keys["row"]

    def mark(hit: pd.Series, name: str, field_name: str, value: pd.Series) -> None:
        hit = hit.fillna(False).astype(bool) & reason.isna()
        reason[hit], column[hit], detail[hit] = name, field_name, value[hit]

    def unrejected(raw: pd.Series) -> pd.Series:
        # only rows not yet rejected can be hit: excerpt those alone (a million-row export has few)
        kept = raw.where(reason.isna()).dropna()
        return pd.Series(excerpts(kept), index=kept.index, dtype=object).reindex(raw.index)

    mark(keys["broken"], "broken_line", "*", pd.Series("", index=keys.index))
    copy_of = clean.first_copy_rows(keys["copy_key"])
    copied = copy_of != np.arange(len(keys))
    mark(copied, "duplicate_row", "*", "copy of row " + _row_at(row, copy_of))
    ids = leads["lead_id"].where(reason.isna())
    mark(ids.isna(), "missing_lead_id", "lead_id", unrejected(keys["lead_id"].where(ids.isna())))
    first = clean.first_copy_rows(ids)
    mark(
        first != np.arange(len(keys)), "duplicate_lead_id", "lead_id", "same id as row " + _row_at(row, first)
    )
    no_date = leads["created_at"].isna() & reason.isna()
    written = unrejected(keys["created_at"].where(no_date))
    mark(no_date & keys["created_blank"], "missing_created_at", "created_at", written)
    mark(no_date, "bad_created_at", "created_at", written)
    fixes = FIXES | {
        "bad_created_at": FIXES["bad_created_at"].format(formats=", ".join(export_map.dates.formats))
    }
    bad = reason.notna()
    return pd.DataFrame(
        {
            "row": row[bad].to_numpy(),
            "lead_id": leads.loc[bad, "lead_id"].astype("string").mask(keys.loc[bad, "broken"]).to_numpy(),
            "reason": reason[bad].to_numpy(),
            "field": column[bad].to_numpy(),
            "value": detail[bad].to_numpy(),
            "fix": reason[bad].map(fixes).to_numpy(),
        }
    )


def _row_at(row: pd.Series, position: pd.Series) -> pd.Series:
    """The spreadsheet row number at each position (<NA> where there is none), as text."""
    at = position.astype("Int64")
    found = pd.Series(row.to_numpy()[at.fillna(0).to_numpy()], index=position.index).astype("Int64")
    return found.mask(at.isna()).astype("string")


def invalid_rows(quarantined: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
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
