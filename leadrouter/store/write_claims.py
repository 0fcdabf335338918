"""Write claims: which router writes which recorded decision's owner to the CRM, and how each write ended."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from sqlalchemy import and_, bindparam, or_, select, update

from leadrouter import clock
from leadrouter.crm.base import chunks
from leadrouter.schema import Status
from leadrouter.store.engine import Store
from leadrouter.store.statements import CHUNK, among
from leadrouter.store.tables import decisions


def held_window(lease: timedelta) -> timedelta:
    """How long decisions recorded claimed are taken as they are, and sent: a quarter of the lease, so every
    chunk written has half a lease or more left."""
    return lease / 4


def held_claims(store: Store, source: str, claim: str, lease: timedelta, limit: int) -> pd.DataFrame:
    """The decisions recorded claimed by this router (record.BatchContext.claim) within the held window,
    oldest first: taken as they are. None is retaken."""
    mine = and_(decisions.c.status == Status.WRITING.value, decisions.c.claim == claim)
    ids = (
        select(decisions.c.id)
        .where(decisions.c.source == source, mine, decisions.c.claimed_at >= clock.now() - held_window(lease))
        .order_by(decisions.c.id)
        .limit(limit)
    )
    # the rows picked first, then their columns: read before the sort, every held row's explanation was parsed
    rows = select(*CLAIMED).where(decisions.c.id.in_(ids.scalar_subquery())).order_by(decisions.c.id)
    with store.snapshot() as conn:
        return claimed_frame(conn.execute(rows).tuples().all(), set())


def claim_for_write(store: Store, source: str, claim: str, lease: timedelta, limit: int) -> pd.DataFrame:
    """Claim recorded decisions, writes whose claim expired, and this router's own claims older than the held
    window (held_claims takes the younger), so no two routers write the same lead.

    `retaken` marks the writes taken over from another router's expired claim: that router may have died after
    the CRM took its write, so the caller checks the CRM before writing them again."""
    now = clock.now()
    writing = decisions.c.status == Status.WRITING.value
    claimable = or_(
        decisions.c.status == Status.RECORDED.value,
        and_(writing, decisions.c.claimed_at < now - lease),
        and_(writing, decisions.c.claim == claim, decisions.c.claimed_at < now - held_window(lease)),
    )
    ids = (
        select(decisions.c.id, decisions.c.status, decisions.c.claim)
        .where(decisions.c.source == source, claimable)
        .order_by(decisions.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with store.transaction() as conn:
        picked, retaken = [], set()
        for id_, status, holder in conn.execute(ids):
            picked.append(id_)
            if status == Status.WRITING.value and holder != claim:
                retaken.add(id_)
        claimed = []
        for part in chunks(picked, CHUNK):
            update_ = (
                update(decisions)
                .where(among(conn, decisions.c.id, part))
                .values(status=Status.WRITING.value, claim=claim, claimed_at=clock.now())
                .returning(*CLAIMED)
            )
            claimed += conn.execute(update_).tuples().all()
    return claimed_frame(claimed, retaken)


CLAIMED_COLUMNS = [
    "id",
    "lead_id",
    "owner_id",
    "tier",
    "decided_by",
    "decided_at",
    "routing_reason",
    "reopen",
]


# the columns claimed rows are read in (CLAIMED_COLUMNS); a write needs two facts of the explanation, not the
# whole of it (parsing it dominated)
CLAIMED = [
    decisions.c.id,
    decisions.c.lead_id,
    decisions.c.owner_id,
    decisions.c.tier,
    decisions.c.decided_by,
    decisions.c.decided_at,
    decisions.c.explanation["summary"].as_string().label("routing_reason"),
    decisions.c.explanation["reopen"].as_boolean().label("reopen"),
]


def claimed_frame(rows: list[tuple], retaken: set[int]) -> pd.DataFrame:
    """The claimed rows (in CLAIMED_COLUMNS order) as a frame, with `retaken` marked.

    Columns are built from the row tuples directly: a DataFrame from one mapping per row spent more than the
    claim's statements themselves."""
    if rows:
        frame = pd.DataFrame(dict(zip(CLAIMED_COLUMNS, map(list, zip(*rows, strict=True)), strict=True)))
    else:  # no values to infer a dtype from: object columns, as a frame from no mappings has
        frame = pd.DataFrame([], columns=CLAIMED_COLUMNS)
    return frame.assign(
        decided_at=pd.to_datetime(frame["decided_at"], utc=True),
        reopen=frame["reopen"].astype("boolean").fillna(False).astype(bool),
        retaken=frame["id"].isin(retaken).astype(bool),
    )


def finish_writes(store: Store, claim: str, results: pd.DataFrame) -> None:
    """Record each write's outcome: written, failed for good, or back to recorded to retry next run."""
    ok = results["ok"].to_numpy(dtype=bool)
    status = pd.Series(Status.WRITE_FAILED.value, index=results.index)
    status[~ok & results["retry"].to_numpy(dtype=bool)] = Status.RECORDED.value
    failed = results[~ok].assign(status=status[~ok])
    stamp = clock.now()
    finished = {"write_attempts": decisions.c.write_attempts + 1, "claim": None}
    with store.transaction() as conn:
        # nearly every write lands: those in a few statements, not one per lead
        for part in chunks(results.loc[ok, "id"].astype(int).tolist(), CHUNK):
            conn.execute(
                update(decisions)
                .where(among(conn, decisions.c.id, part), decisions.c.claim == claim)
                .values(status=Status.WRITTEN.value, write_error=None, written_at=stamp, **finished)
            )
        if len(failed):
            conn.execute(
                update(decisions)
                .where(decisions.c.id == bindparam("i"), decisions.c.claim == claim)
                .values(status=bindparam("st"), write_error=bindparam("err"), written_at=None, **finished),
                [
                    {"i": int(i), "st": st, "err": None if pd.isna(err) else str(err)}
                    for i, st, err in zip(failed["id"], failed["status"], failed["error"], strict=True)
                ],
            )


def release_claims(store: Store, claim: str, ids: list[int]) -> None:
    """Put decisions this router claimed and never wrote back to recorded: a pass that stopped early (the CRM
    failing, a chunk to retry, the limit or the lease reached) leaves them to the next run at once, not after
    the lease. Only those never sent: a write the CRM may have taken stays claimed for the held check."""
    with store.transaction() as conn:
        for part in chunks(ids, CHUNK):
            conn.execute(
                update(decisions)
                .where(
                    among(conn, decisions.c.id, part),
                    decisions.c.status == Status.WRITING.value,
                    decisions.c.claim == claim,
                )
                .values(status=Status.RECORDED.value, claim=None)
            )
