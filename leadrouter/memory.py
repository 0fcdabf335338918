"""Memory handed back to the system: pandas work frees hundreds of MiB that glibc keeps for the process, and
the next batch or stage would peak on top of them."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache


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
