"""Memory handed back to the system: pandas work frees hundreds of MiB that glibc keeps for the process, and
the next batch or stage would peak on top of them."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import platform
from functools import cache


def release_memory(generation: int = 2) -> None:
    """Collect garbage (the generations up to `generation`, as gc.collect), then ask glibc to return its freed
    pages to the system (a no-op elsewhere)."""
    gc.collect(generation)
    trim = _libc_function("malloc_trim")
    if trim is not None:
        trim(0)


M_ARENA_MAX = -8  # glibc's mallopt parameter
ARENAS = 2  # one for the flow's thread, one shared by the task threads


def limit_arenas() -> None:
    """Cap glibc's malloc arenas (a no-op elsewhere). Each thread that allocates gets an arena of its own, up to
    eight per core; Prefect runs tasks in threads, and every arena kept the freed pages of the pages routed in
    it, a dozen MiB more at a backlog's peak."""
    mallopt = _libc_function("mallopt")
    if mallopt is not None:
        mallopt(M_ARENA_MAX, ARENAS)


@cache
def _libc_function(name: str):  # glibc's: musl and macOS have no malloc_trim, nor these mallopt parameters
    library = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(library), name) if library and _is_glibc() else None
    except (OSError, AttributeError):
        return None


def _is_glibc() -> bool:
    return platform.libc_ver()[0] == "glibc"
