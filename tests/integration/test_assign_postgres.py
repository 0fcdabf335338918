"""Two routers at once on PostgreSQL: each lead decided once, caps and weights respected."""

from __future__ import annotations

import threading

import pandas as pd
from sqlalchemy import func, select

from leadrouter.record import record_batch
from leadrouter.store import open_store
from leadrouter.store.tables import decisions
from tests.helpers.assignment import classified, context, counts, ledger_state, make_roster, rep
from tests.helpers.ledger import NO_QUARANTINE


def test_two_routers_on_postgresql_decide_each_lead_once_respect_caps_and_weights(pg_store_url: str) -> None:
    weights = {"a": 1.0, "capped": 1.0, "c": 2.0, "d": 0.5}
    cap = 150  # far below its fair share of 6,000 leads: it fills up early
    roster = make_roster(
        [rep(r, weight=w, max_per_day=cap if r == "capped" else None) for r, w in weights.items()]
    )
    batch = classified(6000)
    results: list[pd.DataFrame] = []
    errors: list[BaseException] = []

    def router(name: str, part: pd.DataFrame) -> None:
        try:
            store = open_store(pg_store_url)
            for lo in range(0, len(part), 500):
                results.append(record_batch(store, context(name), part[lo : lo + 500], NO_QUARANTINE, roster))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    # overlapping halves, as two pollers of one CRM would see them: 4,000 leads each, 2,000 in common
    threads = [
        threading.Thread(target=router, args=("one", batch.iloc[:4000])),
        threading.Thread(target=router, args=("two", batch.iloc[2000:])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors

    decided = pd.concat(results, ignore_index=True)
    assert decided["lead_id"].is_unique and len(decided) == 6000
    assert set(decided["assign_method"]) == {"round_robin"}
    got = counts(decided)
    assert got["capped"] == cap
    store = open_store(pg_store_url)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar() == 6000
    turns = ledger_state(store).xs("standard")["assigned"]
    assert turns.sum() == 6000 and turns.to_dict() == got
    rest = pd.Series({r: got[r] for r in ("a", "c", "d")})
    expected = pd.Series({r: weights[r] for r in ("a", "c", "d")})
    assert ((rest / rest.sum()) - expected / expected.sum()).abs().max() <= 0.02
