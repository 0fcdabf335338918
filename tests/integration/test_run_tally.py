"""A run's tally on both ledgers: the explanation read once per decision on PostgreSQL counts exactly what the
four accessors of the earlier query counted, whatever the explanations hold."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Text, cast, func, select, text

from leadrouter.store import Store, open_store
from leadrouter.store.decisions import insert_decisions, run_tally
from leadrouter.store.tables import decisions

AT = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
RUNS = itertools.count()


def earlier_run_tally(store: Store, source: str, run_id: str) -> pd.DataFrame:
    """run_tally before the explanation was read once (verbatim): the reference."""
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
        decisions.c.model_outcome,
        decisions.c.language,
        decisions.c.skills_matched,
    ]
    sums = [
        func.sum(decisions.c[name]).label(name)
        for name in ("model_cost_usd", "model_cache_write_tokens", "model_cache_read_tokens")
    ]
    query = (
        select(*facts, func.count().label("leads"), *sums)
        .where(decisions.c.source == source, decisions.c.run_id == run_id)
        .group_by(*facts)
    )
    with store.engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(query).all(), columns=[*(f.name for f in facts), "leads", *(s.name for s in sums)]
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return open_store(f"sqlite:///{tmp_path}/ledger.db")
    return open_store(request.getfixturevalue("pg_store_url"))


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
        insert_decisions(conn, columns)
    return run_id


def same_rows(tally: pd.DataFrame) -> tuple[dict, list[str]]:
    """The tally's dtypes and its rows in a fixed order (a GROUP BY's row order is the server's choice)."""
    return tally.dtypes.astype(str).to_dict(), sorted(map(repr, tally.itertuples(index=False)))


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
        earlier_run_tally(store, "sandbox", run_id)
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
    json_text = "CAST(:t AS JSON)" if store.is_postgres else ":t"
    with store.transaction() as conn:
        for i, raw in enumerate(RAW):
            conn.execute(
                text(f"UPDATE decisions SET explanation = {json_text} WHERE lead_id = :lead"),
                {"t": raw, "lead": f"{run_id}-{i}"},
            )
    tally = run_tally(store, "sandbox", run_id)
    assert same_rows(tally) == same_rows(earlier_run_tally(store, "sandbox", run_id))
    assert tally["leads"].sum() == len(RAW)
    if store.is_postgres:  # the reps passed over as the explanation spells them, spacing and all
        assert '{ "r1" : "off today",  "r2":"at cap" }' in set(tally["excluded"])
