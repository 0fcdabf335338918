"""Round-robin state: each rep's pass value and turns taken per pool; live and shadow runs keep apart."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, bindparam, select, update

from leadrouter import clock
from leadrouter.store.engine import Store
from leadrouter.store.statements import insert_ignoring_duplicates
from leadrouter.store.tables import rep_state

SHADOW_PREFIX = "shadow:"  # shadow runs take round-robin turns in pools of their own, never the live pools'


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


def own_pool_state(state: pd.DataFrame, shadow: bool) -> pd.DataFrame:
    """The round-robin rows of the live pools, or of the shadow pools, under the roster's pool names."""
    mine = state[state["pool"].str.startswith(SHADOW_PREFIX) == shadow]
    return mine.assign(pool=mine["pool"].str.removeprefix(SHADOW_PREFIX))


def save_own_pool_state(conn: Connection, state: pd.DataFrame, shadow: bool) -> None:
    """Save the live (or shadow) pools' rows, given under the roster's pool names."""
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
    """Update the rows that have a pass value (rows still new to their pool stay null)."""
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
