"""A run's tally on both ledgers: on PostgreSQL the explanation is jsonb (migration 0014), and the tally counts
exactly what the same accessors counted over the explanations kept as json text, whatever they hold."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Column, MetaData, Table, Text, cast, func, select, text

from leadrouter.store import Store, open_store
from leadrouter.store.decisions import insert_decisions, run_tally
from leadrouter.store.statements import insert_columns
from leadrouter.store.tables import decisions

AT = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
RUNS = itertools.count()


# the decisions table with the explanation as json text, as PostgreSQL kept it before 0014 (SQLite's as ever)
AS_JSON = Table(
    "decisions_as_json",
    MetaData(),
    *(Column(c.name, JSON if c.name == "explanation" else c.type) for c in decisions.c),
)


def json_run_tally(store: Store, source: str, run_id: str) -> pd.DataFrame:
    """The tally's query over the json text (verbatim before 0014): the reference."""
    why = AS_JSON.c.explanation
    facts = [
        AS_JSON.c.status,
        AS_JSON.c.tier,
        AS_JSON.c.owner_id,
        AS_JSON.c.decided_by,
        why["method"].as_string().label("method"),
        cast(why["excluded"], Text).label("excluded"),  # PostgreSQL's json has no equality: group its text
        why[("enrichment", "enrichment_failed")].as_boolean().label("enrichment_failed"),
        why[("enrichment", "account_id")].as_string().is_not(None).label("matched"),
        AS_JSON.c.model_outcome,
        AS_JSON.c.language,
        AS_JSON.c.skills_matched,
    ]
    sums = [
        func.sum(AS_JSON.c[name]).label(name)
        for name in ("model_cost_usd", "model_cache_write_tokens", "model_cache_read_tokens")
    ]
    query = (
        select(*facts, func.count().label("leads"), *sums)
        .where(AS_JSON.c.source == source, AS_JSON.c.run_id == run_id)
        .group_by(*facts)
    )
    with store.engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(query).all(), columns=[*(f.name for f in facts), "leads", *(s.name for s in sums)]
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    url = (
        f"sqlite:///{tmp_path}/ledger.db"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_store_url")
    )
    store = open_store(url)
    AS_JSON.create(store.engine, checkfirst=True)
    return store


def record(store: Store, explanations: list, owners: list[str | None]) -> str:
    """Decisions of a new run with these explanations (and owners, cycled); the run's id."""
    run_id, n = f"run-{next(RUNS)}", len(explanations)
    columns = {
        "source": ["sandbox"] * n,
        "lead_id": [f"{run_id}-{i}" for i in range(n)],
        "run_id": [run_id] * n,
        "status": [("recorded", "quarantined", "review")[i % 3] for i in range(n)],
        "owner_id": [owners[i % len(owners)] for i in range(n)],
        "tier": [(None, "VIP", "Nurture")[i % 3] for i in range(n)],
        "shadow": [False] * n,
        "decided_at": [AT] * n,
        "write_attempts": [0] * n,
        "model_cost_usd": [0.25 * (i % 3) or None for i in range(n)],
        "explanation": explanations,
    }
    with store.transaction() as conn:
        insert_decisions(conn, [columns])
        insert_columns(conn, AS_JSON, [columns])
    return run_id


def canonical(text: object) -> object:
    """JSON text as one spelling of its value (jsonb writes its own: spacing, key order, 1e+16 as
    10000000000000000); other text, and missing values, as they are."""
    if not isinstance(text, str):
        return None if pd.isna(text) else text
    try:
        return json.dumps(json.loads(text, parse_int=float), sort_keys=True)
    except ValueError:
        return text


def same_rows(tally: pd.DataFrame) -> tuple[dict, list[str]]:
    """The tally's dtypes and its rows in a fixed order (a GROUP BY's row order is the server's choice), the
    facts read as text compared as JSON values (see canonical): the summary reads the reps passed over so."""
    rows = tally.assign(excluded=tally["excluded"].map(canonical), method=tally["method"].map(canonical))
    return tally.dtypes.astype(str).to_dict(), sorted(map(repr, rows.itertuples(index=False)))


characters = st.characters(exclude_categories=("Cs",))  # lone surrogates are no JSON text
words = st.text(characters, max_size=6) | st.sampled_from(
    ["", "ünïcode", "日本語", 'a "quote"', "back\\slash"]
)
scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | words
enrichment = st.fixed_dictionaries(
    {},
    optional={
        "enrichment_failed": st.none() | st.booleans() | st.sampled_from(["true", "f", "yes", "0"]),
        "account_id": scalars,
        "match_explanation": words,
    },
)
explanation = st.fixed_dictionaries(
    {},
    optional={
        "rule": words,
        "method": scalars | st.lists(words, max_size=2),
        "excluded": st.dictionaries(words, words, max_size=3) | scalars | st.lists(words, max_size=2),
        "enrichment": enrichment | scalars | st.lists(scalars, max_size=2),
        "model": st.none() | st.fixed_dictionaries({"rationale": words}),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    explanations=st.lists(explanation | st.none() | st.lists(scalars, max_size=2) | words, max_size=12),
    owners=st.lists(st.none() | st.sampled_from(["rep-a", "rep-b"]), min_size=1, max_size=3),
)
def test_the_tally_counts_what_the_four_accessors_counted(
    store: Store, explanations: list, owners: list
) -> None:
    run_id = record(store, explanations, owners)
    assert same_rows(run_tally(store, "sandbox", run_id)) == same_rows(
        json_run_tally(store, "sandbox", run_id)
    )


# explanations no router writes, set as raw text: spacing, repeated keys, escapes, JSON null, SQL null
RAW = [
    '{ "method" : "round_robin", "excluded" : { "r1" : "off today",  "r2":"at cap" },'
    ' "enrichment" : { "enrichment_failed" : true, "account_id" : "001" } }',
    '{"method": "a", "method": "b", "excluded": {"x": 1}, "excluded": {"y": 2}}',
    '{"excluded": "\\u00e9t\\u00e9 \\"quoted\\"", "method": "\\u65e5"}',
    '{"excluded": null, "enrichment": null, "method": null}',
    '{"excluded": [ 1, "two" ], "enrichment": {"enrichment_failed": "yes", "account_id": null}}',
    '{"enrichment": {"enrichment_failed": false, "account_id": 0}}',
    '{"enrichment": ["enrichment_failed"], "excluded": 1.50}',
    "[1, 2]",
    '"text"',
    "null",
    None,
]


def test_explanations_as_stored_text_tally_as_before(store: Store) -> None:
    run_id = record(store, [{}] * len(RAW), ["rep-a", None])
    with store.transaction() as conn:
        for table, kind in (("decisions", "JSONB"), ("decisions_as_json", "JSON")):
            as_stored = f"CAST(:t AS {kind})" if store.is_postgres else ":t"
            for i, raw in enumerate(RAW):
                conn.execute(
                    text(f"UPDATE {table} SET explanation = {as_stored} WHERE lead_id = :lead"),
                    {"t": raw, "lead": f"{run_id}-{i}"},
                )
    tally = run_tally(store, "sandbox", run_id)
    assert same_rows(tally) == same_rows(json_run_tally(store, "sandbox", run_id))
    assert tally["leads"].sum() == len(RAW)
    passed_over = [json.loads(t) for t in tally["excluded"].dropna()]
    assert {"r1": "off today", "r2": "at cap"} in passed_over
