"""What an import changed and left: one listed row per cleaned cell (the raw and new value, the method and the
score of a fuzzy correction), and the values it kept outside a field's vocabulary, with their row counts.

Values are untrusted text: both listings show excerpts (control characters and angle brackets escaped, cut).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadrouter.backtest import cleaning as clean
from leadrouter.backtest.column_map import ExportMap
from leadrouter.validate.suite import excerpt

CHANGE_COLUMNS = ["row", "lead_id", "field", "raw", "new", "method", "score"]
OUTSIDE_COLUMNS = ["field", "value", "rows"]


def listed(
    name: str,
    method: pd.Series,
    score: pd.Series,
    raw: pd.Series,
    new: pd.Series,
    lead_ids: pd.Series,
    rows: np.ndarray,
) -> pd.DataFrame:
    """One row (CHANGE_COLUMNS) per cell of field `name` with a method: its CSV row, raw and new value."""
    at = method.notna().to_numpy()
    return pd.DataFrame(
        {
            "row": rows[at],
            "lead_id": lead_ids[at].to_numpy(),
            "field": name,
            "raw": excerpts(raw[at]),
            "new": excerpts(new[at]),
            "method": method[at].to_numpy(),
            "score": score[at].to_numpy(),
        },
        columns=CHANGE_COLUMNS,
    )


def excerpts(values: pd.Series) -> np.ndarray:
    """excerpt of each value, made once per distinct value."""
    codes, distinct = pd.factorize(values)
    return np.array([*map(excerpt, distinct), excerpt(None)], dtype=object)[codes]


def outside_values(leads: pd.DataFrame, export_map: ExportMap) -> pd.DataFrame:
    """Per field with a vocabulary, each value of the leads that is no word of it and its row count
    (OUTSIDE_COLUMNS), most rows first."""
    parts = []
    for name in [n for n in export_map.leads.model_dump() if n in leads and export_map.known_values(n)]:
        text = leads[name].astype("string")
        counts = text[clean.outside_vocabulary(text, export_map.known_values(name))].value_counts()
        parts.append(pd.DataFrame({"field": name, "value": excerpts(counts.index.to_series()),
                                   "rows": counts.to_numpy()}))  # fmt: skip
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=OUTSIDE_COLUMNS)
