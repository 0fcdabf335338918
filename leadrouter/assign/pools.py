"""The pool path: the pool of the lead's tier and territory, its eligible reps (active, covering the region,
working within the tier's SLA, not on leave, holding the pool's required skills), reps with its preferred
skills first (the lead's language, industry specialists), reps with capacity left, weighted round robin among them; the pool's fallback (or the pool it hands over to) when nobody can."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadrouter.assign import skills as skill
from leadrouter.assign.availability import Excluded
from leadrouter.assign.balance import by_open_load, by_pipeline
from leadrouter.assign.batch import BatchState
from leadrouter.assign.roster import Pool, choose_pools
from leadrouter.assign.round_robin import aligned, pool_clock, round_robin

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
    out["skills_matched"] = matched_skills(out, run)


def _assign_pool(out: pd.DataFrame, positions: np.ndarray, pool: Pool, run: BatchState) -> None:
    """The pool's leads in groups with the same eligible reps (the region and territory matter only when a
    member covers only some; of a skill, which members hold the lead's value), each group in arrival order.
    Leads whose skills leave the same reps to choose from share one group, however their values differ."""
    reps = [run.roster.by_id[m] for m in run.members(pool) if m in run.roster.by_id]
    names = ["tier", "region", "territory"] if any(r.regions for r in reps) else ["tier"]
    keys = [run.codes[name][positions] for name in names]
    keys += [run.skill_holders(pool, column, need)[positions] for column, need in run.skill_order(pool)]
    groups = _groups(keys)
    if len(keys) > 3:  # skills split the leads: join the groups whose reps to choose from are the same
        merged: dict[tuple, list[np.ndarray]] = {}
        for group in groups:
            first = positions[group[0]]
            excluded, eligible, _, note = _plan(pool, run, first)
            same = (run.tier[first], run.region[first], run.territory[first], tuple(eligible), note)
            merged.setdefault((*same, tuple(sorted(excluded.items()))), []).append(group)
        groups = [np.sort(np.concatenate(parts)) for parts in merged.values()]
    for group in sorted(groups, key=lambda g: g[0]):
        _assign_group(out, positions[group], pool, run)


def _plan(
    pool: Pool, run: BatchState, first: int, specialise: bool = True
) -> tuple[dict[str, str], list[str], bool, str]:
    """For leads like the one at `first`: the reps passed over and why, the reps left to choose from, whether
    preferred skills narrowed them, and the path's note on it. Planned once per pool and lead values."""
    order = run.skill_order(pool)
    values = tuple(run.skill_values(column)[first] for column, _ in order)
    key = (pool.name, specialise, run.tier[first], run.region[first], run.territory[first], values)
    if key not in run.plans:
        run.plans[key] = _planned(pool, run, first, specialise)
    excluded, eligible, narrowed, note = run.plans[key]
    return dict(excluded), list(eligible), narrowed, note


def _planned(
    pool: Pool, run: BatchState, first: int, specialise: bool
) -> tuple[dict[str, str], list[str], bool, str]:
    """_plan's work, for leads alike in tier, place and skill values."""
    excluded, eligible = _available(pool, run, first)
    excluded, eligible = dict(excluded), list(eligible)
    narrowed, note = False, ""
    for column, need in run.skill_order(pool):
        value = run.skill_values(column)[first]
        having = [m for m in eligible if value and value in run.rep_skills.get(m, {}).get(column, ())]
        if need == "preferred" and (
            not specialise or not value or not having or len(having) == len(eligible)
        ):
            continue
        excluded |= dict.fromkeys([m for m in eligible if m not in having], skill.reason(column))
        if need == "preferred":
            narrowed = True
            note += f" ({len(having)} {_skilled(column)})"
        eligible = having
    return excluded, eligible, narrowed, note


def _available(pool: Pool, run: BatchState, first: int) -> tuple[dict[str, str], list[str]]:
    """The members passed over for leads of this tier and place (and why), and the rest, before skills."""
    tier, region, territory = str(run.tier[first]), run.region[first], run.territory[first]
    key = (pool.name, tier, region, territory)
    if key in run.available:
        return run.available[key]
    members = run.members(pool)
    excluded: dict[str, str] = {}
    for owner in members:
        rep = run.roster.by_id.get(owner)
        if rep is None:
            continue  # a queue: always there
        if rep.regions and not {region, territory} & set(rep.regions):
            excluded[owner] = Excluded.WRONG_REGION.value
        elif (why := run.why_not(owner, tier)) is not None:
            excluded[owner] = why
    if pool.balance != "count":  # workload has no turns to hand over: the colleague takes leads at their load
        excluded |= {m: Excluded.COVERED.value for m in members if m in run.covers and m not in excluded}
    run.available[key] = excluded, [m for m in members if m not in excluded]
    return run.available[key]


def _assign_group(
    out: pd.DataFrame, index: np.ndarray, pool: Pool, run: BatchState, specialise: bool = True
) -> None:
    """Round robin over the reps of the pool who can take these leads (alike in what decides eligibility):
    reps without a required skill never, reps with the preferred skills first while they have room, then the
    others; the pool's fallback for the rest."""
    members = run.members(pool)
    excluded, eligible, narrowed, preferred_note = _plan(pool, run, index[0], specialise)
    arrived_with = run.out_excluded[index].copy(), run.carries[index].copy()
    weights = run.eligible_weights(pool, eligible)
    capacity = run.capacity(weights.index)  # queues: no cap
    excluded |= {m: Excluded.AT_CAPACITY.value for m, c in zip(eligible, capacity, strict=True) if c <= 0}
    path = f" → pool {pool.name} → {int((capacity > 0).sum())} of {len(members)} eligible{preferred_note}"
    if pool.balance == "count":
        passes = run.passes.get(pool.name, {})
        current = aligned(passes, members)  # removed reps keep their history but not the clock
        known = not np.isnan(current).all()
        clock = pool_clock(current, aligned(run.weights(pool), members)) if known else None
        owners, new_passes = round_robin(len(index), weights, passes, capacity, clock)
    else:
        owners, new_passes = _balanced(pool, index, weights, capacity, run), None
    got = len(owners)
    taken = index[:got]
    run.out_pool[index] = pool.name
    if run.covers:
        takers = np.array([run.taker(o) for o in owners], dtype=object)
        run.out_method[taken] = np.where(takers != owners, "cover", METHODS[pool.balance])
        words = takers + np.where(takers != owners, " (by cover of " + owners.astype(str) + ")", "")
    else:
        takers = words = owners
        run.out_method[taken] = METHODS[pool.balance]
    run.out_owner[taken] = takers
    run.out_path[taken] = run.out_path[taken] + (path + STEPS[pool.balance]) + words
    per_lead = _excluded_per_lead(owners, len(index), excluded, weights.index, capacity)
    # merged with whom the lead passed over on its way here (its existing owner, a first pool)
    carries = np.flatnonzero(run.carries[index])
    if len(carries):
        per_lead[carries] = _merged(run.out_excluded[index[carries]], per_lead[carries])
    run.out_excluded[index] = per_lead
    run.carries[index] = True
    counts = run.take(takers)
    if pool.balance == "pipeline" and got:
        run.add_pipeline(takers, run.values(taken))
    if len(weights):
        if new_passes is not None:
            moved = dict(zip(new_passes.index, new_passes.to_numpy(), strict=True))
            run.passes[pool.name] = {r: v for r, v in passes.items() if r not in moved} | moved
        for rep, count in counts.items():
            run.assigned[(pool.name, rep)] = run.assigned.get((pool.name, rep), 0) + int(count)
    rest = index[got:]
    if len(rest) and narrowed:  # the preferred reps are full: the rest of the pool takes what is left
        run.out_excluded[rest], run.carries[rest] = arrived_with[0][got:], arrived_with[1][got:]
        run.out_path[rest] = run.out_path[rest] + f"{path} → {_preferred_full(preferred_note)}"
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


def _skilled(column: str) -> str:
    """How the path names the reps holding the lead's value of a skill (the value is in skills_matched)."""
    if column == skill.INDUSTRY:
        return "specialists in its industry"
    if column == skill.LANGUAGE:
        return "speak its language"
    return f"with its {column}"


def _preferred_full(note: str) -> str:
    return "specialists at capacity" if note.endswith("industry)") else "preferred reps at capacity"


def matched_skills(out: pd.DataFrame, run: BatchState) -> pd.Series:
    """Per lead a pool gave a rep (by any balance, or by cover), the skills the rep holds with the lead's value
    ("language=ja, industry=software"); <NA> for the rest. Once over the batch per column, by distinct value."""
    labels = pd.Series("", index=out.index, dtype=object)
    owner = out["owner_id"].to_numpy(dtype=object, na_value=None)
    pooled = out["assign_method"].isin([*METHODS.values(), "cover"]).fillna(False).to_numpy()
    reps = list(run.rep_skills)
    owner_code = pd.Index(reps, dtype=object).get_indexer(owner)  # -1: a queue or no owner (the last row)
    columns = sorted({c for held in run.rep_skills.values() for c in held}, key=skill.sort_key)
    for column in columns:
        values = run.skill_values(column)
        codes, uniques = run.skill_codes(column)
        holds = np.zeros((len(reps) + 1, len(uniques)), dtype=bool)  # rep x distinct lead value
        for i, rep in enumerate(reps):
            if column in run.rep_skills[rep]:
                holds[i] = np.isin(uniques, list(run.rep_skills[rep][column]))
        hit = pooled & holds[owner_code, codes]
        labels[hit] = labels[hit] + np.where(labels[hit] == "", "", ", ") + f"{column}=" + values[hit]
    return pd.Series(pd.array(labels.replace("", None), dtype="string"), index=out.index)


def _balanced(
    pool: Pool, index: np.ndarray, weights: pd.Series, capacity: np.ndarray, run: BatchState
) -> np.ndarray:
    """Owners by the pool's workload measure (see leadrouter.assign.balance), the load read from the run."""
    load = run.load(weights.index, pool.balance)
    if pool.balance == "open_load":
        return by_open_load(len(index), weights, load, capacity)
    return by_pipeline(run.values(index), weights, load, capacity)


def _merged(earlier: np.ndarray, later: np.ndarray) -> np.ndarray:
    """earlier[i] | later[i] for arrays of dicts that share a few distinct dicts: each distinct pair once."""
    first = pd.factorize(np.fromiter(map(id, earlier), dtype=np.int64, count=len(earlier)))[0]
    then = pd.factorize(np.fromiter(map(id, later), dtype=np.int64, count=len(later)))[0]
    pairs = pd.factorize(first * len(later) + then)[0]
    firsts = np.unique(pairs, return_index=True)[1]
    done = np.empty(len(firsts), dtype=object)
    done[:] = [earlier[i] | later[i] for i in firsts]
    return done[pairs]


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


def _groups(keys: list[np.ndarray]) -> list[np.ndarray]:
    """The positions (ascending) of each distinct combination of the keys (codes from 0)."""
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    if not len(combined):
        return []
    for key in keys:
        size = int(key.max()) + 1
        if int(combined.max()) >= (2**62) // size:  # renumbered before it could overflow
            combined = pd.factorize(combined)[0]
        combined = combined * size + key
    order = np.argsort(combined, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(combined[order])) + 1)
