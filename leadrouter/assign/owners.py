"""Choose an owner for every classified lead, and say why.

The path: the lead's existing owner (a duplicate's or its account's owner, or the owner a rule names) if that
rep can take it, else their backup; otherwise the pool of the lead's tier and territory, its eligible reps
(active, covering the region, working within the tier's SLA, not on leave), specialists in the lead's industry
first, reps with capacity left, weighted round robin among them; the pool's fallback when nobody can.
Every lead carries the path it took and each rep of its pool that was passed over, with a reason code.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from leadrouter.assign.availability import (
    Excluded,
    remaining_capacity,
    rep_calendar,
    unavailable,
)
from leadrouter.assign.roster import Pool, Rep, Roster, choose_pools
from leadrouter.assign.round_robin import pool_clock, round_robin
from leadrouter.schema import Tier, column

STATE_COLUMNS = ["pool", "rep_id", "pass_value", "assigned"]
SALES_TIERS = [Tier.VIP.value, Tier.STANDARD.value]
OUTPUT_COLUMNS = ["pool", "owner_id", "assign_method", "routing_path", "excluded"]


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
    reasons = {t.value: unavailable(calendar, moment.at, moment.windows.get(t.value)) for t in Tier}
    run = _Run(roster, reasons, remaining_capacity(roster, moment.load), state)
    out = out.assign(
        pool=column(out, "pool"),
        owner_id=pd.Series(pd.NA, index=out.index, dtype="string"),
        assign_method=pd.Series(pd.NA, index=out.index, dtype="string"),
        routing_path=pd.Series("", index=out.index, dtype="string"),
        excluded=pd.Series(None, index=out.index, dtype=object),
    )
    follows = _duplicates_in_batch(out)
    kept = _keep_existing_owners(out, ~follows, run)
    _through_pools(out, ~follows & ~kept, run)
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


class _Run:
    """The batch's moving parts: who is unavailable per tier, capacity left, round-robin passes."""

    def __init__(self, roster: Roster, reasons: dict[str, pd.Series], left: pd.Series, state: pd.DataFrame):
        self.roster = roster
        self.reasons = reasons
        state = state.reindex(columns=STATE_COLUMNS)
        self.passes = {
            str(pool): group.set_index("rep_id")["pass_value"].astype(float)
            for pool, group in state.groupby("pool", sort=False)
        }
        self.old_state = state
        self.assigned: dict[tuple[str, str], int] = {}
        self.left_by_rep = left.to_dict()
        self._members: dict[str, list[str]] = {}
        self._weights: dict[str, pd.Series] = {}

    def members(self, pool: Pool) -> list[str]:
        if pool.name not in self._members:
            self._members[pool.name] = self.roster.members(pool)
        return self._members[pool.name]

    def weights(self, pool: Pool) -> pd.Series:
        if pool.name not in self._weights:
            self._weights[pool.name] = self.roster.weights(pool)
        return self._weights[pool.name]

    def capacity(self, reps) -> np.ndarray:
        return np.array([self.left_by_rep.get(r, np.inf) for r in reps], dtype=float)

    def start_outputs(self, out: pd.DataFrame) -> None:
        """Per-position output arrays the groups write into (O(group) per write), flushed once at the end."""
        self.out_pool = out["pool"].to_numpy(dtype=object, na_value=None)
        self.out_owner = out["owner_id"].to_numpy(dtype=object, na_value=None)
        self.out_method = out["assign_method"].to_numpy(dtype=object, na_value=None)
        self.out_path = out["routing_path"].to_numpy(dtype=object, na_value="")
        self.out_excluded = out["excluded"].to_numpy(dtype=object).copy()
        self.carries = np.array([isinstance(e, dict) for e in self.out_excluded], dtype=bool)
        # what decides eligibility, per position: read once, not per group
        self.tier = column(out, "tier").to_numpy(dtype=object, na_value="")
        self.region = column(out, "region").to_numpy(dtype=object, na_value="")
        self.territory = column(out, "territory").to_numpy(dtype=object, na_value="")
        self.industry = column(out, "industry").str.strip().str.lower().to_numpy(dtype=object, na_value="")

    def flush_outputs(self, out: pd.DataFrame) -> None:
        out["pool"] = pd.array(self.out_pool, dtype="string")
        out["owner_id"] = pd.array(self.out_owner, dtype="string")
        out["assign_method"] = pd.array(self.out_method, dtype="string")
        out["routing_path"] = pd.array(self.out_path, dtype="string")
        out["excluded"] = pd.Series(self.out_excluded, index=out.index, dtype=object)

    def why_not(self, owner: str, tier: str) -> str | None:
        """Why owner cannot take a lead of this tier now, or None. Queues and CRM users off the roster always
        can (leadrouter does not know their calendar); capacity does not bind an existing owner."""
        reason = self.reasons[tier].get(owner, pd.NA)
        return None if pd.isna(reason) else str(reason)

    def take(self, owners: np.ndarray) -> Counter:
        counts = Counter(owners.tolist())
        for rep, count in counts.items():
            if rep in self.left_by_rep:
                self.left_by_rep[rep] = max(self.left_by_rep[rep] - count, 0.0)
        return counts

    def new_state(self) -> pd.DataFrame:
        if not self.assigned and not self.passes:
            return self.old_state
        rows = [
            (pool, rep, float(value), self.assigned.get((pool, rep), 0))
            for pool, passes in self.passes.items()
            for rep, value in passes.items()
            if not pd.isna(value)
        ]
        new = pd.DataFrame(rows, columns=STATE_COLUMNS).set_index(["pool", "rep_id"])
        old = self.old_state.set_index(["pool", "rep_id"])
        new["assigned"] += old["assigned"].reindex(new.index, fill_value=0).fillna(0).astype(int)
        merged = pd.concat([old.drop(new.index, errors="ignore"), new])
        return merged.reset_index()


def _keep_existing_owners(out: pd.DataFrame, open_: pd.Series, run: _Run) -> pd.Series:
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
    out.loc[index, "assign_method"] = np.where(verdict[index].str[1] == "backup", "backup", method[index])
    out.loc[todo, "routing_path"] = " → " + method[todo] + " " + owner[todo] + verdict.str[2]
    out.loc[index, "routing_path"] = out.loc[index, "routing_path"] + " → " + taker[index]
    out.loc[todo, "excluded"] = verdict.str[3]
    run.take(taker[index].to_numpy())
    return kept


def _existing_owner_verdict(owner: str, tier: str, run: _Run) -> tuple[str | None, str, str, dict]:
    """(who takes the lead or None, 'owner'|'backup', the path's words, excluded reps)."""
    if owner not in run.roster.by_id:  # a queue, or a CRM user leadrouter does not schedule
        return owner, "owner", "", {}
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


def _through_pools(out: pd.DataFrame, todo: pd.Series, run: _Run) -> None:
    """The pool path for every lead in todo, one group of leads with the same eligible reps at a time."""
    leads = out[todo]
    if leads.empty:
        return
    out.loc[todo, "pool"] = choose_pools(leads, run.roster)
    leads = out[todo]
    nopool = leads["pool"].isna()
    if nopool.any():  # a tier whose pools all name regions the lead is not in
        fallback = {p.tier.value: run.roster.last_resort(p) for p in reversed(run.roster.pools)}
        index = nopool[nopool].index
        out.loc[index, "owner_id"] = leads.loc[index, "tier"].map(fallback)
        out.loc[index, "assign_method"] = "fallback:no_pool_for_region"
        region = leads.loc[index, "region"].fillna("?")
        out.loc[index, "routing_path"] = out.loc[index, "routing_path"] + " → no pool covers region " + region
        leads = leads[~nopool]
    run.start_outputs(out)
    positions = out.index.get_indexer(leads.index)
    for pool_name, members in (
        pd.Series(positions).groupby(leads["pool"].to_numpy(), sort=False).groups.items()
    ):
        _assign_pool(out, positions[members], run.roster.pool(str(pool_name)), run)
    run.flush_outputs(out)


def _assign_pool(out: pd.DataFrame, positions: np.ndarray, pool: Pool, run: _Run) -> None:
    """The pool's leads in groups with the same eligible reps (the region and territory matter only when a
    member covers only some, the industry only when a member specialises), each group in arrival order."""
    reps = [run.roster.by_id[m] for m in run.members(pool) if m in run.roster.by_id]
    keys = {"tier": run.tier[positions]}
    if any(r.regions for r in reps):
        keys |= {"region": run.region[positions], "territory": run.territory[positions]}
    if any(r.verticals for r in reps):
        keys["industry"] = run.industry[positions]
    groups = pd.DataFrame(keys).groupby(list(keys), sort=False).indices.values()
    for group in sorted(groups, key=lambda g: g[0]):
        _assign_group(out, positions[group], pool, run)


def _assign_group(
    out: pd.DataFrame, index: np.ndarray, pool: Pool, run: _Run, specialise: bool = True
) -> None:
    """Round robin over the reps of the pool who can take these leads (alike in what decides eligibility),
    specialists first while they have room, then the others; the pool's fallback for the rest."""
    first = index[0]
    tier = str(run.tier[first])
    members = run.members(pool)
    excluded: dict[str, str] = {}
    for owner in members:
        rep = run.roster.by_id.get(owner)
        if rep is None:
            continue  # a queue: always there
        if rep.regions and not {run.region[first], run.territory[first]} & set(rep.regions):
            excluded[owner] = Excluded.WRONG_REGION.value
        elif (why := run.why_not(owner, tier)) is not None:
            excluded[owner] = why
    eligible = [m for m in members if m not in excluded]
    industry = run.industry[first]
    specialists = [
        m for m in eligible if m in run.roster.by_id and industry in _verticals(run.roster.by_id[m])
    ]
    others = len(eligible) - len(specialists) if specialise and industry and specialists else 0
    if others:
        arrived_with = run.out_excluded[index].copy(), run.carries[index].copy()
        excluded |= dict.fromkeys(
            [m for m in eligible if m not in specialists], Excluded.NO_SPECIALISATION.value
        )
        eligible = specialists
    weights = run.weights(pool).reindex(eligible)
    capacity = run.capacity(weights.index)  # queues: no cap
    excluded |= {m: Excluded.AT_CAPACITY.value for m, c in zip(eligible, capacity, strict=True) if c <= 0}
    path = f" → pool {pool.name} → {int((capacity > 0).sum())} of {len(members)} eligible"
    if others:
        path += f" ({len(specialists)} {industry} specialists)"
    passes = run.passes.get(pool.name, pd.Series(dtype=float))
    current = passes.reindex(members).dropna()  # removed reps keep their history but not the clock
    clock = pool_clock(current, run.weights(pool)) if len(current) else None
    owners, new_passes = round_robin(len(index), weights, passes, capacity, clock)
    got = len(owners)
    taken = index[:got]
    run.out_pool[index] = pool.name
    run.out_owner[taken] = owners
    run.out_method[taken] = "round_robin"
    run.out_path[taken] = run.out_path[taken] + (path + " → round robin → ") + owners
    per_lead = _excluded_per_lead(owners, len(index), excluded, weights.index, capacity)
    # merged with whom the lead passed over on its way here (its existing owner, a first pool)
    carries = np.flatnonzero(run.carries[index])
    if len(carries):
        per_lead = per_lead.copy()
        earlier = run.out_excluded[index]
        for i in carries:
            per_lead[i] = earlier[i] | per_lead[i]
    run.out_excluded[index] = per_lead
    run.carries[index] = True
    counts = run.take(owners)
    if len(weights):
        run.passes[pool.name] = pd.concat([passes.drop(new_passes.index, errors="ignore"), new_passes])
        for rep, count in counts.items():
            run.assigned[(pool.name, rep)] = run.assigned.get((pool.name, rep), 0) + int(count)
    rest = index[got:]
    if len(rest) and others:  # the specialists are full: the rest of the pool takes what is left
        run.out_excluded[rest], run.carries[rest] = arrived_with[0][got:], arrived_with[1][got:]
        run.out_path[rest] = run.out_path[rest] + f"{path} → specialists at capacity"
        _assign_group(out, rest, pool, run, specialise=False)
        return
    if len(rest):
        nobody = "nobody can take it" if got == 0 else "all eligible reps at capacity"
        run.out_path[rest] = run.out_path[rest] + f"{path} → {nobody} → fallback"
        successor = run.roster.fallback_pool(pool)
        if successor is not None:  # e.g. follow the sun: the region's pool hands over to the global one
            _assign_pool(out, rest, successor, run)
            return
        run.out_owner[rest] = run.roster.rep_id(pool.fallback)
        run.out_method[rest] = "fallback"
        run.out_path[rest] = run.out_path[rest] + (" " + run.roster.rep_id(pool.fallback))


def _verticals(rep: Rep) -> set[str]:
    return {v.strip().lower() for v in rep.verticals}


def _excluded_per_lead(
    owners: np.ndarray, n: int, static: dict[str, str], eligible: pd.Index, capacity: np.ndarray
) -> np.ndarray:
    """Each lead's passed-over reps: the group's, plus reps whose capacity ran out on an earlier lead."""
    result = np.empty(n, dtype=object)
    result[:] = [static] * n
    filled = []  # (position after which the rep is full, rep)
    for rep, cap in zip(eligible, capacity, strict=True):
        if 0 < cap < np.inf:
            turns = np.flatnonzero(owners == rep)
            if len(turns) == cap:
                filled.append((int(turns[-1]), rep))
    current = dict(static)
    for position, rep in sorted(filled):
        current = current | {rep: Excluded.AT_CAPACITY.value}
        result[position + 1 :] = [current] * (n - position - 1)
    return result
