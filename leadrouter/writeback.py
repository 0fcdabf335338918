"""Write recorded owners back to the CRM: claim, write in one batch call, record each lead's outcome."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import pandas as pd

from leadrouter.crm.base import CRM, WRITE_RESULT_COLUMNS
from leadrouter.store import Store, write_claims


def write_back(
    store: Store,
    crm: CRM,
    source: str,
    claim: str,
    limit: int = 50_000,
    lease: timedelta = timedelta(minutes=5),
    chunk: int = 2_000,
) -> pd.DataFrame:
    """Write every recorded decision of the source (this batch's and any a crashed run left); one result per lead.

    What this router recorded claimed for itself is written first, then leads are claimed `chunk` at a time,
    so each claim's writes finish well inside its lease and no other router can take them over mid-write. A
    chunk with leads to retry ends the pass: the CRM is struggling, and the rest waits for the next run (what
    was held and never sent is released to it). Each chunk's outcomes are recorded while the CRM takes the
    next chunk.
    """
    results: list[pd.DataFrame] = []
    held = write_claims.held_claims(store, source, claim, lease, limit)
    unsent = set(held["id"].tolist())
    with Finisher(store, claim) as finish:
        try:
            for claimed in _chunks(store, source, claim, lease, limit, chunk, held, finish):
                unsent -= set(claimed["id"].tolist())
                written = _write_chunk(crm, claimed, finish)
                results.append(written)
                if written["retry"].any():
                    break
        finally:
            finish.wait()  # a failed record raises here, before anything is released
            if unsent:
                write_claims.release_claims(store, claim, sorted(unsent))
    return pd.concat(results, ignore_index=True) if results else pd.DataFrame(columns=WRITE_RESULT_COLUMNS)


class Finisher:
    """Records each chunk's outcomes (write_claims.finish_writes) in a thread of its own, one chunk at a time:
    the ledger's statements for one chunk run while the CRM takes the next. `wait` for the last one before the
    ledger is asked what is left to write; leaving the block waits for it, and raises what it raised."""

    def __init__(self, store: Store, claim: str) -> None:
        self.store, self.claim = store, claim
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="finish-writes")
        self._pending: Future | None = None

    def __call__(self, outcomes: pd.DataFrame) -> None:
        self.wait()
        self._pending = self._pool.submit(write_claims.finish_writes, self.store, self.claim, outcomes)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> Finisher:
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown()


def _chunks(
    store: Store,
    source: str,
    claim: str,
    lease: timedelta,
    limit: int,
    chunk: int,
    held: pd.DataFrame,
    finish: Finisher,
) -> Iterator[pd.DataFrame]:
    """The held decisions `chunk` at a time within the held window (write_claims.held_window), then claims of
    up to `chunk` decisions until one comes back short or `limit` leads were handed out."""
    handed, deadline = 0, time.monotonic() + write_claims.held_window(lease).total_seconds()
    for start in range(0, len(held), chunk):
        if time.monotonic() > deadline:  # another router may take them soon: the next run writes them
            return
        part = held.iloc[start : start + chunk]
        yield part
        handed += len(part)
    while handed < limit:
        finish.wait()  # what the last chunk left to retry is recorded, not claimed again under this pass
        claimed = write_claims.claim_for_write(store, source, claim, lease, min(chunk, limit - handed))
        if claimed.empty:
            return
        yield claimed
        handed += len(claimed)
        if len(claimed) < chunk:
            return


def _write_chunk(crm: CRM, claimed: pd.DataFrame, finish: Finisher) -> pd.DataFrame:
    """Write the claimed decisions in one adapter call and have each lead's outcome recorded.

    A transport failure of the whole call puts the claimed leads back to recorded for the next try, then raises.
    """
    landed = _landed_in_crm(crm, claimed)
    found = claimed.loc[landed, ["id", "lead_id"]].assign(ok=True, retry=False, error=None)
    claimed = claimed[~landed]
    try:
        results = _write(crm, claimed[["lead_id", "owner_id", "tier", "routing_reason", "reopen"]])
    except Exception as exc:
        failed = claimed[["id"]].assign(ok=False, retry=True, error=f"{type(exc).__name__}: {exc}"[:500])
        finish(pd.concat([f for f in (found, failed) if len(f)], ignore_index=True))
        raise
    results = claimed[["id", "lead_id"]].merge(results, on="lead_id", how="left")
    missing = results["ok"].isna()  # an adapter that skipped a lead: retry it, never lose it
    results.loc[missing, ["ok", "retry", "error"]] = [False, True, "no result returned for this lead"]
    results = pd.concat([f for f in (found, results) if len(f)], ignore_index=True)
    results = results.astype({"ok": bool, "retry": bool})
    finish(results)
    return results[WRITE_RESULT_COLUMNS]


def _landed_in_crm(crm: CRM, claimed: pd.DataFrame) -> pd.Series:
    """The writes taken over from an expired claim that the CRM already holds: the lead has the decided owner,
    tier and routing reason, and the CRM changed it after the decision was recorded.

    Their router died after the CRM took the write and before the ledger recorded it; writing them again
    would assign the lead a second time. The owner alone proves nothing when the decided owner is the one the
    lead already had (a web-to-lead queue that is also a routing target), nor does a change after the decision
    (a rep may edit the lead meanwhile): the routing fields the write sets are its mark. The change is
    compared to the whole second, the coarsest stamp a CRM keeps. Only retaken leads are read back, so a
    normal pass costs no call."""
    retaken = claimed[claimed["retaken"]]
    if retaken.empty:
        return pd.Series(False, index=claimed.index)
    now = crm.held_assignments(retaken[["lead_id", "owner_id", "tier", "routing_reason"]])
    now = now.set_axis(retaken.index)  # one row per asked lead, in order
    held = now["held"].astype(bool) & now["modified_at"].ge(retaken["decided_at"].dt.floor("s"))
    return held.reindex(claimed.index, fill_value=False)


def _write(crm: CRM, frame: pd.DataFrame) -> pd.DataFrame:
    """The adapter's batch write; nothing left to write (all retaken leads had landed) needs no call."""
    if frame.empty:
        return pd.DataFrame(columns=WRITE_RESULT_COLUMNS)
    return crm.write_assignments(frame)
