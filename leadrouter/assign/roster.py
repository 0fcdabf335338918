"""The roster: reps (who, where, what, how much, when), the pools they work in, and each pool's fallback."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from leadrouter.assign import skills as skill
from leadrouter.assign.balance import Balance
from leadrouter.assign.cover import Cover, cover_problems
from leadrouter.assign.schedule import Schedule, TimeOff, WorkingHours, known_calendar, known_zone
from leadrouter.config import ConfigError, line_of, load_yaml_model
from leadrouter.schema import Tier


class Rep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None  # the CRM user/owner id; left out, it is found by email among the CRM's users
    name: str
    email: str
    role: str = "ae"
    weight: float = Field(default=1.0, gt=0)  # share of round-robin turns (0.5: half a full-time share)
    active: bool = True
    regions: list[str] = []  # regions or territories this rep covers (empty: whatever the pool covers)
    verticals: list[str] = []  # industries this rep specialises in: a skill on `industry`
    languages: list[str] = []  # ISO 639-1 codes of the languages they work in: a skill on `language`
    skills: dict[str, list[str]] = {}  # lead column (custom fields too) -> the values this rep is skilled in
    max_per_day: int | None = Field(default=None, ge=0)  # new leads per working day (their own calendar day)
    max_open: int | None = Field(default=None, ge=0)  # leads assigned and not yet touched
    timezone: str | None = None  # these three default to the roster's `schedule`
    hours: WorkingHours | None = None
    holidays: str | None = None
    time_off: list[TimeOff] = []
    backup: str | None = None  # covers this rep's accounts when the rep is away

    _schedule: Schedule = PrivateAttr(default_factory=Schedule)
    _zone = field_validator("timezone")(lambda v: known_zone(v))
    _calendar = field_validator("holidays")(lambda v: known_calendar(v))

    @property
    def schedule(self) -> Schedule:
        return self._schedule

    @property
    def key(self) -> str:
        """The id, once known; until then the email, which pools may use to name the rep."""
        return self.id or self.email

    @property
    def skill_sets(self) -> dict[str, frozenset[str]]:
        """Every skill by lead column, normalised: `skills`, `languages` and `verticals` together."""
        return skill.rep_skills(self.skills, self.languages, self.verticals)


class Pool(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    tier: Tier
    regions: list[str] = []  # the lead's region (NA, EMEA, APAC, LATAM) ...
    territories: list[str] = []  # ... or territory (config/territories.yaml); both empty: any lead
    reps: list[str] = Field(min_length=1)  # rep ids (or emails) and queue ids
    fallback: (
        str  # who takes the lead when no rep of the pool can: a rep or queue id, or another pool of the tier
    )
    manager: str | None = None  # escalations of this pool's leads (default: the roster's `escalation`)
    # lead column -> required (only reps with the lead's value) or preferred; a column the pool leaves out
    # that its reps hold skills on is preferred (so `verticals` and `languages` work with no pool setting)
    skills: dict[str, skill.Need] = {}
    balance: Balance = "count"  # count: weighted round robin; open_load / pipeline: see assign/balance.py


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: Schedule = Field(default_factory=Schedule)  # every rep's, unless the rep says otherwise
    reps: list[Rep] = Field(min_length=1)
    pools: list[Pool] = Field(min_length=1)
    queues: dict[str, str] = {}  # queue owner id -> description (e.g. the support queue)
    escalation: str | None = None  # the manager who gets review items and breaches nobody resolved in time
    cover: list[Cover] = []  # colleagues taking a rep's new leads for a period

    def model_post_init(self, _context: object) -> None:
        for rep in self.reps:
            rep._schedule = Schedule(
                timezone=rep.timezone or self.schedule.timezone,
                hours=rep.hours or self.schedule.hours,
                holidays=rep.holidays or self.schedule.holidays,
            )

    def problems(self) -> list[tuple[tuple, str]]:
        out = []
        names = [p.name for p in self.pools]
        keys = [r.key for r in self.reps]
        out += [(("reps", i, "id"), f"duplicate rep {k!r}") for i, k in enumerate(keys) if k in keys[:i]]
        known = set(keys) | {r.email for r in self.reps} | set(self.queues)
        people = set(keys) | {r.email for r in self.reps}
        for i, rep in enumerate(self.reps):
            if rep.backup is not None and rep.backup not in people:
                out.append((("reps", i, "backup"), f"unknown backup {rep.backup!r}: add it under reps"))
        for i, pool in enumerate(self.pools):
            out += [
                (("pools", i, "reps", j), f"unknown rep {rep!r}: add it under reps")
                for j, rep in enumerate(pool.reps)
                if rep not in known
            ]
            if pool.fallback not in known and pool.fallback not in names:
                message = f"unknown fallback {pool.fallback!r}: name a rep, a queue or another pool"
                out.append((("pools", i, "fallback"), message))
            elif pool.fallback in names:
                out += [(("pools", i, "fallback"), m) for m in self._fallback_chain_problems(pool)]
            if pool.manager is not None and pool.manager not in people:
                out.append((("pools", i, "manager"), f"unknown manager {pool.manager!r}: add it under reps"))
        out += self._skill_problems()
        out += cover_problems(self.cover, self.rep_id, people)
        if self.escalation is not None and self.escalation not in people:
            out.append((("escalation",), f"unknown escalation rep {self.escalation!r}: add it under reps"))
        out += [
            (("pools", i, "name"), f"duplicate pool {n!r}") for i, n in enumerate(names) if n in names[:i]
        ]
        for tier in Tier:
            if not any(p.tier == tier for p in self.pools):
                out.append((("pools",), f"no pool serves tier {tier.value}: every tier needs one"))
        return out

    def _skill_problems(self) -> list[tuple[tuple, str]]:
        held = [
            (("reps", i, "skills", c), c, v) for i, r in enumerate(self.reps) for c, v in r.skills.items()
        ]
        held += [(("reps", i, "languages"), skill.LANGUAGE, r.languages) for i, r in enumerate(self.reps)]
        held += [(("reps", i, "verticals"), skill.INDUSTRY, r.verticals) for i, r in enumerate(self.reps)]
        held += [(("pools", i, "skills", c), c, []) for i, p in enumerate(self.pools) for c in p.skills]
        custom: dict[str, list[str]] = {}
        if any(c not in skill.SKILL_COLUMNS for _, c, _ in held):  # only then is config/fields.yaml read
            from leadrouter.fields import configured_fields

            custom = {f.name: f.values for f in configured_fields().custom}
        return [p for loc, column, values in held for p in skill.skill_problems(loc, column, values, custom)]

    @cached_property
    def by_id(self) -> dict[str, Rep]:
        """Reps by id and by email (pools may name a rep by either until ids are resolved)."""
        return {r.key: r for r in self.reps} | {r.email: r for r in self.reps}

    def rep_id(self, name: str) -> str:
        """The owner id a pool entry names: a rep's id (also when named by email) or a queue id."""
        rep = self.by_id.get(name)
        return rep.key if rep else name

    def is_queue(self, owner_id: str) -> bool:
        return owner_id in self.queues

    def _fallback_chain_problems(self, pool: Pool) -> list[str]:
        seen = [pool.name]
        while (nxt := self.fallback_pool(self.pool(seen[-1]))) is not None:
            if nxt.tier != pool.tier:
                return [f"fallback pool {nxt.name!r} serves {nxt.tier.value}, not {pool.tier.value}"]
            if nxt.name in seen:
                return [f"fallback pools go round in a circle: {' → '.join([*seen, nxt.name])}"]
            seen.append(nxt.name)
        return []

    def fallback_pool(self, pool: Pool) -> Pool | None:
        """The pool a pool hands its leads to when none of its reps can take them, if its fallback is one."""
        if pool.fallback in self.by_id or pool.fallback in self.queues:
            return None
        return next((p for p in self.pools if p.name == pool.fallback), None)

    def last_resort(self, pool: Pool) -> str:
        """The owner at the end of the pool's fallback chain (a rep or queue id)."""
        while (successor := self.fallback_pool(pool)) is not None:
            pool = successor
        return self.rep_id(pool.fallback)

    def owner_ids(self, active_only: bool = False) -> set[str]:
        """Every id that can own a lead: reps (the active ones only, if asked) and queues."""
        return {r.key for r in self.reps if r.active or not active_only} | set(self.queues)

    def pool(self, name: str) -> Pool:
        return next(p for p in self.pools if p.name == name)

    def members(self, pool: Pool) -> list[str]:
        """The pool's owner ids in roster order (ties in the round robin go to the earlier one)."""
        return [self.rep_id(m) for m in pool.reps]

    def weights(self, pool: Pool) -> pd.Series:
        """Weight per active member of the pool (a queue counts as one full member), in pool order."""
        weight = {r.key: r.weight for r in self.reps if r.active} | dict.fromkeys(self.queues, 1.0)
        ids = self.members(pool)
        return pd.Series({rid: weight[rid] for rid in ids if rid in weight}, dtype=float)

    def manager_of(self, pool_name: str | None) -> str | None:
        pool = next((p for p in self.pools if p.name == pool_name), None)
        manager = (pool.manager if pool else None) or self.escalation
        return self.rep_id(manager) if manager else None

    def without(self, owner_ids: set[str]) -> Roster:
        """This roster with these reps switched off (a lead re-routed never goes back to who breached it)."""
        data = self.model_dump()
        for rep in data["reps"]:
            if (rep["id"] or rep["email"]) in owner_ids:
                rep["active"] = False
        return Roster.model_validate(data)

    def with_crm_ids(self, owners: pd.DataFrame, path: Path | str) -> Roster:
        """Fill the ids of reps listed by email from the CRM's users (fetch_owners: owner_id, email); a rep
        the CRM does not know fails with the roster's file and line. Pool entries follow (rep_id)."""
        missing = [i for i, r in enumerate(self.reps) if r.id is None]
        if not missing:
            return self
        by_email = dict(zip(owners["email"].str.lower(), owners["owner_id"].astype(str), strict=True))
        root = yaml.compose(Path(path).read_text(encoding="utf-8"))
        reps = []
        for i, rep in enumerate(self.reps):
            if rep.id is None and rep.email.lower() not in by_email:
                message = f"no CRM user has the email {rep.email!r}: add the rep's id, or the user to the CRM"
                raise ConfigError(Path(path), line_of(root, ("reps", i, "email")), f"reps.{i}.email", message)
            reps.append(rep if rep.id else rep.model_copy(update={"id": by_email[rep.email.lower()]}))
        data = self.model_dump()
        data["reps"] = [r.model_dump() for r in reps]
        email_to_id = {r.email: r.id for r in reps}
        for pool in data["pools"]:
            pool["reps"] = [email_to_id.get(m, m) for m in pool["reps"]]
            pool["fallback"] = email_to_id.get(pool["fallback"], pool["fallback"])
            pool["manager"] = email_to_id.get(pool["manager"], pool["manager"])
        for rep in data["reps"]:
            rep["backup"] = email_to_id.get(rep["backup"], rep["backup"])
        for cover in data["cover"]:
            cover["rep"], cover["by"] = (
                email_to_id.get(cover["rep"], cover["rep"]),
                email_to_id.get(cover["by"], cover["by"]),
            )
        data["escalation"] = email_to_id.get(data["escalation"], data["escalation"])
        return Roster.model_validate(data)


def load_roster(path: Path | str) -> Roster:
    return load_yaml_model(path, Roster)


def choose_pools(frame: pd.DataFrame, roster: Roster) -> pd.Series:
    """Each lead's pool: the rule's pool when it named one, else the first pool of its tier that covers its
    region or territory (a pool naming neither covers every lead)."""
    pool = frame["pool"].astype("string").to_numpy(dtype=object, na_value=None)
    open_ = pd.isna(pool)
    # factorised once, so each pool's test is an integer comparison over the batch
    tier, tiers = pd.factorize(frame["tier"])
    region, regions = pd.factorize(
        frame["region"] if "region" in frame else pd.Series(pd.NA, index=frame.index)
    )
    territory, territories = pd.factorize(
        frame["territory"] if "territory" in frame else pd.Series(pd.NA, index=frame.index)
    )
    for p in roster.pools:
        if p.tier.value not in tiers:
            continue
        here = open_ & (tier == tiers.get_loc(p.tier.value))
        if p.regions or p.territories:
            here &= np.isin(region, np.flatnonzero(regions.isin(p.regions))) | np.isin(
                territory, np.flatnonzero(territories.isin(p.territories))
            )
        pool[here] = p.name
        open_ &= ~here
    return pd.Series(pd.array(pool, dtype="string"), index=frame.index)
