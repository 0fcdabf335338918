"""The outcome loop's reads and writes: decisions, SLA events and review rows as frames; the CRM's deals
(cleaned by leadrouter.outcomes.deals) upserted into `outcomes`; the analyst tables (`outcome_leads`,
`outcome_metrics`) replaced per source."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Insert, Select, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from leadrouter.schema import COUNTED, OUTCOME_FIELDS, OUTCOME_INPUTS
from leadrouter.store.engine import Store
from leadrouter.store.tables import (
    decisions,
    fx_rates,
    outcome_leads,
    outcome_metrics,
    outcomes,
    review_queue,
    sla_events,
)

ROWS_PER_STATEMENT = 20_000  # bounds the memory of one executemany's parameter list
EVENT_KINDS = ["touch", "breach", "reroute", "reject"]


def due_lead_ids(store: Store, source: str, since: datetime) -> list[str]:
    """Leads whose routing decision was made since `since`: the ones whose outcome may still change."""
    query = select(decisions.c.lead_id).where(
        decisions.c.source == source,
        decisions.c.status.in_(COUNTED),
        decisions.c.decided_at >= since,
    )
    with store.engine.connect() as conn:
        return list(conn.execute(query.order_by(decisions.c.id)).scalars())


def read_inputs(store: Store, source: str) -> dict[str, pd.DataFrame]:
    """The source's decisions, outcomes, SLA events (with new_owner_id) and review rows as frames: lead_outcomes'
    arguments."""
    queries = {
        "decisions": select(*(decisions.c[c] for c in OUTCOME_INPUTS["decisions"])).where(
            decisions.c.source == source, decisions.c.status.in_(COUNTED)
        ),
        "outcomes": select(*(outcomes.c[c] for c in OUTCOME_INPUTS["outcomes"])).where(
            outcomes.c.source == source
        ),
        # new_owner_id: who each re-route gave the lead to (the rep tables: leadrouter.outcomes.reps)
        "events": select(*(sla_events.c[c] for c in [*OUTCOME_INPUTS["events"], "new_owner_id"])).where(
            sla_events.c.source == source, sla_events.c.kind.in_(EVENT_KINDS)
        ),
        "review": select(*(review_queue.c[c] for c in OUTCOME_INPUTS["review"])).where(
            review_queue.c.source == source
        ),
    }
    with store.engine.connect() as conn:
        return {name: _frame(conn, query) for name, query in queries.items()}


def read_rates(store: Store) -> pd.DataFrame:
    """The user's fx_rates rows (currency, valid_from, base_currency, rate): what converts deal amounts."""
    with store.engine.connect() as conn:
        return _frame(conn, select(fx_rates))


def _frame(conn: Connection, query: Select) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def upsert_outcomes(store: Store, source: str, deals: pd.DataFrame, at: datetime) -> int:
    """Insert or update each lead's deal (leadrouter.outcomes.deals.clean_outcomes' frame); first_seen_at is kept from the first sight."""
    if deals.empty:
        return 0
    rows = deals.assign(source=source, first_seen_at=at, updated_at=at)
    with store.transaction() as conn:
        for part in _records(rows):
            conn.execute(
                _upsert(store, outcomes, ["source", "lead_id"], [*OUTCOME_FIELDS, "updated_at"]), part
            )
    return len(rows)


def _upsert(store: Store, table: Table, keys: list[str], changing: list[str]) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET changing, in the store's dialect."""
    insert = (postgresql if store.is_postgres else sqlite).insert(table)
    return insert.on_conflict_do_update(index_elements=keys, set_={c: insert.excluded[c] for c in changing})


def replace_analyst_tables(
    store: Store, source: str, leads: pd.DataFrame, metrics: pd.DataFrame, at: datetime
) -> None:
    """Replace the source's rows of outcome_leads (LEAD_OUTCOME_COLUMNS + hindsight_tier) and outcome_metrics
    (long_metrics' frame) in one transaction: analysts never see half of a run."""
    with store.transaction() as conn:
        for table, frame in ((outcome_leads, leads), (outcome_metrics, metrics)):
            conn.execute(delete(table).where(table.c.source == source))
            for part in _records(frame.assign(source=source, computed_at=at)):
                conn.execute(table.insert(), part)


def read_analyst_table(store: Store, source: str | None = None) -> pd.DataFrame:
    """outcome_leads as a frame (all sources, or one), stamps in UTC: what a report reads back."""
    query = select(outcome_leads)
    if source:
        query = query.where(outcome_leads.c.source == source)
    with store.engine.connect() as conn:
        frame = _frame(conn, query)
    for column in ("lead_created_at", "decided_at", "first_touch_at", "computed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _records(frame: pd.DataFrame) -> Iterator[list[dict]]:
    """Rows as parameter dicts (nulls as None, numpy scalars as Python ones), a bounded slice at a time."""
    columns = list(frame.columns)
    for start in range(0, len(frame), ROWS_PER_STATEMENT):
        part = frame.iloc[start : start + ROWS_PER_STATEMENT]
        arrays = []
        for column in columns:
            values = part[column]
            if isinstance(values.dtype, pd.DatetimeTZDtype):
                plain = np.array(values.dt.to_pydatetime(), dtype=object)
            else:
                plain = values.astype(object).to_numpy(copy=True)
            plain[pd.isna(values).to_numpy()] = None
            arrays.append(plain.tolist())  # tolist turns numpy scalars into Python ones
        yield [dict(zip(columns, row, strict=True)) for row in zip(*arrays, strict=True)]
