"""The star schema's reads and writes (docs/outcome-tables.md): what the ledger recorded at each decision, the
deals and re-routes the fact table needs; dim_rep kept with history; the fact table and the calendar written in
bulk (COPY on PostgreSQL); a day's snapshot appended (that day's rows replaced: a re-run is idempotent)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Date, Select, String, Table, cast, delete, select, text, update

from leadrouter.store.engine import Store
from leadrouter.store.statements import NULL, escaped
from leadrouter.store.tables import (
    UtcStamp,
    decisions,
    dim_calendar,
    dim_rep,
    fact_routed_leads,
    fx_rates,
    outcome_snapshots,
    outcomes,
    sla_events,
)

ROWS_PER_BATCH = (
    50_000  # bounds the memory of one batch: its columns as Python values (SQLite), its COPY text
)
NULL_BOUND = float("nan")  # what bulk_insert binds for a null on SQLite: stored as NULL (SQLite keeps no NaN)
ENRICHED = ("region", "territory", "industry", "seniority")  # read from the decision's explanation
ARRIVAL = ("lead_source", "country", "employees", "language")  # the decision's own columns


def read_star_inputs(store: Store, source: str) -> dict[str, pd.DataFrame]:
    """decided (lead_id, pool, owner_id, region, territory, industry, seniority, lead_source, country,
    employees, language, custom_fields as JSON text), deals (lead_id, deal_id, stage, close_date, amount,
    currency, deal_created_at) and moves (lead_id, at, new_owner_id of every re-route) of the source, and the
    user's fx_rates."""
    explained = decisions.c.explanation
    # the region sits at the explanation's top level, the others under "enrichment"
    paths = {"region": explained["region"]} | {c: explained["enrichment"][c] for c in ENRICHED[1:]}
    queries = {
        "decided": select(
            decisions.c.lead_id,
            decisions.c.pool,
            decisions.c.owner_id,
            *(path.as_string().label(name) for name, path in paths.items()),
            *(decisions.c[name] for name in ARRIVAL),
            cast(decisions.c.custom_fields, String).label("custom_fields"),
        ).where(decisions.c.source == source),
        "deals": select(
            outcomes.c.lead_id,
            outcomes.c.deal_id,
            outcomes.c.stage,
            outcomes.c.close_date,
            outcomes.c.amount,
            outcomes.c.currency,
            outcomes.c.deal_created_at,
        ).where(outcomes.c.source == source, outcomes.c.deal_id.is_not(None)),
        "moves": select(sla_events.c.lead_id, sla_events.c.at, sla_events.c.new_owner_id).where(
            sla_events.c.source == source, sla_events.c.kind == "reroute"
        ),
        "rates": select(fx_rates),
    }
    with store.engine.connect() as conn:
        frames = {name: _frame(conn, query) for name, query in queries.items()}
    # a JSON null is the text 'null': no custom fields were declared for the lead
    fields = frames["decided"]["custom_fields"]
    frames["decided"]["custom_fields"] = fields.where(fields.ne("null"), None)
    return frames


def open_deal_lead_ids(store: Store, source: str, since: datetime) -> list[str]:
    """Leads whose deal is still open and whose decision is no older than `since`: re-checked past the 90 days."""
    query = (
        select(outcomes.c.lead_id)
        .join(
            decisions, (decisions.c.source == outcomes.c.source) & (decisions.c.lead_id == outcomes.c.lead_id)
        )
        .where(outcomes.c.source == source, ~outcomes.c.is_closed, decisions.c.decided_at >= since)
        .order_by(outcomes.c.lead_id)
    )
    with store.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def current_reps(store: Store, source: str) -> pd.DataFrame:
    """dim_rep's current versions (valid_to null) of the source."""
    query = select(dim_rep).where(dim_rep.c.source == source, dim_rep.c.valid_to.is_(None))
    with store.engine.connect() as conn:
        return _frame(conn, query)


def update_reps(
    store: Store, source: str, close: list[int], inserts: pd.DataFrame, at: datetime
) -> pd.DataFrame:
    """Close the versions `close` at `at` and insert `inserts` valid from `at`; every version of the source back."""
    with store.transaction() as conn:
        if close:
            conn.execute(update(dim_rep).where(dim_rep.c.rep_key.in_(close)).values(valid_to=at))
        if len(inserts):
            rows = inserts.assign(valid_from=at, valid_to=None).astype(object)
            conn.execute(dim_rep.insert(), rows.where(rows.notna(), None).to_dict("records"))
        return _frame(conn, select(dim_rep).where(dim_rep.c.source == source))


def save_star(
    store: Store, source: str, fact: pd.DataFrame, days: pd.DataFrame, snapshot: pd.DataFrame
) -> None:
    """In one transaction: the calendar's missing days, the source's fact rows replaced, and the snapshot's day
    replaced (other days kept: snapshots accumulate)."""
    with store.transaction() as conn:
        known = set(
            conn.execute(
                select(dim_calendar.c.date).where(dim_calendar.c.date.in_(list(days["date"])))
            ).scalars()
        )
        bulk_insert(conn, dim_calendar, days[~days["date"].isin(known)])
        conn.execute(delete(fact_routed_leads).where(fact_routed_leads.c.source == source))
        with _foreign_keys_checked_once(conn, fact_routed_leads):
            bulk_insert(conn, fact_routed_leads, fact)
        day = snapshot["snapshot_date"].iloc[0] if len(snapshot) else None
        conn.execute(
            delete(outcome_snapshots).where(
                outcome_snapshots.c.source == source, outcome_snapshots.c.snapshot_date == day
            )
        )
        bulk_insert(conn, outcome_snapshots, snapshot)


@contextmanager
def _foreign_keys_checked_once(conn: Connection, table: Table) -> Iterator[None]:
    """On PostgreSQL, the table's foreign keys dropped for a bulk load and added back after it, in the same
    transaction: adding one checks every row in one join, where COPY checks them row by row (half the server's
    CPU loading the facts). DDL is transactional: no other session sees the table without its keys; readers of
    it and of the tables it refers to wait for the commit (seconds, once a day) instead of reading old rows."""
    if conn.dialect.name != "postgresql":
        yield
        return
    keys = conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:table AS regclass) AND contype = 'f' ORDER BY conname"
        ),
        {"table": table.name},
    ).all()
    quote = conn.dialect.identifier_preparer.quote
    for name, _ in keys:
        conn.exec_driver_sql(f"ALTER TABLE {table.name} DROP CONSTRAINT {quote(name)}")
    yield
    if keys:
        added = ", ".join(f"ADD CONSTRAINT {quote(name)} {definition}" for name, definition in keys)
        conn.exec_driver_sql(f"ALTER TABLE {table.name} {added}")


def bulk_insert(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    """frame's rows into table: COPY (text format) on PostgreSQL; on SQLite an executemany of plain tuples,
    stamps and dates as the ISO 8601 text UtcStamp and Date store."""
    if frame.empty:
        return
    columns = [c.name for c in table.columns if c.name in frame.columns]
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for start in range(0, len(frame), ROWS_PER_BATCH):
                part = frame.iloc[start : start + ROWS_PER_BATCH]
                texts = [_copy_text(part[c], table.c[c].type) for c in columns]
                copy.write("".join(["\t".join(row) + "\n" for row in zip(*texts, strict=True)]))
        return
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    cursor = conn.connection.cursor()
    for start in range(0, len(frame), ROWS_PER_BATCH):
        part = frame.iloc[start : start + ROWS_PER_BATCH]
        values = [_sqlite_values(part[c], table.c[c].type) for c in columns]
        # the rows streamed, each tuple freed once bound: a list of them (what exec_driver_sql wants) keeps
        # the garbage collector scanning them, which took twice as long as building them
        cursor.executemany(statement, zip(*values, strict=True))


def _iso(values: pd.Series, kind: object) -> np.ndarray:
    """Stamps as ISO 8601 UTC with microseconds and +00:00, dates as YYYY-MM-DD (object array; null: None)."""
    if isinstance(kind, UtcStamp):
        stamps = pd.to_datetime(values, utc=True).dt.tz_convert("UTC").dt.tz_localize(None)
        plain = stamps.to_numpy("datetime64[us]")
        if len(plain) and (plain == plain[0]).all():  # a run's stamp: one value for a million rows
            formatted = np.full(
                len(plain), f"{np.datetime_as_string(plain[0], unit='us')}+00:00", dtype=object
            )
        else:
            # formatted row by row in numpy (most stamps differ): half the time of factorising them first
            formatted = np.strings.add(np.datetime_as_string(plain, unit="us"), "+00:00").astype(object)
        formatted[stamps.isna().to_numpy()] = None
        return formatted
    # a date column has a few hundred distinct days: each is formatted once
    codes, distinct = pd.factorize(pd.to_datetime(values))
    formatted = np.datetime_as_string(distinct.to_numpy("datetime64[D]"), unit="D").astype(object)
    return np.append(formatted, None)[codes]


def _sqlite_values(values: pd.Series, kind: object) -> list:
    """A column as the Python values sqlite3 binds fastest. Only exact int, float and str skip its adapter
    lookup, which costs several times the bind itself (about 4x for None, 10x for a bool): so booleans go as
    0/1 (what SQLite stores for them anyway) and nulls as a float NaN, which SQLite binds as NULL."""
    missing = pd.isna(values).to_numpy()
    if pd.api.types.is_float_dtype(values.dtype):
        return values.to_numpy(dtype="float64", na_value=np.nan).tolist()
    if isinstance(kind, UtcStamp | Date):
        plain = _iso(values, kind)
    elif pd.api.types.is_bool_dtype(values.dtype):
        plain = values.fillna(False).to_numpy(dtype=np.int64).astype(object)
    else:
        plain = values.astype(object).to_numpy(copy=True)
    plain[missing] = NULL_BOUND
    return plain.tolist()


def _copy_text(values: pd.Series, kind: object) -> list[str]:
    """A column in COPY's text format: nulls \\N, booleans t/f, text with backslash, tab and newlines escaped."""
    missing = pd.isna(values).to_numpy()
    if isinstance(kind, UtcStamp | Date):
        formatted = _iso(values, kind)
    elif values.dtype == bool or isinstance(values.dtype, pd.BooleanDtype):
        formatted = np.where(values.fillna(False).to_numpy(dtype=bool), "t", "f").astype(object)
    elif pd.api.types.is_float_dtype(values.dtype):
        # repr: the shortest text that reads back as the same float
        formatted = np.array(list(map(repr, values.astype("float64").tolist())), dtype=object)
    elif pd.api.types.is_numeric_dtype(values.dtype):
        formatted = values.astype(str).to_numpy(dtype=object)
    else:
        # each distinct value once (a handful per column, but for the ids); code -1 (null) picks "\\N"
        codes, distinct = pd.factorize(values.astype(object).to_numpy())
        plain = [v if isinstance(v, str) else str(v) for v in distinct]
        joined = "".join(plain)
        if any(c in joined for c in "\\\t\n\r"):
            plain = [escaped(v) for v in plain]
        formatted = np.array([*plain, NULL], dtype=object)[codes]
    formatted[missing] = NULL
    return formatted.tolist()


def _frame(conn: Connection, query: Select) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def snapshot_days(store: Store, source: str) -> list:
    """The days the source has a snapshot for, oldest first."""
    query = (
        select(outcome_snapshots.c.snapshot_date)
        .where(outcome_snapshots.c.source == source)
        .group_by(outcome_snapshots.c.snapshot_date)
        .order_by(outcome_snapshots.c.snapshot_date)
    )
    with store.engine.connect() as conn:
        return list(conn.execute(query).scalars())
