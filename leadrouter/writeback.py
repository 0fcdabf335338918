"""Write recorded owners back to the CRM: claim, write in one batch call, record each lead's outcome."""

from __future__ import annotations

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

    Leads are claimed `chunk` at a time, so each claim's writes finish well inside its lease and no other
    router can take them over mid-write. A chunk with leads to retry ends the pass: the CRM is struggling,
    and the rest waits for the next run (what this router recorded claimed is released to it).
    """
    results = []
    try:
        while sum(map(len, results)) < limit:
            size = min(chunk, limit - sum(map(len, results)))
            written = _write_chunk(store, crm, source, claim, size, lease)
            results.append(written)
            if len(written) < chunk or written["retry"].any():
                break
    finally:
        write_claims.release_claims(store, source, claim)
    return pd.concat(results, ignore_index=True) if results else pd.DataFrame(columns=WRITE_RESULT_COLUMNS)


def _write_chunk(
    store: Store, crm: CRM, source: str, claim: str, limit: int, lease: timedelta
) -> pd.DataFrame:
    """Claim up to `limit` decisions, write them in one adapter call, record each lead's outcome.

    A transport failure of the whole call puts the claimed leads back to recorded for the next try, then raises.
    """
    claimed = write_claims.claim_for_write(store, source, claim, lease, limit)
    if claimed.empty:
        return pd.DataFrame(columns=WRITE_RESULT_COLUMNS).astype({"ok": bool, "retry": bool})
    landed = _landed_in_crm(crm, claimed)
    found = claimed.loc[landed, ["id", "lead_id"]].assign(ok=True, retry=False, error=None)
    claimed = claimed[~landed]
    try:
        results = _write(crm, claimed[["lead_id", "owner_id", "tier", "routing_reason", "reopen"]])
    except Exception as exc:
        failed = claimed[["id"]].assign(ok=False, retry=True, error=f"{type(exc).__name__}: {exc}"[:500])
        write_claims.finish_writes(
            store, claim, pd.concat([f for f in (found, failed) if len(f)], ignore_index=True)
        )
        raise
    results = claimed[["id", "lead_id"]].merge(results, on="lead_id", how="left")
    missing = results["ok"].isna()  # an adapter that skipped a lead: retry it, never lose it
    results.loc[missing, ["ok", "retry", "error"]] = [False, True, "no result returned for this lead"]
    results = pd.concat([f for f in (found, results) if len(f)], ignore_index=True)
    results = results.astype({"ok": bool, "retry": bool})
    write_claims.finish_writes(store, claim, results)
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
