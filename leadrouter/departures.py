"""A rep who leaves: deactivated in the CRM (switched off at the next run, their untouched leads re-routed
through the pools), or handed over on purpose (`leadrouter handover`: their book to a rep or through a pool)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pandas as pd

from leadrouter.assign.roster import Roster
from leadrouter.classify.rules import ResponseSla
from leadrouter.reroute import REROUTE_COLUMNS, reroute
from leadrouter.schema import Tier
from leadrouter.store import Store
from leadrouter.store.decisions import owned_leads


def deactivated_in_crm(roster: Roster, inactive: pd.DataFrame) -> list[str]:
    """Ids of the roster's active reps whose CRM user is deactivated (inactive_owners: owner_id, email)."""
    ids = set(inactive["owner_id"].astype(str))
    emails = set(inactive["email"].dropna().str.lower())
    return [r.key for r in roster.reps if r.active and (r.key in ids or r.email.lower() in emails)]


def reroute_departed(
    store: Store,
    source: str,
    roster: Roster,
    rep_ids: list[str],
    sla: Mapping[Tier, ResponseSla],
    at: datetime,
) -> pd.DataFrame:
    """The untouched leads of reps deactivated in the CRM, re-routed through their pools (why "deactivated");
    touched leads stay. roster: the routing roster, with those reps already switched off."""
    if not rep_ids:
        return pd.DataFrame(columns=REROUTE_COLUMNS)
    leads = owned_leads(store, source, rep_ids)["lead_id"].tolist()
    note = "user deactivated in the CRM"
    return reroute(store, source, leads, "deactivated", roster, dict(sla), at, note=note, untouched=True)
