"""The roster: reps, the pools they work in, and each pool's fallback."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from leadrouter.config import load_yaml_model
from leadrouter.schema import Tier


class Rep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str  # the CRM user/owner id
    name: str
    email: str
    role: str = "ae"
    weight: float = Field(default=1.0, gt=0)
    active: bool = True


class Pool(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    tier: Tier
    regions: list[str] = []  # empty: any region
    reps: list[str] = Field(min_length=1)
    fallback: str  # a rep or queue id that takes the lead when no rep in the pool can


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reps: list[Rep] = Field(min_length=1)
    pools: list[Pool] = Field(min_length=1)
    queues: dict[str, str] = {}  # queue owner id -> description (e.g. the support queue)
    escalation: str | None = None  # the rep who gets review items nobody resolved in time

    def problems(self) -> list[tuple[tuple, str]]:
        known = {r.id for r in self.reps} | set(self.queues)
        out = []
        for i, pool in enumerate(self.pools):
            out += [
                (("pools", i, "reps", j), f"unknown rep {rep!r}: add it under reps")
                for j, rep in enumerate(pool.reps)
                if rep not in known
            ]
            if pool.fallback not in known:
                out.append((("pools", i, "fallback"), f"unknown fallback {pool.fallback!r}"))
        if self.escalation is not None and self.escalation not in {r.id for r in self.reps}:
            out.append((("escalation",), f"unknown escalation rep {self.escalation!r}: add it under reps"))
        names = [p.name for p in self.pools]
        out += [
            (("pools", i, "name"), f"duplicate pool {n!r}") for i, n in enumerate(names) if n in names[:i]
        ]
        for tier in Tier:
            if not any(p.tier == tier for p in self.pools):
                out.append((("pools",), f"no pool serves tier {tier.value}: every tier needs one"))
        return out

    def owner_ids(self, active_only: bool = False) -> set[str]:
        """Every id that can own a lead: reps (the active ones only, if asked) and queues."""
        return {r.id for r in self.reps if r.active or not active_only} | set(self.queues)

    def pool(self, name: str) -> Pool:
        return next(p for p in self.pools if p.name == name)

    def weights(self, pool: Pool) -> pd.Series:
        """Weight per active member of the pool (a queue counts as one full member), in pool order."""
        weight = {r.id: r.weight for r in self.reps if r.active} | dict.fromkeys(self.queues, 1.0)
        return pd.Series({rid: weight[rid] for rid in pool.reps if rid in weight}, dtype=float)


def load_roster(path: Path | str) -> Roster:
    return load_yaml_model(path, Roster)


def choose_pools(frame: pd.DataFrame, roster: Roster) -> pd.Series:
    """Each lead's pool: the rule's pool when it named one, else the first pool serving its tier and region."""
    pool = frame["pool"].astype("string").copy()
    for p in roster.pools:
        open_ = pool.isna() & (frame["tier"] == p.tier.value)
        if p.regions:
            open_ &= frame["region"].isin(p.regions)
        pool[open_.fillna(False)] = p.name
    return pool
