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


def claim_for_write(store: Store, source: str, claim: str, lease: timedelta, limit: int) -> pd.DataFrame:
    """Claim recorded decisions (and writes whose claim expired) so no two routers write the same lead.

    `retaken` marks the writes taken over from an expired claim: that router may have died after the CRM
    took its write, so the caller checks the CRM before writing them again."""
    stale = clock.now() - lease
    claimable = or_(
        decisions.c.status == Status.RECORDED.value,
        and_(decisions.c.status == Status.WRITING.value, decisions.c.claimed_at < stale),
    )
    with store.transaction() as conn:
        ids = (
            select(decisions.c.id, decisions.c.status)
            .where(decisions.c.source == source, claimable)
            .order_by(decisions.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        picked, retaken = [], set()
        for id_, status in conn.execute(ids):
            picked.append(id_)
            if status == Status.WRITING.value:
                retaken.add(id_)
        claimed = []
        for part in chunks(picked, CHUNK):
            claimed += (
                conn.execute(
                    update(decisions)
                    .where(among(conn, decisions.c.id, part))
                    .values(status=Status.WRITING.value, claim=claim, claimed_at=clock.now())
                    .returning(
                        decisions.c.id,
                        decisions.c.lead_id,
                        decisions.c.owner_id,
                        decisions.c.tier,
                        decisions.c.decided_by,
                        decisions.c.decided_at,
                        # the two facts a write needs, not the whole explanation (parsing it dominated)
                        decisions.c.explanation["summary"].as_string().label("routing_reason"),
                        decisions.c.explanation["reopen"].as_boolean().label("reopen"),
                    )
                )
                .tuples()
                .all()
            )
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
