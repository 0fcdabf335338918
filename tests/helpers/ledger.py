"""Classified leads as the ledger's tests record them, with the sample roster and no quarantined rows."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from sqlalchemy import update

from leadrouter import clock
from leadrouter.config import PROJECT_ROOT
from leadrouter.schema import Status
from leadrouter.store import Store
from leadrouter.store.tables import decisions

ROSTER = PROJECT_ROOT / "config" / "roster.yaml"
NO_QUARANTINE = pd.DataFrame({"lead_id": pd.Series([], dtype="string"), "reason": [], "reasons": []})


def classified(n: int, start: int = 0, tier: str | None = "Standard") -> pd.DataFrame:
    """n Standard leads (L000000, ...) decided by a rule, arriving a second apart from 1 Nov 2026."""
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:06d}" for i in range(start, start + n)],
            "tier": pd.array([tier] * n, dtype="string"),
            "category": "sales",
            "priority": pd.array([2] * n, dtype="Int64"),
            "decided_by": "rule:test",
            "confidence": 1.0,
            "pool": pd.array([pd.NA] * n, dtype="string"),
            "region": pd.array(["NA"] * n, dtype="string"),
            "created_at": pd.date_range("2026-11-01", periods=n, freq="s", tz="UTC"),
        }
    )


def leads(n: int, tier: str, region: str = "NA", start: int = 0) -> pd.DataFrame:
    """n priority-1 leads of one tier and region (S00000, ...) decided by a rule, from 25 Nov 2026 16:00."""
    return pd.DataFrame(
        {
            "lead_id": [f"S{i:05d}" for i in range(start, start + n)],
            "tier": pd.array([tier] * n, dtype="string"),
            "category": "sales",
            "priority": pd.array([1] * n, dtype="Int64"),
            "decided_by": "rule:test",
            "confidence": 1.0,
            "pool": pd.array([pd.NA] * n, dtype="string"),
            "region": pd.array([region] * n, dtype="string"),
            "created_at": pd.date_range("2026-11-25T16:00", periods=n, freq="s", tz="UTC"),
        }
    )


def expire_claims(store: Store) -> int:
    """Age every write claim past its lease, as time would: the next router may take the writes over."""
    with store.transaction() as conn:
        aged = conn.execute(
            update(decisions)
            .where(decisions.c.status == Status.WRITING.value)
            .values(claimed_at=clock.now() - timedelta(hours=1))
        )
    return aged.rowcount


def written(store: Store) -> None:
    """The write-back's effect: every recorded owner is now in the CRM (the clock only judges written leads)."""
    with store.transaction() as conn:
        conn.execute(update(decisions).where(decisions.c.status == "recorded").values(status="written"))
