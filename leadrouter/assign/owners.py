"""Choose an owner for every classified lead: the tier's pool, then weighted round robin, else the fallback."""

from __future__ import annotations

import pandas as pd

from leadrouter.assign.roster import Roster, choose_pools
from leadrouter.assign.round_robin import round_robin

STATE_COLUMNS = ["pool", "rep_id", "pass_value", "assigned"]


def assign_owners(
    frame: pd.DataFrame, roster: Roster, state: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (frame + pool, owner_id, assign_method; the updated round-robin state).

    Leads are taken in arrival order (created_at, lead_id) so the same state and input give the same owners.
    """
    out = frame.sort_values(["created_at", "lead_id"], kind="stable").copy()
    out["pool"] = choose_pools(out, roster)
    out["owner_id"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["assign_method"] = pd.Series(pd.NA, index=out.index, dtype="string")
    passes = state.set_index(["pool", "rep_id"])["pass_value"] if len(state) else pd.Series(dtype=float)
    updates = []
    for pool_name, idx in out.groupby("pool", sort=False).groups.items():
        pool = roster.pool(str(pool_name))
        weights = roster.weights(pool)
        if weights.empty:
            out.loc[idx, ["owner_id", "assign_method"]] = [pool.fallback, "fallback:no_active_rep"]
            continue
        known = passes.xs(pool.name, level="pool") if pool.name in passes.index.get_level_values(0) else None
        owners, new_passes = round_robin(
            len(idx), weights, known if known is not None else pd.Series(dtype=float)
        )
        out.loc[idx, "owner_id"] = owners
        out.loc[idx, "assign_method"] = "round_robin"
        counts = pd.Series(owners).value_counts()
        updates.append(
            pd.DataFrame(
                {
                    "pool": pool.name,
                    "rep_id": new_passes.index,
                    "pass_value": new_passes.to_numpy(),
                    "assigned": counts.reindex(new_passes.index, fill_value=0).to_numpy(),
                }
            )
        )
    unpooled = out["pool"].isna()
    if unpooled.any():  # a tier whose pools all name regions the lead is not in
        tier_fallback = {p.tier.value: p.fallback for p in reversed(roster.pools)}
        out.loc[unpooled, "owner_id"] = out.loc[unpooled, "tier"].map(tier_fallback)
        out.loc[unpooled, "assign_method"] = "fallback:no_pool_for_region"
    return out, _merge_state(state, updates)


def _merge_state(state: pd.DataFrame, updates: list[pd.DataFrame]) -> pd.DataFrame:
    """The new state: updated passes, assigned counts accumulated."""
    if not updates:
        return state.reindex(columns=STATE_COLUMNS)
    new = pd.concat(updates, ignore_index=True)
    old = state.reindex(columns=STATE_COLUMNS).set_index(["pool", "rep_id"])
    new = new.set_index(["pool", "rep_id"])
    new["assigned"] += old["assigned"].reindex(new.index, fill_value=0).astype(int)
    merged = pd.concat([old.drop(new.index, errors="ignore"), new])
    return merged.reset_index()
