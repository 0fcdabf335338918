"""The moving parts of one assignment pass over a batch, shared by the existing-owner and the pool paths."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from leadrouter.assign import skills as skill
from leadrouter.assign.balance import lead_values
from leadrouter.assign.roster import Pool, Roster
from leadrouter.assign.round_robin import aligned
from leadrouter.schema import column as column_of

STATE_COLUMNS = ["pool", "rep_id", "pass_value", "assigned"]


class BatchState:
    """The batch's moving parts: who is unavailable per tier, capacity left, round-robin passes, turns taken."""

    def __init__(
        self,
        roster: Roster,
        reasons: dict[str, pd.Series],
        left: pd.Series,
        state: pd.DataFrame,
        load: pd.DataFrame | None = None,
        covers: dict[str, str] | None = None,
    ):
        self.roster = roster
        self.covers = covers or {}  # covered rep -> the colleague who takes their leads now
        load = pd.DataFrame() if load is None else load
        # what open_load and pipeline pools balance: the ledger's, plus what this pass gives out
        self.open_by_rep = (load["open"] if "open" in load else pd.Series(dtype=float)).to_dict()
        self.pipeline_by_rep = (load["pipeline"] if "pipeline" in load else pd.Series(dtype=float)).to_dict()
        # tier -> rep -> why they cannot take its leads (reps who can are absent): read per group
        self.reasons = {
            tier: {str(rep): str(why) for rep, why in reason.dropna().items()}
            for tier, reason in reasons.items()
        }
        state = state.reindex(columns=STATE_COLUMNS)
        self.passes: dict[str, dict[str, float]] = {  # pool -> rep -> pass value (see round_robin)
            str(pool): dict(zip(group["rep_id"], group["pass_value"].astype(float), strict=True))
            for pool, group in state.groupby("pool", sort=False)
        }
        self.old_state = state
        self.assigned: dict[tuple[str, str], int] = {}
        self.left_by_rep = left.to_dict()
        self._members: dict[str, list[str]] = {}
        self._weights: dict[str, pd.Series] = {}
        self.rep_skills = {r.key: r.skill_sets for r in roster.reps}
        self._skill_order: dict[str, list[tuple[str, skill.Need]]] = {}
        self._skill_values: dict[str, np.ndarray] = {}
        self._skill_codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._holders: dict[tuple[str, str], np.ndarray] = {}

    def members(self, pool: Pool) -> list[str]:
        if pool.name not in self._members:
            self._members[pool.name] = self.roster.members(pool)
        return self._members[pool.name]

    def weights(self, pool: Pool) -> pd.Series:
        if pool.name not in self._weights:
            self._weights[pool.name] = self.roster.weights(pool)
        return self._weights[pool.name]

    def eligible_weights(self, pool: Pool, eligible: list[str]) -> pd.Series:
        """The pool's weights of these reps, in this order (NaN: none), as round robin takes them."""
        key = (pool.name, tuple(eligible))
        if key not in self._eligible_weights:
            weights = aligned(self.weights(pool), eligible)
            self._eligible_weights[key] = pd.Series(weights, index=pd.Index(eligible, dtype=object))
        return self._eligible_weights[key]

    def skill_order(self, pool: Pool) -> list[tuple[str, skill.Need]]:
        """The skills the pool routes on, in order, each required or preferred (see skills.order)."""
        if pool.name not in self._skill_order:
            held = {c for m in self.members(pool) for c in self.rep_skills.get(m, {})}
            self._skill_order[pool.name] = skill.order(pool.skills, held)
        return self._skill_order[pool.name]

    def skill_values(self, column: str) -> np.ndarray:
        """The lead's value of a skill's column per position, normalised ("" when it has none)."""
        if column not in self._skill_values:
            # normalised per distinct value: a column holds few of them
            codes, uniques = pd.factorize(column_of(self._frame, column).to_numpy(dtype=object, na_value=""))
            normal = np.array([skill.normalised(v) for v in uniques], dtype=object)
            self._skill_values[column] = normal[codes] if len(codes) else np.array([], dtype=object)
        return self._skill_values[column]

    def skill_codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """The skill's normalised values per position, factorised (codes, the distinct values)."""
        if column not in self._skill_codes:
            self._skill_codes[column] = pd.factorize(self.skill_values(column))
        return self._skill_codes[column]

    def skill_holders(self, pool: Pool, column: str, need: skill.Need) -> np.ndarray:
        """Per position, a number naming which of the pool's members hold the lead's value of the column:
        leads alike in it are alike for the skill, whatever their values (a preferred skill that none or all
        hold changes nothing: one number for both)."""
        if (pool.name, column) not in self._holders:
            codes, uniques = self.skill_codes(column)
            members = self.members(pool)
            ids: dict[frozenset, int] = {frozenset(): 0}
            if need == "preferred":
                ids[frozenset(members)] = 0
            per_value = [
                ids.setdefault(
                    frozenset(m for m in members if v and v in self.rep_skills.get(m, {}).get(column, ())),
                    len(ids),
                )
                for v in uniques
            ]
            self._holders[(pool.name, column)] = np.asarray(per_value, dtype=np.int64)[codes]
        return self._holders[(pool.name, column)]

    def taker(self, rep: str) -> str:
        """Who takes a lead given to rep: their cover's colleague while covered, else the rep."""
        return self.covers.get(rep, rep)

    def capacity(self, reps) -> np.ndarray:
        return np.array([self.left_by_rep.get(self.taker(r), np.inf) for r in reps], dtype=float)

    def load(self, reps, measure: str) -> dict[str, float]:
        """Open leads ("open_load") or open expected value ("pipeline") of whoever takes each rep's leads."""
        source = self.open_by_rep if measure == "open_load" else self.pipeline_by_rep
        return {r: float(source.get(self.taker(r), 0.0)) for r in reps}

    def start_outputs(self, out: pd.DataFrame) -> None:
        """Per-position output arrays the groups write into (O(group) per write), flushed once at the end."""
        self.out_pool = out["pool"].to_numpy(dtype=object, na_value=None)
        self.out_owner = out["owner_id"].to_numpy(dtype=object, na_value=None)
        self.out_method = out["assign_method"].to_numpy(dtype=object, na_value=None)
        self.out_path = out["routing_path"].to_numpy(dtype=object, na_value="")
        self.out_excluded = out["excluded"].to_numpy(dtype=object).copy()
        self.carries = np.array([isinstance(e, dict) for e in self.out_excluded], dtype=bool)
        # what decides eligibility, per position: read once, not per group
        self.tier = column_of(out, "tier").to_numpy(dtype=object, na_value="")
        self.region = column_of(out, "region").to_numpy(dtype=object, na_value="")
        self.territory = column_of(out, "territory").to_numpy(dtype=object, na_value="")
        self.codes = {  # the same, factorised: how the pools group their leads
            "tier": pd.factorize(self.tier)[0],
            "region": pd.factorize(self.region)[0],
            "territory": pd.factorize(self.territory)[0],
        }
        # what pools._plan and pools._available worked out, and eligible_weights
        self.plans: dict[tuple, tuple[dict[str, str], list[str], bool, str]] = {}
        self.available: dict[tuple, tuple[dict[str, str], list[str]]] = {}
        self._eligible_weights: dict[tuple, pd.Series] = {}
        self._frame = out
        self._skill_values, self._skill_codes, self._holders = {}, {}, {}
        expected = out["expected_value"] if "expected_value" in out else pd.Series(np.nan, index=out.index)
        self.expected = pd.to_numeric(expected, errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    def values(self, positions: np.ndarray) -> np.ndarray:
        """The expected value of the leads at these positions, for pipeline balance (see lead_values)."""
        return lead_values(pd.Series(self.expected[positions]))

    def flush_outputs(self, out: pd.DataFrame) -> None:
        out["pool"] = pd.array(self.out_pool, dtype="string")
        out["owner_id"] = pd.array(self.out_owner, dtype="string")
        out["assign_method"] = pd.array(self.out_method, dtype="string")
        out["routing_path"] = pd.array(self.out_path, dtype="string")
        out["excluded"] = pd.Series(self.out_excluded, index=out.index, dtype=object)

    def why_not(self, owner: str, tier: str) -> str | None:
        """Why owner cannot take a lead of this tier now, or None. Queues and CRM users off the roster always
        can (leadrouter does not know their calendar); capacity does not bind an existing owner."""
        return self.reasons[tier].get(owner)

    def take(self, owners: np.ndarray) -> Counter:
        counts = Counter(owners.tolist())
        for rep, count in counts.items():
            if rep in self.left_by_rep:
                self.left_by_rep[rep] = max(self.left_by_rep[rep] - count, 0.0)
            self.open_by_rep[rep] = self.open_by_rep.get(rep, 0.0) + count
        return counts

    def add_pipeline(self, owners: np.ndarray, values: np.ndarray) -> None:
        for rep, value in pd.Series(values).groupby(owners).sum().items():
            self.pipeline_by_rep[rep] = self.pipeline_by_rep.get(rep, 0.0) + float(value)

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
