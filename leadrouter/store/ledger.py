"""Reads and writes on the ledger. Functions taking a Connection run inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Insert, Table, Text, and_, bindparam, cast, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from leadrouter import clock
from leadrouter.crm.base import chunks
from leadrouter.schema import Status
from leadrouter.store.engine import Store
from leadrouter.store.tables import decisions, rep_state, watermarks

CHUNK = 10_000  # bound on bound parameters per statement (SQLite allows 32766)


def get_watermark(store: Store, source: str) -> str | None:
    with store.engine.connect() as conn:
        return conn.execute(select(watermarks.c.cursor).where(watermarks.c.source == source)).scalar() or None


def advance_watermark(store: Store, source: str, cursor: str | None) -> None:
    """Move the source's cursor forward; never backwards (a slower router may finish second)."""
    if cursor is None:
        return
    with store.transaction() as conn:
        conn.execute(
            insert_ignoring_duplicates(store, watermarks),
            {"source": source, "cursor": "", "updated_at": clock.now()},
        )
        current = conn.execute(
            select(watermarks.c.cursor).where(watermarks.c.source == source).with_for_update()
        ).scalar()
        if cursor > current:
            conn.execute(
                update(watermarks)
                .where(watermarks.c.source == source)
                .values(cursor=cursor, updated_at=clock.now())
            )


def insert_ignoring_duplicates(store: Store, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING, in the store's dialect."""
    return (postgresql if store.is_postgres else sqlite).insert(table).on_conflict_do_nothing()


def insert_columns(conn: Connection, table: Table, columns: dict[str, list]) -> None:
    """INSERT rows given column by column, in one executemany on the driver. Each value goes through its
    column type's bind processor (a JSON column's serialiser, SQLite's datetime format), exactly what
    SQLAlchemy does for table.insert(), but over whole columns: its per-row parameter handling took seconds
    per 100,000 decisions."""
    names = list(columns)
    converted = {}
    for name in names:
        process = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        converted[name] = list(map(process, columns[name])) if process else columns[name]
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=names)
    if compiled.positional:
        rows = list(zip(*(converted[name] for name in compiled.positiontup), strict=True))
    else:
        rows = [dict(zip(names, row, strict=True)) for row in zip(*converted.values(), strict=True)]
    if rows:
        conn.exec_driver_sql(str(compiled), rows)


def decided_ids(conn: Connection, source: str, lead_ids: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(list(lead_ids), CHUNK):
        rows = conn.execute(
            select(decisions.c.lead_id).where(decisions.c.source == source, decisions.c.lead_id.in_(part))
        )
        found.update(r[0] for r in rows)
    return found


def ensure_rep_rows(store: Store, pairs: list[tuple[str, str]], shadow: bool = False) -> None:
    """Create missing round-robin rows (pass null: new to the pool) in a transaction of their own."""
    if not pairs:
        return
    prefix = SHADOW_PREFIX if shadow else ""
    rows = [
        {"pool": prefix + p, "rep_id": r, "pass_value": None, "assigned": 0, "updated_at": clock.now()}
        for p, r in pairs
    ]
    with store.transaction() as conn:
        conn.execute(insert_ignoring_duplicates(store, rep_state), rows)


SHADOW_PREFIX = "shadow:"  # shadow runs take round-robin turns in pools of their own, never the live pools'


def own_pool_state(state: pd.DataFrame, shadow: bool) -> pd.DataFrame:
    """The round-robin rows of the live pools, or of the shadow pools, under the roster's pool names."""
    mine = state[state["pool"].str.startswith(SHADOW_PREFIX) == shadow]
    return mine.assign(pool=mine["pool"].str.removeprefix(SHADOW_PREFIX))


def save_own_pool_state(conn: Connection, state: pd.DataFrame, shadow: bool) -> None:
    save_rep_state(conn, state.assign(pool=(SHADOW_PREFIX if shadow else "") + state["pool"]))


def lock_rep_state(conn: Connection) -> pd.DataFrame:
    """All round-robin rows, locked until the transaction ends (FOR UPDATE on PostgreSQL, in a fixed order)."""
    return read_rep_state(conn, for_update=True)


def read_rep_state(conn: Connection, for_update: bool = False) -> pd.DataFrame:
    """All round-robin rows (a simulation reads them without locking, so it never holds up routing)."""
    query = select(
        rep_state.c.pool, rep_state.c.rep_id, rep_state.c.pass_value, rep_state.c.assigned
    ).order_by(rep_state.c.pool, rep_state.c.rep_id)
    if for_update:
        query = query.with_for_update()
    return pd.DataFrame(
        conn.execute(query).mappings().all(), columns=["pool", "rep_id", "pass_value", "assigned"]
    )


def save_rep_state(conn: Connection, state: pd.DataFrame) -> None:
    rows = [
        {"p": r.pool, "r": r.rep_id, "pass_value": float(r.pass_value), "assigned": int(r.assigned)}
        for r in state.dropna(subset=["pass_value"]).itertuples()
    ]
    if rows:
        stmt = (
            update(rep_state)
            .where(rep_state.c.pool == bindparam("p"), rep_state.c.rep_id == bindparam("r"))
            .values(
                pass_value=bindparam("pass_value"), assigned=bindparam("assigned"), updated_at=clock.now()
            )
        )
        conn.execute(stmt, rows)


OPEN_DAYS = 30  # an untouched lead older than this no longer counts against its owner's open-lead cap
LIVE_ROUTED = [Status.RECORDED.value, Status.WRITING.value, Status.WRITTEN.value]


def owner_load(
    conn: Connection, source: str, shadow: bool, day_starts: pd.Series, at: datetime
) -> pd.DataFrame:
    """Per owner id: assigned_today (since their local midnight, day_starts: owner id -> UTC instant) and
    open (routed to them, no first touch yet, within OPEN_DAYS). Read inside the routing transaction, after
    the round-robin locks, so a concurrent router's committed leads count."""
    statuses = [Status.SHADOW.value] if shadow else LIVE_ROUTED
    routed = and_(decisions.c.source == source, decisions.c.status.in_(statuses))
    count = select(decisions.c.owner_id, func.count()).where(routed).group_by(decisions.c.owner_id)
    today: dict[str, int] = {}
    for start, owners in day_starts.groupby(day_starts).groups.items():
        since = count.where(
            decisions.c.decided_at >= start.to_pydatetime(), decisions.c.owner_id.in_(list(owners))
        )
        today.update(conn.execute(since).all())
    untouched = count.where(
        decisions.c.first_touch_at.is_(None), decisions.c.decided_at >= at - timedelta(days=OPEN_DAYS)
    )
    open_ = dict(conn.execute(untouched).all())
    frame = pd.DataFrame(
        {"assigned_today": pd.Series(today, dtype=float), "open": pd.Series(open_, dtype=float)}
    )
    return frame.fillna(0)


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
                    .where(decisions.c.id.in_(part))
                    .values(status=Status.WRITING.value, claim=claim, claimed_at=clock.now())
                    .returning(
                        decisions.c.id,
                        decisions.c.lead_id,
                        decisions.c.owner_id,
                        decisions.c.tier,
                        decisions.c.decided_by,
                        # the two facts a write needs, not the whole explanation (parsing it dominated)
                        decisions.c.explanation["summary"].as_string().label("routing_reason"),
                        decisions.c.explanation["reopen"].as_boolean().label("reopen"),
                    )
                )
                .mappings()
                .all()
            )
    columns = ["id", "lead_id", "owner_id", "tier", "decided_by", "routing_reason", "reopen"]
    frame = pd.DataFrame(claimed, columns=columns)
    return frame.assign(
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
                .where(decisions.c.id.in_(part), decisions.c.claim == claim)
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


def status_counts(store: Store, source: str, run_id: str | None = None) -> dict[str, int]:
    query = select(decisions.c.status, func.count()).where(decisions.c.source == source)
    if run_id:
        query = query.where(decisions.c.run_id == run_id)
    with store.engine.connect() as conn:
        return dict(conn.execute(query.group_by(decisions.c.status)).all())


def undecided(store: Store, source: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of frame whose lead has no decision yet (re-pulled leads, e.g. after our own owner write)."""
    with store.engine.connect() as conn:
        seen = decided_ids(conn, source, frame["lead_id"].dropna())
    return frame[~frame["lead_id"].isin(seen)].reset_index(drop=True)


def run_tally(store: Store, source: str, run_id: str) -> pd.DataFrame:
    """A run's decisions counted in the database by the facts its summary reports: one row per distinct status,
    tier, owner, decider, method, reps passed over (JSON text), enrichment failure and account match, with
    `leads` (how many) and `model_cost_usd` (their sum). Fetching 100,000 decisions to count them took seconds."""
    why = decisions.c.explanation
    facts = [
        decisions.c.status,
        decisions.c.tier,
        decisions.c.owner_id,
        decisions.c.decided_by,
        why["method"].as_string().label("method"),
        cast(why["excluded"], Text).label("excluded"),  # PostgreSQL's json has no equality: group its text
        why[("enrichment", "enrichment_failed")].as_boolean().label("enrichment_failed"),
        why[("enrichment", "account_id")].as_string().is_not(None).label("matched"),
    ]
    query = (
        select(
            *facts, func.count().label("leads"), func.sum(decisions.c.model_cost_usd).label("model_cost_usd")
        )
        .where(decisions.c.source == source, decisions.c.run_id == run_id)
        .group_by(*facts)
    )
    with store.engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(query).all(), columns=[*(f.name for f in facts), "leads", "model_cost_usd"]
        )
