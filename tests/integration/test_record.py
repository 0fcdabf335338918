"""The ledger under record_batch and write_back, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from leadrouter.assign.roster import load_roster
from leadrouter.record import BatchContext, record_batch
from leadrouter.schema import Status
from leadrouter.store import open_store
from leadrouter.store.decisions import status_counts
from leadrouter.store.tables import decisions, rep_state
from tests.helpers.clock import WORKDAY
from tests.helpers.ledger import NO_QUARANTINE, ROSTER, classified


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return request.getfixturevalue("pg_store_url")


def test_a_lead_is_decided_once_however_often_it_is_recorded(store_url: str) -> None:
    store = open_store(store_url)
    roster = load_roster(ROSTER)
    ctx = BatchContext("sandbox", "run-1", "v1", at=WORKDAY)
    first = record_batch(store, ctx, classified(100), NO_QUARANTINE, roster)
    again = record_batch(
        store, BatchContext("sandbox", "run-2", "v1", at=WORKDAY), classified(150), NO_QUARANTINE, roster
    )
    assert len(first) == 100 and len(again) == 50
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar() == 150
        assigned = conn.execute(select(func.sum(rep_state.c.assigned))).scalar()
    assert assigned == 150  # round-robin turns count only leads really decided


def test_two_routers_at_once_decide_each_lead_once_and_stay_fair(store_url: str) -> None:
    # no caps, hours or regions in this roster: the round robin alone decides
    roster = load_roster(ROSTER)
    roster = roster.model_copy(
        update={"reps": [r.model_copy(update={"max_per_day": None}) for r in roster.reps]}
    )
    batch = classified(3000)
    results: list[pd.DataFrame] = []
    errors: list[BaseException] = []

    def route(name: str, part: pd.DataFrame) -> None:
        try:
            store = open_store(store_url)
            for chunk in range(0, len(part), 250):
                results.append(
                    record_batch(
                        store,
                        BatchContext("sandbox", name, "v1", at=WORKDAY),
                        part[chunk : chunk + 250],
                        NO_QUARANTINE,
                        roster,
                    )
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    # both routers see overlapping batches, as two pollers of one CRM would
    threads = [
        threading.Thread(target=route, args=("a", batch.iloc[:2000])),
        threading.Thread(target=route, args=("b", batch.iloc[1000:])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    decided = pd.concat(results)
    assert decided["lead_id"].is_unique and len(decided) == 3000
    shares = decided["owner_id"].value_counts()
    weights = roster.weights(roster.pool("standard-na"))
    expected = 3000 * weights / weights.sum()
    assert (shares.reindex(weights.index) - expected).abs().max() <= 2  # exact up to batch boundaries


def test_repeated_and_missing_ids_in_a_batch_never_block_the_ledger(store_url: str) -> None:
    store = open_store(store_url)
    batch = pd.concat([classified(3), classified(1)], ignore_index=True)  # L000000 twice
    quarantined = pd.DataFrame(
        {"lead_id": ["Q1", "Q1", None], "reason": ["r", "r", "r"], "reasons": [[], [], []]}
    )
    out = record_batch(
        store, BatchContext("sandbox", "r", "v1", at=WORKDAY), batch, quarantined, load_roster(ROSTER)
    )
    assert sorted(out["lead_id"]) == ["L000000", "L000001", "L000002", "Q1"]


def test_review_and_quarantine_are_recorded_with_reasons(store_url: str) -> None:
    store = open_store(store_url)
    quarantined = pd.DataFrame(
        {
            "lead_id": ["Q1"],
            "reason": ["email_format: email='x@' is not valid"],
            "reasons": [[{"check": "email_format"}]],
        }
    )
    out = record_batch(
        store,
        BatchContext("sandbox", "r", "v1", at=WORKDAY),
        classified(2, tier=None),
        quarantined,
        load_roster(ROSTER),
    )
    assert sorted(out["status"]) == [Status.QUARANTINED, Status.REVIEW, Status.REVIEW]
    assert status_counts(store, "sandbox") == {"quarantined": 1, "review": 2}


class FlakyCRM:
    """A CRM whose write fails for some leads, retryably or for good, to check per-lead outcomes."""

    name = "sandbox"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def write_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.calls.append(list(frame["lead_id"]))
        out = frame[["lead_id"]].copy()
        out["ok"] = ~frame["lead_id"].isin(["L000001", "L000002"])
        out["retry"] = frame["lead_id"] == "L000002"
        out["error"] = out["ok"].map({True: None, False: "UNABLE_TO_LOCK_ROW"})
        return out


def test_write_back_claims_each_lead_once_and_records_each_outcome(store_url: str) -> None:
    from leadrouter.writeback import write_back

    store = open_store(store_url)
    record_batch(
        store,
        BatchContext("sandbox", "r", "v1", at=WORKDAY),
        classified(5),
        NO_QUARANTINE,
        load_roster(ROSTER),
    )
    crm = FlakyCRM()
    results = write_back(store, crm, "sandbox", claim="c1")
    assert len(results) == 5 and results["ok"].sum() == 3
    assert write_back(store, crm, "sandbox", claim="c2")["lead_id"].tolist() == [
        "L000002"
    ]  # only the retryable one
    counts = status_counts(store, "sandbox")
    assert counts == {"written": 3, "write_failed": 1, "recorded": 1}


class CountingCRM:
    """Writes everything; remembers the size of each write call."""

    name = "counting"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def write_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.calls.append(len(frame))
        return pd.DataFrame({"lead_id": frame["lead_id"], "ok": True, "retry": False, "error": None})


# route-inbound records its decisions claimed for its own write-back (BatchContext.claim): that write-back
# takes them as they are, and behaves as if it had claimed them itself
WHO_CLAIMS = pytest.mark.parametrize("recorded_for", [None, "c1"], ids=["recorded", "recorded-claimed"])


@WHO_CLAIMS
def test_write_back_claims_in_chunks_so_each_lease_covers_its_writes(
    store_url: str, recorded_for: str | None
) -> None:
    from leadrouter.writeback import write_back

    store = open_store(store_url)
    record_batch(
        store,
        BatchContext("sandbox", "r", "v1", at=WORKDAY, claim=recorded_for),
        classified(230),
        NO_QUARANTINE,
        load_roster(ROSTER),
    )
    crm = CountingCRM()
    results = write_back(store, crm, "sandbox", claim="c1", chunk=100)
    assert crm.calls == [100, 100, 30]
    assert results["lead_id"].is_unique and len(results) == 230
    assert status_counts(store, "sandbox") == {"written": 230}


@WHO_CLAIMS
def test_a_chunk_with_retries_ends_the_pass(store_url: str, recorded_for: str | None) -> None:
    from leadrouter.writeback import write_back

    store = open_store(store_url)
    record_batch(
        store,
        BatchContext("sandbox", "r", "v1", at=WORKDAY, claim=recorded_for),
        classified(5),
        NO_QUARANTINE,
        load_roster(ROSTER),
    )
    crm = FlakyCRM()
    results = write_back(store, crm, "sandbox", claim="c1", chunk=2)
    # L000002 asked for a retry in the second chunk: L000004 waits for the next run
    assert crm.calls == [["L000000", "L000001"], ["L000002", "L000003"]]
    assert results["lead_id"].tolist() == ["L000000", "L000001", "L000002", "L000003"]
    assert status_counts(store, "sandbox") == {"written": 2, "write_failed": 1, "recorded": 2}


class DownCRM:
    """A CRM whose every write call fails in transport."""

    name = "down"

    def write_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        raise ConnectionError("the CRM is down")


def test_a_failed_write_call_leaves_every_lead_recorded_for_the_next_run(store_url: str) -> None:
    from leadrouter.writeback import write_back

    store = open_store(store_url)
    ctx = BatchContext("sandbox", "r", "v1", at=WORKDAY, claim="c1")
    record_batch(store, ctx, classified(5), NO_QUARANTINE, load_roster(ROSTER))
    assert status_counts(store, "sandbox") == {"writing": 5}
    with pytest.raises(ConnectionError):
        write_back(store, DownCRM(), "sandbox", claim="c1", chunk=2)
    # the failed chunk and the three never tried: none waits for the claim's lease
    assert status_counts(store, "sandbox") == {"recorded": 5}
    results = write_back(store, CountingCRM(), "sandbox", claim="c2")
    assert results["ok"].all() and status_counts(store, "sandbox") == {"written": 5}


def test_writes_whose_outcome_was_never_recorded_stay_claimed(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger fails to record what the CRM took: every lead sent keeps its claim (a router taking them over
    after the lease finds them in the CRM); only the one never sent goes back to recorded."""
    from leadrouter.store import write_claims
    from leadrouter.writeback import write_back

    store = open_store(store_url)
    ctx = BatchContext("sandbox", "r", "v1", at=WORKDAY, claim="c1")
    record_batch(store, ctx, classified(5), NO_QUARANTINE, load_roster(ROSTER))

    def ledger_down(*_args: object) -> None:
        raise ConnectionError("the ledger is gone")

    monkeypatch.setattr(write_claims, "finish_writes", ledger_down)
    crm = CountingCRM()
    with pytest.raises(ConnectionError):
        write_back(store, crm, "sandbox", claim="c1", chunk=2)
    # the second chunk went out while the first one's outcomes were being recorded
    assert crm.calls == [2, 2] and status_counts(store, "sandbox") == {"writing": 4, "recorded": 1}


def test_an_aging_claim_of_its_own_is_renewed_not_taken_over(store_url: str) -> None:
    """Decisions recorded claimed a while ago (a slow page): their router claims them afresh, a full lease for
    the write, and writes them as its own (no CRM read: CountingCRM could not answer one)."""
    from datetime import timedelta

    from sqlalchemy import update

    from leadrouter.writeback import write_back

    store = open_store(store_url)
    ctx = BatchContext("sandbox", "r", "v1", at=WORKDAY, claim="c1")
    record_batch(store, ctx, classified(5), NO_QUARANTINE, load_roster(ROSTER))
    with store.transaction() as conn:
        conn.execute(update(decisions).values(claimed_at=decisions.c.claimed_at - timedelta(minutes=2)))
    crm = CountingCRM()
    assert write_back(store, crm, "sandbox", claim="c1")["ok"].sum() == 5
    assert crm.calls == [5] and status_counts(store, "sandbox") == {"written": 5}


def test_decisions_recorded_claimed_by_a_live_router_are_left_to_it(store_url: str) -> None:
    from leadrouter.writeback import write_back

    store = open_store(store_url)
    ctx = BatchContext("sandbox", "r", "v1", at=WORKDAY, claim="c1")
    record_batch(store, ctx, classified(5), NO_QUARANTINE, load_roster(ROSTER))
    other = CountingCRM()
    assert write_back(store, other, "sandbox", claim="c2").empty and other.calls == []
    assert write_back(store, CountingCRM(), "sandbox", claim="c1")["ok"].sum() == 5


def test_decisions_are_stamped_at_the_routing_moment_not_the_wall_clock(store_url: str) -> None:
    store = open_store(store_url)
    batch = classified(6)
    batch.loc[4:, "tier"] = pd.NA  # unresolved: queued for review, decided at the same moment
    record_batch(
        store, BatchContext("sandbox", "run-1", "v1", at=WORKDAY), batch, NO_QUARANTINE, load_roster(ROSTER)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(select(decisions.c.status, decisions.c.decided_at)).all()
    stamps = set(pd.to_datetime([r.decided_at for r in rows], utc=True))  # SQLite: naive UTC
    assert sorted(r.status for r in rows) == ["recorded"] * 4 + ["review"] * 2
    assert stamps == {pd.Timestamp(WORKDAY)}


def test_a_page_recorded_a_few_rows_at_a_time_stores_what_one_insert_stores(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page goes to the ledger ROWS_AT_ONCE decisions at a time: every part lands, each value as a single
    insert of the page stores it (review leads and explanations included)."""
    from leadrouter import record

    store, roster = open_store(store_url), load_roster(ROSTER)
    batch = classified(7)
    batch.loc[5:, "tier"] = pd.NA  # two for review
    for source, rows in (("whole", 1_000), ("parts", 3)):
        monkeypatch.setattr(record, "ROWS_AT_ONCE", rows)
        record_batch(store, BatchContext(source, "run-1", "v1", at=WORKDAY), batch, NO_QUARANTINE, roster)
    with store.engine.connect() as conn:
        rows = conn.execute(select(decisions).order_by(decisions.c.lead_id)).mappings().all()

    def stored(source: str) -> list[dict]:
        # the owner comes from each source's own round-robin turns: the same page, the same owners
        return [
            {k: v for k, v in r.items() if k not in ("id", "source")} for r in rows if r["source"] == source
        ]

    assert len(stored("parts")) == 7
    assert stored("parts") == stored("whole")
