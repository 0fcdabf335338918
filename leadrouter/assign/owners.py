"""Choose an owner for every classified lead, and say why.

The path: the lead's existing owner (a duplicate's or its account's owner, or the owner a rule names) if that
rep can take it, else their backup; otherwise the pool of the lead's tier and territory, its eligible reps
(active, covering the region, working within the tier's SLA, not on leave, with the pool's required skills),
reps with its preferred skills first (the lead's language, industry), reps with capacity left, weighted round robin among them; the pool's fallback when nobody can (see
leadrouter.assign.pools).
Every lead carries the path it took and each rep of its pool that was passed over, with a reason code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from leadrouter.assign.availability import covered, covering, remaining_capacity, rep_calendar, unavailable
from leadrouter.assign.batch import BatchState
from leadrouter.assign.pools import through_pools
from leadrouter.assign.roster import Roster
from leadrouter.schema import Tier, column

SALES_TIERS = [Tier.VIP.value, Tier.STANDARD.value]
OUTPUT_COLUMNS = ["pool", "owner_id", "assign_method", "routing_path", "excluded", "skills_matched"]


@dataclass
class Moment:
    """What assignment needs to know besides the leads: when it happens, how soon each tier must be worked,
    and each rep's load (assigned_today, open) from the ledger."""

    at: datetime
    windows: dict[str, timedelta | None] = field(default_factory=dict)  # tier -> how soon a rep must work
    load: pd.DataFrame = field(default_factory=pd.DataFrame)


def response_windows(sla: dict[Tier, object]) -> dict[str, timedelta | None]:
    """VIP needs a rep working now; another tier with an SLA a rep at work within it; the rest anyone."""
    windows: dict[str, timedelta | None] = {t.value: getattr(sla.get(t), "window", None) for t in Tier}
    windows[Tier.VIP.value] = timedelta(0)
    return windows


def assign_owners(
    frame: pd.DataFrame, roster: Roster, state: pd.DataFrame, moment: Moment
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (frame + OUTPUT_COLUMNS; the updated round-robin state).

    Leads are taken in arrival order (created_at, lead_id), so the same state, moment and input give the same
    owners.
    """
    out = frame.sort_values(["created_at", "lead_id"], kind="stable").reset_index(drop=True)
    calendar = rep_calendar(roster, moment.at)
    covers = covering(roster, moment.at)
    reasons = {
        t.value: covered(unavailable(calendar, moment.at, moment.windows.get(t.value)), covers) for t in Tier
    }
    run = BatchState(roster, reasons, remaining_capacity(roster, moment.load), state, moment.load, covers)
    out = out.assign(
        pool=column(out, "pool"),
        owner_id=pd.Series(pd.NA, index=out.index, dtype="string"),
        assign_method=pd.Series(pd.NA, index=out.index, dtype="string"),
        routing_path=pd.Series("", index=out.index, dtype="string"),
        excluded=pd.Series(None, index=out.index, dtype=object),
        skills_matched=pd.Series(pd.NA, index=out.index, dtype="string"),  # the pool path's owners' skills
    )
    follows = _duplicates_in_batch(out)
    kept = _keep_existing_owners(out, ~follows, run)
    through_pools(out, ~follows & ~kept, run)
    _follow_originals(out, follows)
    return out, run.new_state()


def _duplicates_in_batch(out: pd.DataFrame) -> pd.Series:
    """Repeats of a lead earlier in this batch: they go wherever their first copy goes."""
    duplicate_of = column(out, "duplicate_of")
    follows = duplicate_of.str.startswith("batch:").fillna(False) & column(out, "existing_owner_id").isna()
    follows = follows.astype(bool)
    follows[follows] = duplicate_of[follows].str.removeprefix("batch:").isin(out.loc[~follows, "lead_id"])
    return follows


def _follow_originals(out: pd.DataFrame, follows: pd.Series) -> None:
    if not follows.any():
        return
    original = out.loc[follows, "duplicate_of"].str.removeprefix("batch:")
    leading = out.loc[~follows, ["lead_id", "owner_id", "pool"]].set_index("lead_id")
    out.loc[follows, "owner_id"] = original.map(leading["owner_id"]).to_numpy()
    out.loc[follows, "pool"] = original.map(leading["pool"]).to_numpy()
    out.loc[follows, "assign_method"] = "duplicate"
    out.loc[follows, "routing_path"] = "repeat of " + original + " in this batch → its owner"


def _keep_existing_owners(out: pd.DataFrame, open_: pd.Series, run: BatchState) -> pd.Series:
    """Leads whose existing owner (or that owner's backup) takes them; returns which were kept.

    The existing owner: the owner of the CRM record this lead duplicates, else the owner of its matched
    account (when active in the CRM), else the owner a rule names."""
    candidates = [
        ("existing_owner", column(out, "existing_owner_id")),
        # an account's owner takes its sales leads; its support requests and job seekers go to the pools
        ("account_owner", column(out, "account_owner_id").where(out["tier"].isin(SALES_TIERS))),
        ("rule_owner", column(out, "rule_owner")),
    ]
    owner = pd.Series(pd.NA, index=out.index, dtype="string")
    method = pd.Series(pd.NA, index=out.index, dtype="string")
    for name, values in candidates:
        fill = owner.isna() & values.notna()
        owner[fill], method[fill] = values[fill], name
    todo = open_ & owner.notna()
    if not todo.any():
        return pd.Series(False, index=out.index)
    # few distinct (owner, tier) pairs: decide each once
    pairs = pd.DataFrame({"owner": owner[todo], "tier": out.loc[todo, "tier"].astype("string")})
    verdicts = {
        (o, t): _existing_owner_verdict(o, t, run) for o, t in pairs.drop_duplicates().itertuples(index=False)
    }
    verdict = pd.Series(
        [verdicts[k] for k in zip(pairs["owner"], pairs["tier"], strict=True)], index=pairs.index
    )
    taker = verdict.str[0]
    kept = pd.Series(False, index=out.index)
    kept[todo] = taker.notna().to_numpy()
    takes = kept[todo]
    index = takes[takes].index
    out.loc[index, "owner_id"] = taker[index]
    how = verdict[index].str[1]
    out.loc[index, "assign_method"] = np.where(how.isin(["backup", "cover"]), how, method[index])
    out.loc[todo, "routing_path"] = " → " + method[todo] + " " + owner[todo] + verdict.str[2]
    out.loc[index, "routing_path"] = out.loc[index, "routing_path"] + " → " + taker[index]
    out.loc[todo, "excluded"] = verdict.str[3]
    run.take(taker[index].to_numpy())
    return kept


def _existing_owner_verdict(owner: str, tier: str, run: BatchState) -> tuple[str | None, str, str, dict]:
    """(who takes the lead or None, 'owner'|'backup'|'cover', the path's words, excluded reps)."""
    if owner not in run.roster.by_id:  # a queue, or a CRM user leadrouter does not schedule
        return owner, "owner", "", {}
    if (
        owner in run.covers and run.why_not(owner, tier) is None
    ):  # the colleague's availability, see covered()
        return run.covers[owner], "cover", f" → by cover of {owner}", {}
    why = run.why_not(owner, tier)
    if why is None:
        return owner, "owner", "", {}
    excluded = {owner: why}
    backup = run.roster.by_id[owner].backup
    if backup is not None:
        backup_id = run.roster.rep_id(backup)
        backup_why = run.why_not(backup_id, tier)
        if backup_why is None:
            return backup_id, "backup", f" is {why} → backup", excluded
        excluded[backup_id] = backup_why
        return None, "owner", f" is {why}, backup {backup_id} is {backup_why}", excluded
    return None, "owner", f" is {why}, no backup", excluded
