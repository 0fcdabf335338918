"""What a long-lived process keeps between routing runs: each config file as parsed, until the file changes,
and the CRM's owners for a short while. A warm worker runs every flow run in one process; without these,
each run re-read four YAML files and called the CRM for its users before the first lead moved."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

import pandas as pd

T = TypeVar("T")

MAX_FILES = 32  # a worker serves a few settings blocks, each naming a handful of files
DIGEST_BYTES = 1 << 20  # config files; a model file is replaced whole (a new inode)
OWNERS_TTL_S = 60.0  # a rep added in the CRM is routable this soon, without a restart

_lock = threading.Lock()
_files: OrderedDict[tuple, object] = OrderedDict()
_owners: dict[Hashable, tuple[float, pd.DataFrame]] = {}


def file_stamp(path: Path | str) -> tuple | None:
    """The file's resolved path, inode, mtime (ns) and size, and for a small file a digest of its bytes too:
    mtimes tick in milliseconds, and an edit of the same length within one tick would look unchanged. None
    when the file cannot be read (the loader then says why)."""
    try:
        resolved = Path(path).resolve()
        stat = resolved.stat()
        digest = (
            hashlib.blake2b(resolved.read_bytes(), digest_size=16).digest()
            if stat.st_size <= DIGEST_BYTES
            else None
        )
    except OSError:
        return None
    return str(resolved), stat.st_ino, stat.st_mtime_ns, stat.st_size, digest


def load_file(kind: str, path: Path | str, load: Callable[[Path], T], *key: Hashable) -> T:
    """load(path), or what it returned for this file with the same stamp (file_stamp) and the same `key`
    (what else the parse depended on). A file that fails to load is not kept: the next run fails the same way,
    with the loader's own error."""
    stamp = file_stamp(path)
    if stamp is None:
        return load(Path(path))
    full = (kind, stamp, *key)
    with _lock:
        if full in _files:
            _files.move_to_end(full)
            return _files[full]  # type: ignore[return-value]
    loaded = load(Path(path))
    with _lock:
        _files[full] = loaded
        while len(_files) > MAX_FILES:
            _files.popitem(last=False)
    return loaded


def owners(crm_key: Hashable, fetch: Callable[[], pd.DataFrame], ttl_s: float = OWNERS_TTL_S) -> pd.DataFrame:
    """The CRM's active owners (fetch()), fetched again once ttl_s has passed or after forget_owners."""
    now = time.monotonic()
    with _lock:
        hit = _owners.get(crm_key)
    if hit is not None and now - hit[0] < ttl_s:
        return hit[1].copy()
    fetched = fetch()
    with _lock:
        _owners[crm_key] = (now, fetched)
    return fetched.copy()


def forget_owners(crm_key: Hashable | None = None) -> None:
    """Drop the owners kept for one CRM (all when None): a write the CRM refused may name a user it no longer
    has, and the next run must map the roster's emails afresh."""
    with _lock:
        if crm_key is None:
            _owners.clear()
        else:
            _owners.pop(crm_key, None)


def forget_files() -> None:
    """Drop every parsed file (tests; a process that wants a clean start)."""
    with _lock:
        _files.clear()
