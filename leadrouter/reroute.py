"""Re-route leads whose owner let the SLA lapse or rejected them: the next eligible rep of the pool, never one
who already had the lead and let it go; the pool's manager is told once a lead has lapsed often enough.

The new owner is recorded like any decision (status recorded), so the next write-back writes it to the CRM.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Row

from leadrouter.assign.roster import Roster
from leadrouter.assign.turns import take_turns
from leadrouter.classify.rules import ResponseSla
from leadrouter.schema import Tier
from leadrouter.sla import due_times
from leadrouter.store import Store
from leadrouter.store.decisions import REROUTABLE, clear_due_times, lead_decisions, lock_routed, reassign
from leadrouter.store.sla_events import insert_events, lead_events

LET_GO = ("breach", "reject")  # events after which a rep never gets the same lead back
REROUTE_COLUMNS = [
    "lead_id",
    "tier",
    "old_owner_id",
    "owner_id",
    "pool",
    "why",
    "lapses",
    "escalate_to",
    "sla_due_at",
]


class RejectError(ValueError):
    """A rejection that moves nothing; the message says why and what happened instead."""


def reject_lead(
    store: Store,
    source: str,
    lead_id: str,
    roster: Roster,
    sla: dict[Tier, ResponseSla],
    at: datetime,
    note: str | None = None,
) -> pd.DataFrame:
    """The lead's owner rejects it: it goes at once to the next eligible rep (reroute, why "reject"); returns
    reroute's row. Raises RejectError when nothing moves: the lead has no routed decision, a queue owns it (no
    rep to reject it), or nobody else in its pool can take it (it stays with its owner, its clock stopped)."""
    rows = lead_decisions(store, lead_id, source)
    decision = rows[-1] if rows else None
    if decision is None or decision.status not in REROUTABLE or decision.tier is None:
        state = f"its decision is {decision.status}" if decision else "not routed yet?"
        raise RejectError(f"lead {lead_id} has no routed decision to reject in {source} ({state})")
    if decision.owner_id in roster.queues:
        raise RejectError(
            f"lead {lead_id} ({decision.tier}) is with the queue {decision.owner_id} "
            f"({roster.queues[decision.owner_id]}), not with a rep: there is no owner to reject it, and nothing "
            "changed. To hand it to a rep, set its owner in the CRM"
        )
    moved = reroute(store, source, [lead_id], "reject", roster, sla, at, note=note)
    if moved.empty:
        raise RejectError(
            f"nobody else can take lead {lead_id} (pool {decision.pool or '-'}): it stays with "
            f"{decision.owner_id}, its response clock stopped and the rejection recorded"
        )
    return moved


def reroute(
    store: Store,
    source: str,
    lead_ids: list[str],
    why: str,
    roster: Roster,
    sla: dict[Tier, ResponseSla],
    at: datetime,
    note: str | None = None,
    rejected_by: Mapping[str, str] | None = None,
    untouched: bool = False,
    pool: str | None = None,
) -> pd.DataFrame:
    """Give each lead to a new owner: why is "breach" (the SLA lapsed), "reject" (the owner said wrong owner),
    "deactivated" (the owner's CRM user was switched off) or "handover" (the owner's book handed on).

    untouched: move only leads nobody has touched yet (checked under the lock). pool: route them through this
    pool instead of their own.

    rejected_by: lead -> the rep who rejected it (a CRM status); a lead that is no longer theirs is skipped.
    Returns REROUTE_COLUMNS per lead re-routed; a lead no longer routed (or touched meanwhile) is skipped."""
    if not lead_ids:
        return pd.DataFrame(columns=REROUTE_COLUMNS)
    with store.transaction() as conn, take_turns(conn, roster, source, sla, at=at) as turns:
        breached_at = at if why == "breach" else None
        leads = routed_frame(
            lock_routed(conn, source, lead_ids, breached_at=breached_at, untouched=untouched)
        )
        if pool is not None:
            leads["pool"] = pd.array([pool] * len(leads), dtype="string")
        if rejected_by is not None:  # checked under the lock: a rejection read twice moves the lead once
            leads = leads[leads["old_owner_id"].eq(leads["lead_id"].map(rejected_by)).fillna(False)]
        if leads.empty:
            return pd.DataFrame(columns=REROUTE_COLUMNS)
        let_go, breaches = _let_go(conn, source, leads["lead_id"].tolist())
        # per lead: every rep who breached or rejected it, and its current owner
        avoid_of = {
            lid: let_go.get(lid, frozenset()) | {old}
            for lid, old in zip(leads["lead_id"], leads["old_owner_id"], strict=True)
        }
        groups = []
        for avoid, group in leads.groupby(leads["lead_id"].map(avoid_of), sort=False):
            assigned = turns.assign(group.drop(columns="old_owner_id"), roster.without(set(avoid)))
            assigned["old_owner_id"] = (
                group.set_index("lead_id")["old_owner_id"].reindex(assigned["lead_id"]).to_numpy()
            )
            assigned["excluded"] = [
                {rep: ("LET_GO" if rep in avoid else code) for rep, code in (e or {}).items()}
                for e in assigned["excluded"]
            ]
            groups.append(assigned)
        moved = pd.concat(groups, ignore_index=True)
        moved["why"] = why
        moved["lapses"] = moved["lead_id"].map(lambda lid: breaches.get(lid, 0)) + int(why == "breach")
        # nobody new can take it (a queue, or a fallback who already let it go): it stays, its clock stops, and
        # the manager is told rather than the lead circling back every few minutes
        moved["stuck"] = [
            o in avoid_of[lid] for lid, o in zip(moved["lead_id"], moved["owner_id"], strict=True)
        ]
        limit = moved["tier"].map(lambda t: sla[Tier(t)].escalate_after if Tier(t) in sla else None)
        manager = moved["pool"].map(roster.manager_of)
        due_escalation = (why == "breach") & (moved["lapses"] >= limit.fillna(10**9))
        moved["escalate_to"] = manager.where(due_escalation | moved["stuck"])
        moved["sla_due_at"] = due_times(moved["owner_id"], moved["tier"], at, roster, sla)
        _record(conn, source, moved[~moved["stuck"]], at, note)
        _stop_clocks(conn, source, moved[moved["stuck"]], at, note)
    return moved[~moved["stuck"]].reindex(columns=REROUTE_COLUMNS)


def routed_frame(rows: list[Row]) -> pd.DataFrame:
    """The locked decisions as what assignment needs to route them again."""
    explanation = [r.explanation or {} for r in rows]
    enrichment = [e.get("enrichment") or {} for e in explanation]
    return pd.DataFrame(
        {
            "lead_id": pd.array([r.lead_id for r in rows], dtype="string"),
            "created_at": pd.to_datetime([r.lead_created_at for r in rows], utc=True),
            "tier": pd.array([r.tier for r in rows], dtype="string"),
            "pool": pd.array([r.pool for r in rows], dtype="string"),
            "old_owner_id": pd.array([r.owner_id for r in rows], dtype="string"),
            "region": pd.array([e.get("region") for e in explanation], dtype="string"),
            "territory": pd.array([f.get("territory") for f in enrichment], dtype="string"),
            "industry": pd.array([f.get("industry") for f in enrichment], dtype="string"),
            "summary": [e.get("summary") or "" for e in explanation],
            "explanation": explanation,
        }
    )


def _let_go(
    conn: Connection, source: str, lead_ids: list[str]
) -> tuple[dict[str, frozenset[str]], dict[str, int]]:
    """Per lead: the reps who already breached or rejected it, and how many breaches it had."""
    rows = lead_events(conn, source, lead_ids, list(LET_GO))
    owners: dict[str, set[str]] = {}
    breaches: dict[str, int] = {}
    for lead_id, owner, kind in rows:
        owners.setdefault(lead_id, set()).add(owner)
        breaches[lead_id] = breaches.get(lead_id, 0) + (kind == "breach")
    return {k: frozenset(v) for k, v in owners.items()}, breaches


def _stop_clocks(conn: Connection, source: str, stuck: pd.DataFrame, at: datetime, note: str | None) -> None:
    """Leads nobody new can take keep their owner; their clock stops and the manager is told."""
    if stuck.empty:
        return
    clear_due_times(conn, source, stuck["lead_id"].tolist())
    events = []
    for r in stuck.itertuples(index=False):
        events.append(_event(source, r, r.why, r.old_owner_id, None, at, {"note": note} if note else None))
        if isinstance(r.escalate_to, str):
            detail = {"lapses": int(r.lapses), "nobody_else": True}
            events.append(_event(source, r, "escalation", r.old_owner_id, r.escalate_to, at, detail))
    insert_events(conn, events)


def _record(conn: Connection, source: str, moved: pd.DataFrame, at: datetime, note: str | None) -> None:
    """The new owners (status recorded: the next write-back writes them) and the events, in the caller's
    transaction."""
    if moved.empty:  # every lead stuck with its owner: nothing to reassign
        return
    events, updates = [], []
    for r in moved.itertuples(index=False):
        step = f" → {r.why} by {r.old_owner_id} → re-routed{r.routing_path}"
        explanation = r.explanation | {
            "summary": r.summary + step,
            "pool": r.pool,
            "method": r.assign_method,
            "excluded": r.excluded,
            "reopen": r.why == "reject",  # the write-back sets the CRM status back from "Rejected"
        }
        updates.append(
            {
                "lead_id": r.lead_id,
                "owner_id": r.owner_id,
                "pool": r.pool,
                "explanation": explanation,
                "sla_due_at": None if pd.isna(r.sla_due_at) else r.sla_due_at.to_pydatetime(),
            }
        )
        detail = {"note": note} if note else None
        events.append(_event(source, r, r.why, r.old_owner_id, None, at, detail))
        events.append(
            _event(source, r, "reroute", r.old_owner_id, r.owner_id, at, {"method": r.assign_method})
        )
        if isinstance(r.escalate_to, str):
            events.append(
                _event(source, r, "escalation", r.old_owner_id, r.escalate_to, at, {"lapses": int(r.lapses)})
            )
    reassign(conn, source, updates, at)
    insert_events(conn, events)


def _event(
    source: str, r, kind: str, owner: str | None, new_owner: str | None, at: datetime, detail: dict | None
) -> dict:
    return {
        "source": source,
        "lead_id": r.lead_id,
        "kind": kind,
        "tier": r.tier,
        "owner_id": owner,
        "new_owner_id": new_owner,
        "at": at,
        "detail": detail,
    }
