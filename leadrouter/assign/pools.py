"""The pool path: the pool of the lead's tier and territory, its eligible reps (active, covering the region,
working within the tier's SLA, not on leave), specialists in the lead's industry first, reps with capacity
left, weighted round robin among them; the pool's fallback (or the pool it hands over to) when nobody can."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadrouter.assign.availability import Excluded
from leadrouter.assign.balance import by_open_load, by_pipeline
from leadrouter.assign.batch import BatchState
from leadrouter.assign.roster import Pool, Rep, choose_pools
from leadrouter.assign.round_robin import pool_clock, round_robin

METHODS = {"count": "round_robin", "open_load": "open_load", "pipeline": "pipeline"}
STEPS = {
    "count": " → round robin → ",
    "open_load": " → fewest open leads → ",
    "pipeline": " → least open pipeline → ",
}


def through_pools(out: pd.DataFrame, todo: pd.Series, run: BatchState) -> None:
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


def _assign_pool(out: pd.DataFrame, positions: np.ndarray, pool: Pool, run: BatchState) -> None:
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
    out: pd.DataFrame, index: np.ndarray, pool: Pool, run: BatchState, specialise: bool = True
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
    if (
        pool.balance != "count"
    ):  # workload has no turns to hand over: the colleague takes leads at their own load
        excluded |= {m: Excluded.COVERED.value for m in members if m in run.covers and m not in excluded}
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
    if pool.balance == "count":
        current = passes.reindex(members).dropna()  # removed reps keep their history but not the clock
        clock = pool_clock(current, run.weights(pool)) if len(current) else None
        owners, new_passes = round_robin(len(index), weights, passes, capacity, clock)
    else:
        owners, new_passes = _balanced(pool, index, weights, capacity, run), None
    got = len(owners)
    taken = index[:got]
    takers = np.array([run.taker(o) for o in owners], dtype=object) if run.covers else owners
    run.out_pool[index] = pool.name
    run.out_owner[taken] = takers
    run.out_method[taken] = np.where(takers != owners, "cover", METHODS[pool.balance])
    words = takers + np.where(takers != owners, " (by cover of " + owners.astype(str) + ")", "")
    run.out_path[taken] = run.out_path[taken] + (path + STEPS[pool.balance]) + words
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
    counts = run.take(takers)
    if pool.balance == "pipeline" and got:
        run.add_pipeline(takers, run.values(taken))
    if len(weights):
        if new_passes is not None:
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


def _balanced(
    pool: Pool, index: np.ndarray, weights: pd.Series, capacity: np.ndarray, run: BatchState
) -> np.ndarray:
    """Owners by the pool's workload measure (see leadrouter.assign.balance), the load read from the run."""
    load = run.load(weights.index, pool.balance)
    if pool.balance == "open_load":
        return by_open_load(len(index), weights, load, capacity)
    return by_pipeline(run.values(index), weights, load, capacity)


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
