"""Pull: the leads modified since the watermark that the ledger has not decided yet."""

from __future__ import annotations

import pandas as pd

from leadrouter.crm.base import CRM
from leadrouter.store import Store, ledger


def pull_new_leads(store: Store, crm: CRM, source: str, limit: int) -> tuple[pd.DataFrame, str | None]:
    """Undecided leads of the next page after the watermark, and the cursor after the page (None when empty).

    Leads our own owner write re-surfaced (it bumps their modification stamp) are already decided: dropped.
    """
    leads, cursor = crm.fetch_new_leads(ledger.get_watermark(store, source), limit)
    return ledger.undecided(store, source, leads), (cursor if len(leads) else None)
