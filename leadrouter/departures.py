"""A rep who leaves: deactivated in the CRM (switched off at the next run, their untouched leads re-routed
through the pools), or handed over on purpose (`leadrouter handover`: their book to a rep or through a pool)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pandas as pd

from leadrouter.assign.roster import Roster
from leadrouter.assign.turns import preview_turns
from leadrouter.classify.rules import ResponseSla
from leadrouter.reroute import REROUTE_COLUMNS, reroute, routed_frame
from leadrouter.schema import Tier
from leadrouter.sla import due_times
from leadrouter.store import Store
from leadrouter.store.decisions import lock_routed, owned_leads, reassign
from leadrouter.store.sla_events import insert_events


def deactivated_in_crm(roster: Roster, inactive: pd.DataFrame) -> list[str]:
    """Ids of the roster's active reps whose CRM user is deactivated (inactive_owners: owner_id, email)."""
    ids = set(inactive["owner_id"].astype(str))
    emails = set(inactive["email"].dropna().astype(str).str.lower())  # all-blank emails read as floats
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


PLAN_COLUMNS = ["lead_id", "tier", "touched", "old_owner_id", "owner_id", "pool", "how"]


class HandoverError(ValueError):
    """A handover that cannot be planned: the message names what is wrong and how to fix it."""


def handover_target(roster: Roster, rep: str, to: str | None) -> tuple[str, str | None, str | None]:
    """(the leaving rep's id, the rep id to hand to or None, the pool to route through or None)."""
    if rep not in roster.by_id:
        raise HandoverError(f"{rep!r} is not a rep of the roster: name them by id or email")
    rep_id = roster.rep_id(rep)
    if to is None:
        return rep_id, None, None
    if to in roster.by_id:
        if roster.rep_id(to) == rep_id:
            raise HandoverError(f"--to {to!r} is the rep handing over: name a colleague or a pool")
        return rep_id, roster.rep_id(to), None
    if to in {p.name for p in roster.pools}:
        return rep_id, None, to
    raise HandoverError(f"--to {to!r} is neither a rep nor a pool of the roster: name one of them")


def handover_plan(
    store: Store,
    source: str,
    roster: Roster,
    rep: str,
    to: str | None,
    include_touched: bool,
    sla: Mapping[Tier, ResponseSla],
    at: datetime,
) -> pd.DataFrame:
    """Where each lead of the rep's book would go (PLAN_COLUMNS), nothing saved: to the named rep, else round the
    named pool or each lead's own pool without the rep, as re-routing would (round-robin state read unlocked)."""
    rep_id, to_rep, pool = handover_target(roster, rep, to)
    book = owned_leads(store, source, [rep_id], include_touched)
    if book.empty:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    if to_rep is not None:
        return book.assign(old_owner_id=rep_id, owner_id=to_rep, how=f"handed to {to_rep}")[PLAN_COLUMNS]
    with store.snapshot() as conn:  # read only, no lock: the connection rolls back on close
        frame = routed_frame(lock_routed(conn, source, book["lead_id"].tolist()))
        if pool is not None:
            frame["pool"] = pd.array([pool] * len(frame), dtype="string")
        planned, _ = preview_turns(conn, frame, roster.without({rep_id}), source, dict(sla), at)
    planned = planned.merge(book[["lead_id", "touched"]], on="lead_id").assign(old_owner_id=rep_id)
    planned["how"] = planned["assign_method"].astype("string")
    return planned[PLAN_COLUMNS]


def hand_over(
    store: Store,
    source: str,
    roster: Roster,
    rep: str,
    to: str | None,
    include_touched: bool,
    sla: Mapping[Tier, ResponseSla],
    at: datetime,
) -> pd.DataFrame:
    """Move the rep's book (untouched leads, and touched ones if asked): to the named rep, else fairly round the
    named pool or each lead's own pool without the rep. Each move is recorded (a "handover" event and a
    "reroute" event) and the decision recorded again, so the next write-back writes the new owner. Returns
    reroute.REROUTE_COLUMNS per lead moved."""
    rep_id, to_rep, pool = handover_target(roster, rep, to)
    lead_ids = owned_leads(store, source, [rep_id], include_touched)["lead_id"].tolist()
    note = f"handover of {rep_id}'s book"
    if to_rep is None:
        return reroute(
            store, source, lead_ids, "handover", roster.without({rep_id}), dict(sla), at, note=note,
            untouched=not include_touched, pool=pool,
        )  # fmt: skip
    return _to_rep(store, source, lead_ids, rep_id, to_rep, roster, sla, at, untouched=not include_touched)


def _to_rep(
    store: Store,
    source: str,
    lead_ids: list[str],
    rep_id: str,
    to_rep: str,
    roster: Roster,
    sla: Mapping[Tier, ResponseSla],
    at: datetime,
    untouched: bool,
) -> pd.DataFrame:
    if not lead_ids:
        return pd.DataFrame(columns=REROUTE_COLUMNS)
    with store.transaction() as conn:
        rows = [r for r in lock_routed(conn, source, lead_ids, untouched=untouched) if r.owner_id == rep_id]
        moved = routed_frame(rows).rename(columns={"owner_id": "old_owner_id"})
        moved = moved.assign(owner_id=to_rep, why="handover", lapses=0, escalate_to=None)
        moved["sla_due_at"] = due_times(moved["owner_id"], moved["tier"], at, roster, dict(sla))
        step = f" → handover by {rep_id} → handed to {to_rep}"
        updates, events = [], []
        for r in moved.itertuples(index=False):
            explanation = r.explanation | {"summary": r.summary + step, "method": "handover"}
            due = None if pd.isna(r.sla_due_at) else r.sla_due_at.to_pydatetime()
            updates.append(
                {
                    "lead_id": r.lead_id,
                    "owner_id": to_rep,
                    "pool": None if pd.isna(r.pool) else r.pool,
                    "explanation": explanation,
                    "sla_due_at": due,
                }
            )
            common = {"source": source, "lead_id": r.lead_id, "tier": r.tier, "owner_id": rep_id, "at": at}
            events.append(common | {"kind": "handover", "new_owner_id": None, "detail": {"to": to_rep}})
            events.append(
                common | {"kind": "reroute", "new_owner_id": to_rep, "detail": {"method": "handover"}}
            )
        reassign(conn, source, updates, at)
        insert_events(conn, events)
    return moved.reindex(columns=REROUTE_COLUMNS)
