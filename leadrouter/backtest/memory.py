"""Memory handed back between the backtest's stages: a million-row import leaves hundreds of MiB freed but
held by the allocator, and the replay that follows peaks on top of them.

Text kept while an export is read is parked in Arrow buffers: a kept Python str made while a chunk's cells are
alive lands among them in Python's small-object heap, and one kept value holds a whole 16 KiB pool (1 MiB
arena) of freed cells. Parked text turns back into Python strings once every chunk is read and freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache

import numpy as np
import pandas as pd

ARROW_TEXT = pd.StringDtype("pyarrow")


def release_memory() -> None:
    """Collect garbage, then ask glibc to return its freed pages to the system (a no-op elsewhere)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim():  # glibc only: musl and macOS have no malloc_trim
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


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
