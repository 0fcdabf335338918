"""Pull: the leads modified since the watermark that the ledger has not decided yet."""

from __future__ import annotations

import pandas as pd

from leadrouter.crm.base import CRM, rewind
from leadrouter.store import Store, watermarks
from leadrouter.store.decisions import undecided
from leadrouter.store.quarantine import released_undecided


def pull_new_leads(
    store: Store,
    crm: CRM,
    source: str,
    limit: int,
    lookback_s: float = 0.0,
    with_released: bool = False,
    after: str | None = None,
) -> tuple[pd.DataFrame, str | None]:
    """Undecided leads of the next page after the watermark, and the cursor after the page (None when empty).

    lookback_s starts the page that long before the watermark: a record saved in a transaction that commits
    late carries an earlier stamp than records already pulled, and would otherwise be passed by for good.
    Leads re-read that way, and leads our own owner write re-surfaced, are already decided: dropped.
    with_released adds the leads released from quarantine since (see leadrouter.store.quarantine).
    after: the cursor of the page before, when its watermark may not have moved yet (route-inbound writes a
    page's owners while it reads the next); None reads on after the watermark.
    """
    since = after if after is not None else rewind(watermarks.get_watermark(store, source), lookback_s)
    leads, cursor = crm.fetch_new_leads(since, limit)
    if with_released and (released := released_undecided(store, source)):
        # released from quarantine after a fix in the CRM: fetched by id, the watermark may be long past them
        again = crm.fetch_leads(released)
        leads = (
            pd.concat([leads, again], ignore_index=True).drop_duplicates("lead_id", keep="last")
            if len(leads)
            else again
        )
    return undecided(store, source, leads), (cursor if len(leads) else None)
