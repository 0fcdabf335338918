"""Record a batch in the ledger: assign owners and commit decisions and round-robin state in one transaction.

Assignment happens inside the transaction because round-robin turns must be taken under the lock: two routers
that both pulled a lead decide it once, and every turn a rep gets is a lead that rep really got.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy import Connection, delete

from leadrouter.assign.owners import assign_owners
from leadrouter.assign.roster import Roster
from leadrouter.schema import MODEL_COLUMNS, Status
from leadrouter.store import Store, ledger
from leadrouter.store.tables import decisions, quarantine, review_queue

# what enrichment learned, kept with each decision so it can be explained later
ENRICHMENT_FACTS = [
    "territory", "timezone", "seniority", "account_id", "match_method", "match_score", "match_explanation",
    "enrichment_failed",
]  # fmt: skip
NO_RULE = "no rule resolved the lead"
MODEL_FACTS = ["model", "urgency", "confidence", "rationale", "brief", "model_cost_usd"]
DUPLICATE_COLUMNS = ["duplicate_of", "existing_owner_id"]  # from leadrouter.dedupe.mark_duplicates


@dataclass(frozen=True)
class BatchContext:
    source: str
    run_id: str
    rulebook_version: str
    shadow: bool = False
    review_sla: timedelta = timedelta(hours=1)  # a review item is due this long after it is queued


def record_batch(
    store: Store, ctx: BatchContext, classified: pd.DataFrame, quarantined: pd.DataFrame, roster: Roster
) -> pd.DataFrame:
    """Decide every lead of the batch not decided before; returns the new decisions (lead_id, status, owner...).

    classified: leads that passed validation, with tier (<NA> when unresolved -> review queue).
    quarantined: lead_id, reason, reasons for the rows validation stopped.
    """
    # one decision per lead id: a CRM page can repeat an id, and a row without one cannot be written back
    classified = classified.dropna(subset=["lead_id"]).drop_duplicates("lead_id")
    quarantined = quarantined.dropna(subset=["lead_id"]).drop_duplicates("lead_id")
    ledger.ensure_rep_rows(store, [(p.name, rep) for p in roster.pools for rep in p.reps], ctx.shadow)
    with store.transaction() as conn:
        state = ledger.lock_rep_state(conn)
        seen = ledger.decided_ids(conn, ctx.source, [*classified["lead_id"], *quarantined["lead_id"]])
        classified = classified[~classified["lead_id"].isin(seen)]
        quarantined = quarantined[~quarantined["lead_id"].isin(seen)]
        resolved = classified[classified["tier"].notna()]
        review = classified[classified["tier"].isna()]
        assigned, new_state = _assign(resolved, roster, ledger.own_pool_state(state, ctx.shadow))
        recorded = _decision_rows(ctx, assigned, review, quarantined)
        _insert(conn, ctx, recorded, review, quarantined)
        ledger.save_own_pool_state(conn, new_state, ctx.shadow)
    return recorded


def _assign(resolved: pd.DataFrame, roster: Roster, state: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Owners for resolved leads: a duplicate keeps its CRM record's owner or follows its first copy in the
    batch, a rule may name the owner (no round-robin turn for any of these); every other lead goes through
    the pools."""
    missing = pd.Series(pd.NA, index=resolved.index, dtype="string")
    resolved = resolved.assign(
        **{c: resolved.get(c, missing).astype("string") for c in [*DUPLICATE_COLUMNS, "rule_owner"]}
    )
    keeps = resolved["existing_owner_id"].notna()
    original = resolved["duplicate_of"].str.removeprefix("batch:")
    follows = ~keeps & resolved["duplicate_of"].str.startswith("batch:").fillna(False)
    follows &= original.isin(resolved.loc[~follows, "lead_id"])
    # a rule's owner who has since gone inactive does not strand the lead: it goes through the pools
    named = ~keeps & ~follows & resolved["rule_owner"].isin(roster.owner_ids(active_only=True))
    assigned, new_state = assign_owners(resolved[~keeps & ~follows & ~named], roster, state)
    kept = resolved[keeps]
    kept = kept.assign(owner_id=kept["existing_owner_id"], assign_method="existing_owner")
    by_rule = resolved[named]
    by_rule = by_rule.assign(owner_id=by_rule["rule_owner"], assign_method="rule_owner")
    decided = pd.concat([assigned, kept, by_rule], ignore_index=True)
    if not follows.any():
        return decided, new_state
    owner_of = dict(zip(decided["lead_id"], decided["owner_id"], strict=True))
    followed = resolved[follows].assign(owner_id=original[follows].map(owner_of), assign_method="duplicate")
    return pd.concat([decided, followed], ignore_index=True), new_state


def _decision_rows(
    ctx: BatchContext, assigned: pd.DataFrame, review: pd.DataFrame, quarantined: pd.DataFrame
) -> pd.DataFrame:
    routed_status = Status.SHADOW if ctx.shadow else Status.RECORDED
    routed = assigned.assign(status=routed_status.value)
    routed["routing_reason"] = (
        routed["decided_by"] + " → pool " + routed["pool"].fillna("-") + " → " + routed["assign_method"]
    )
    reason = review.get("review_reason", pd.Series(pd.NA, index=review.index, dtype="string"))
    queued = review.assign(status=Status.REVIEW.value, routing_reason=reason.fillna(NO_RULE))
    stopped = quarantined.assign(status=Status.QUARANTINED.value, routing_reason=quarantined["reason"])
    frames = [f for f in (routed, queued, stopped) if len(f)]
    if not frames:
        return pd.DataFrame(columns=["lead_id", "status", "owner_id", "tier", "routing_reason"])
    return pd.concat(frames, ignore_index=True)


def _insert(
    conn: Connection,
    ctx: BatchContext,
    recorded: pd.DataFrame,
    review: pd.DataFrame,
    quarantined: pd.DataFrame,
) -> None:
    if recorded.empty:
        return
    stamp = ledger.now()
    cols = recorded.reindex(
        columns=[
            "lead_id",
            "status",
            "tier",
            "category",
            "priority",
            "decided_by",
            "confidence",
            "owner_id",
            "pool",
            "assign_method",
            "region",
            "routing_reason",
            "created_at",
            "duplicate_of",
            *ENRICHMENT_FACTS,
            *MODEL_COLUMNS,
        ]
    )
    cols = cols.astype(object).where(cols.notna(), None)
    rows = [
        {
            "source": ctx.source,
            "lead_id": r.lead_id,
            "run_id": ctx.run_id,
            "status": r.status,
            "tier": r.tier,
            "category": r.category,
            "priority": None if r.priority is None else int(r.priority),
            "decided_by": r.decided_by,
            "confidence": None if r.confidence is None else float(r.confidence),
            "owner_id": r.owner_id,
            "pool": r.pool,
            "explanation": {
                "rule": r.decided_by,
                "region": r.region,
                "pool": r.pool,
                "method": r.assign_method,
                "duplicate_of": r.duplicate_of,
                "summary": r.routing_reason,
                "enrichment": {fact: getattr(r, fact) for fact in ENRICHMENT_FACTS},
                "model": {fact: getattr(r, fact) for fact in MODEL_FACTS} if r.model else None,
            },
            "rulebook_version": ctx.rulebook_version,
            "shadow": ctx.shadow,
            "lead_created_at": None if r.created_at is None else r.created_at.to_pydatetime(),
            "decided_at": stamp,
            "write_attempts": 0,
            "duplicate_of": r.duplicate_of,
            "urgency": r.urgency,
            "model_input_tokens": None if r.model_input_tokens is None else int(r.model_input_tokens),
            "model_output_tokens": None if r.model_output_tokens is None else int(r.model_output_tokens),
            "model_cost_usd": None if r.model_cost_usd is None else float(r.model_cost_usd),
        }
        for r in cols.itertuples(index=False)
    ]
    conn.execute(decisions.insert(), rows)
    if len(review):
        queued = review.reindex(columns=["lead_id", "review_reason", "suggested_tier", "confidence"])
        queued = queued.astype(object).where(queued.notna(), None)
        conn.execute(
            review_queue.insert(),
            [
                {
                    "source": ctx.source,
                    "lead_id": r.lead_id,
                    "reason": r.review_reason or NO_RULE,
                    "created_at": stamp,
                    "due_at": stamp + ctx.review_sla,
                    "suggested_tier": r.suggested_tier,
                    "confidence": None if r.confidence is None else float(r.confidence),
                }
                for r in queued.itertuples(index=False)
            ],
        )
    if len(quarantined):
        # undecided leads: any row they still have is a released one, replaced by this verdict
        conn.execute(
            delete(quarantine).where(
                quarantine.c.source == ctx.source, quarantine.c.lead_id.in_(quarantined["lead_id"].tolist())
            )
        )
        conn.execute(
            quarantine.insert(),
            [
                {
                    "source": ctx.source,
                    "lead_id": lid,
                    "reason": reason,
                    "reasons": reasons,
                    "created_at": stamp,
                }
                for lid, reason, reasons in zip(
                    quarantined["lead_id"], quarantined["reason"], quarantined["reasons"], strict=True
                )
            ],
        )
