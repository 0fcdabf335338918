"""Text parked out of Python's heap while an export is read (leadrouter.memory hands freed memory back between
the backtest's stages).

Text kept while an export is read is parked in Arrow buffers: a kept Python str made while a chunk's cells are
alive lands among them in Python's small-object heap, and one kept value holds a whole 16 KiB pool (1 MiB
arena) of freed cells. Parked text turns back into Python strings once every chunk is read and freed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ARROW_TEXT = pd.StringDtype("pyarrow")


def parked(frame: pd.DataFrame) -> pd.DataFrame:
    """frame with its text columns (Python-backed "string", or object holding only text) held by Arrow."""
    out = frame.copy(deep=False)
    for name in [c for c in frame.columns if _python_text(frame[c])]:
        try:
            out[name] = frame[name].astype(ARROW_TEXT)
        except (UnicodeEncodeError, ValueError):  # a lone surrogate has no UTF-8: that column stays as it is
            continue
    return out


def unparked(frame: pd.DataFrame, dtypes: pd.Series) -> pd.DataFrame:
    """A parked frame with its text back in `dtypes` (the frame's dtypes before parking), one Python str per
    distinct value of a column (as the import's cleaning shares them)."""
    for name in [c for c in frame.columns if frame[c].dtype == ARROW_TEXT and dtypes[c] != ARROW_TEXT]:
        codes, distinct = pd.factorize(frame[name])
        values = distinct.to_numpy(dtype=object, na_value=pd.NA)
        if pd.api.types.is_object_dtype(dtypes[name]):
            cells = np.append(values, pd.NA)[codes]  # code -1 (a missing value) takes the appended NA
        else:
            cells = pd.array(values, dtype=dtypes[name]).take(codes, allow_fill=True)
        frame[name] = pd.Series(cells, index=frame.index, dtype=dtypes[name])
    return frame


def _python_text(column: pd.Series) -> bool:
    if isinstance(column.dtype, pd.StringDtype):
        return column.dtype.storage == "python"
    return column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")
