"""Write recorded owners back to the CRM: claim, write in one batch call, record each lead's outcome."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from leadrouter.crm.base import CRM, WRITE_RESULT_COLUMNS
from leadrouter.store import Store, ledger


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
    and the rest waits for the next run.
    """
    results = []
    while sum(map(len, results)) < limit:
        written = _write_chunk(store, crm, source, claim, min(chunk, limit - sum(map(len, results))), lease)
        results.append(written)
        if len(written) < chunk or written["retry"].any():
            break
    return pd.concat(results, ignore_index=True) if results else pd.DataFrame(columns=WRITE_RESULT_COLUMNS)


def _write_chunk(
    store: Store, crm: CRM, source: str, claim: str, limit: int, lease: timedelta
) -> pd.DataFrame:
    """Claim up to `limit` decisions, write them in one adapter call, record each lead's outcome.

    A transport failure of the whole call puts the claimed leads back to recorded for the next try, then raises.
    """
    claimed = ledger.claim_for_write(store, source, claim, lease, limit)
    if claimed.empty:
        return pd.DataFrame(columns=WRITE_RESULT_COLUMNS).astype({"ok": bool, "retry": bool})
    claimed["routing_reason"] = claimed["explanation"].map(lambda e: (e or {}).get("summary"))
    claimed["reopen"] = claimed["explanation"].map(lambda e: bool((e or {}).get("reopen"))).astype(bool)
    try:
        results = crm.write_assignments(claimed[["lead_id", "owner_id", "tier", "routing_reason", "reopen"]])
    except Exception as exc:
        failed = claimed[["id"]].assign(ok=False, retry=True, error=f"{type(exc).__name__}: {exc}"[:500])
        ledger.finish_writes(store, claim, failed)
        raise
    results = claimed[["id", "lead_id"]].merge(results, on="lead_id", how="left")
    missing = results["ok"].isna()  # an adapter that skipped a lead: retry it, never lose it
    results.loc[missing, ["ok", "retry", "error"]] = [False, True, "no result returned for this lead"]
    results = results.astype({"ok": bool, "retry": bool})
    ledger.finish_writes(store, claim, results)
    return results[WRITE_RESULT_COLUMNS]
