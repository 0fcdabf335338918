"""Pull: the leads modified since the watermark that the ledger has not decided yet."""

from __future__ import annotations

import pandas as pd

from leadrouter.crm.base import CRM, rewind
from leadrouter.store import Store, ledger


def pull_new_leads(
    store: Store, crm: CRM, source: str, limit: int, lookback_s: float = 0.0
) -> tuple[pd.DataFrame, str | None]:
    """Undecided leads of the next page after the watermark, and the cursor after the page (None when empty).

    lookback_s starts the page that long before the watermark: a record saved in a transaction that commits
    late carries an earlier stamp than records already pulled, and would otherwise be passed by for good.
    Leads re-read that way, and leads our own owner write re-surfaced, are already decided: dropped.
    """
    since = rewind(ledger.get_watermark(store, source), lookback_s)
    leads, cursor = crm.fetch_new_leads(since, limit)
    return ledger.undecided(store, source, leads), (cursor if len(leads) else None)
