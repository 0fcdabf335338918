"""Fault suite, part 1: routers killed with SIGKILL in the middle of a backlog, and CRMs failing 30 % of calls.

The 30 % test complements tests/flows/test_connectors_flow.py (route-inbound against both local CRMs at the same fault
rate, with enough client retries that every write succeeds in its run): here the writes get one try each, so the
faults reach the ledger, and the rate the servers injected is measured.

The kill test forks its routers from this process, which has imported and warmed everything once (a fresh Python
costs ~7 s of imports). Prefect's engine deadlocks in a forked process, so the routers run route-inbound's stages
through the tasks' own functions (`task.fn`) and the core's stage chain (leadrouter.pipeline), in the flow's
order, as tests/flows/test_sandbox_day.py does.
"""

from __future__ import annotations

import copy
import os
import select
import signal
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from blocks.load import load_settings
from leadrouter import writeback
from leadrouter.crm.base import CRM
from leadrouter.crm.hubspot.client import HubSpotCRM, make_client
from leadrouter.pipeline import classify_batch
from leadrouter.retry import RetryPolicy
from leadrouter.router import Router, open_router
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.schema import Status
from leadrouter.store import write_claims
from leadrouter.store.decisions import status_counts
from leadrouter.store.tables import decisions
from localapi.harness import Harness, open_harness
from localapi.server import Faults
from tasks.route_inbound import advance_watermark, load_accounts, pull_new_leads, record_decisions
from tasks.shared import write_assignments
from tests.helpers.ledger import expire_claims
from tests.helpers.sandbox import assert_ledger_matches_crm, sandbox_env

BATCH = 250  # small pages, so a kill lands inside a page far more often than between two
KILLS = 20
Mark = Callable[[str], None]
CHUNK = 50  # leads per claim in the write passes: more calls, so the measured fault rate means something
# what a write that met a fault records: the error code or category of each injected fault, as each CRM words it
FAULT_TEXT = {
    "salesforce": "SERVER_UNAVAILABLE|REQUEST_LIMIT_EXCEEDED",
    "hubspot": "RATE_LIMITS|BAD_GATEWAY|SERVICE_UNAVAILABLE",
}
IN_PAGE = {"validate", "enrich", "dedupe", "classify", "record", "write", "watermark"}


@dataclass
class Kill:
    """One router killed: its wait status and the stages it reported, as (stage, page size, monotonic time)."""

    status: int
    marks: list[tuple[str, int, float]]

    @property
    def landed(self) -> tuple[str, int]:
        """The stage it was in when killed, and the size of that page (-1 while pulling or when it had finished)."""
        stage, size, _ = self.marks[-1] if self.marks else ("start", -1, 0.0)
        return stage, size

    def page_times(self) -> list[float]:
        """How long each page it finished took, pull to pull."""
        pulls = [t for stage, _, t in self.marks if stage == "pull"]
        return list(np.diff(pulls))


@pytest.fixture
def backlog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SandboxCRM:
    """A sandbox with 5,000 new leads and an empty SQLite ledger, wired through LEADROUTER_* variables."""
    # the backlog's leads share one modification stamp: a lookback would re-read all of it on every restart
    monkeypatch.setenv("LEADROUTER_LOOKBACK_S", "0")
    return sandbox_env(tmp_path, monkeypatch, seed=9, leads=5000)


def route_pages(router: Router, accounts: pd.DataFrame, run_id: str, mark: Mark, pages: int = 10_000) -> None:
    """route-inbound's stages, page by page until the backlog is done (notifications and artifacts left out:
    none is configured here). `mark` hears each stage and its page's size before the stage starts."""
    for page in range(pages):
        mark("pull -1")
        leads, cursor = pull_new_leads.fn(router, router.source, BATCH, batch=page + 1)
        size = len(leads)
        batch = classify_batch(router, leads, accounts, on_stage=lambda stage, n=size: mark(f"{stage} {n}"))
        mark(f"record {size}")
        record_decisions.fn(router, batch.leads, batch.quarantined, run_id, False, write_claim=run_id)
        mark(f"write {size}")
        write_assignments.fn(router, claim=run_id)
        mark(f"watermark {size}")
        advance_watermark.fn(router, router.source, cursor)
        if cursor is None:
            return


def time_one_page(router: Router, accounts: pd.DataFrame) -> float:
    """Route the backlog's first two pages here and time the second: the first also warms up everything the
    forked routers inherit (GX context, model), so they start as fast as a long-running worker would."""
    pulls: list[float] = []

    def mark(stage: str) -> None:
        if stage.startswith("pull"):
            pulls.append(time.monotonic())

    route_pages(router, accounts, "first-pages", mark, pages=2)
    return time.monotonic() - pulls[1]


def fork_router(router: Router, work: Callable[[Mark], None]) -> tuple[int, int]:
    """A router forked from this process doing `work`, which reports each stage through a pipe: its pid and the
    pipe's reading end. Having finished, it waits to be killed."""
    read, write = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    os.close(read)  # the router: from here it leaves only by os._exit, so no cleanup runs, as in a real crash
    try:
        router.store.engine.dispose(close=False)  # the parent's pooled connections are not its to use
        mark = lambda m: os.write(write, f"{m} {time.monotonic()}\n".encode())  # noqa: E731
        work(mark)
        mark("done -1")
        signal.pause()
    except BaseException:
        traceback.print_exc()
    os._exit(1)


def kill_in_page(router: Router, accounts: pd.DataFrame, run_id: str, page: int, after_s: float) -> Kill:
    """Fork a router and SIGKILL it `after_s` into the `page`-th page it starts (1 = its first)."""
    pid, read = fork_router(router, lambda mark: route_pages(router, accounts, run_id, mark))
    marks, buffer, pulls, deadline = [], b"", 0, time.monotonic() + 300
    while pulls < page and time.monotonic() < deadline:  # a router that hangs is killed and fails the test
        if not select.select([read], [], [], 1)[0]:
            continue
        chunk = os.read(read, 65536)
        if not chunk:  # it exited: its status tells why
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        marks += [parse_mark(line) for line in lines]
        pulls = sum(stage == "pull" for stage, _, _ in marks)
    time.sleep(after_s)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as rest:
        marks += [parse_mark(line) for line in (buffer + rest.read()).split(b"\n") if line]
    return Kill(status, marks)


def parse_mark(line: bytes) -> tuple[str, int, float]:
    stage, size, at = line.decode().split()
    return stage, int(size), float(at)


def test_kill_9_at_20_random_moments_then_resume_loses_and_doubles_nothing(backlog: SandboxCRM) -> None:
    router = open_router(load_settings(None), crm=backlog)
    accounts = load_accounts.fn(router)
    page_s = [time_one_page(router, accounts)]
    rng = np.random.default_rng(2026)
    kills, decided, unwritten = [], [], []
    for i, (page, fraction) in enumerate(
        zip(rng.integers(1, 3, KILLS), rng.uniform(0, 1, KILLS), strict=True)
    ):
        # a random moment of the router's first or second page, in page times that follow the machine's load
        after_s = fraction * float(np.median(page_s[-5:]))
        kill = kill_in_page(router, accounts, f"killed-{i}", int(page), after_s)
        assert os.WIFSIGNALED(kill.status) and os.WTERMSIG(kill.status) == signal.SIGKILL, (
            i,
            kill.marks[-3:],
        )
        kills.append(kill)
        page_s += kill.page_times()
        counts = status_counts(router.store, router.source)
        decided.append(sum(counts.values()))
        unwritten.append(counts.get(Status.RECORDED.value, 0) + counts.get(Status.WRITING.value, 0))
    landed = Counter(stage for stage, _ in (k.landed for k in kills))
    seen = (
        f"kills landed in {dict(landed)}; decided after each {decided}; of them not yet written {unwritten}"
    )
    expire_claims(router.store)
    route_pages(router, accounts, "resume", lambda _: None)

    assert len(assert_ledger_matches_crm(backlog)) == 5000
    # the kills landed mid-work: inside pages of new leads, at stages of several kinds, while the backlog moved
    assert sum(stage in IN_PAGE and size > 0 for stage, size in (k.landed for k in kills)) >= 15, seen
    assert len(landed.keys() & IN_PAGE) >= 3, seen
    assert sum(np.diff([2 * BATCH, *decided]) > 0) >= 5 and decided[-1] < 5000, seen


def die(*_args: object, **_kwargs: object) -> None:
    os._exit(137)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_router_killed_between_the_crm_write_and_the_ledger_commit_is_not_written_twice(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """The narrowest window of the kill test, hit on purpose: the CRM took the page's owners, the ledger never
    heard. Before the dead router's lease runs out nobody touches its leads; after it, the next router finds the
    owners in the CRM and records them written without a second write."""
    url = f"sqlite:///{tmp_path}/ledger.db" if store == "sqlite" else request.getfixturevalue("pg_store_url")
    monkeypatch.setenv("LEADROUTER_STORE_URL", url)
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=4, leads=200)
    router = open_router(load_settings(None), crm=crm)
    accounts = load_accounts.fn(router)

    def crash_after_the_crm_write(mark: Mark) -> None:
        write_claims.finish_writes = die  # in the forked router only: this process keeps the real one
        route_pages(router, accounts, "crashed", mark)

    pid, read = fork_router(router, crash_after_the_crm_write)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 137
    os.close(read)
    in_flight = status_counts(router.store, router.source)[Status.WRITING.value]
    writes = crm.owner_write_counts()  # the CRM took every claimed write, once
    assert in_flight > 100 and set(writes) == {1} and writes.sum() == in_flight

    route_pages(router, accounts, "within-the-lease", lambda _: None)
    assert status_counts(router.store, router.source)[Status.WRITING.value] == in_flight
    assert expire_claims(router.store) == in_flight
    route_pages(router, accounts, "after-the-lease", lambda _: None)
    assert len(assert_ledger_matches_crm(crm)) == 200


class CountedFaults(Faults):
    """The servers' random faults, counting every call they were asked about, so the rate can be measured."""

    asked: int = 0

    def pick(self, kinds: list[str]) -> str | None:
        self.asked += 1
        return super().pick(kinds)


def one_try(h: Harness) -> CRM:
    """The harness's adapter on the same real client and server, without client retries: every fault surfaces."""
    if h.kind == "salesforce":
        return with_attrs(h.crm, retry=RetryPolicy(attempts=1))
    return HubSpotCRM(make_client(h.api.token, host=h.server.url, retry=RetryPolicy(attempts=1)))


def with_attrs(obj: object, **values: object) -> object:
    """A shallow copy of obj with some attributes replaced."""
    twin = copy.copy(obj)
    vars(twin).update(values)
    return twin


def decision_rows(router: Router) -> pd.DataFrame:
    columns = ["lead_id", "status", "owner_id", "write_error", "write_attempts"]
    with router.store.engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(sa.select(*(decisions.c[c] for c in columns))).all(), columns=columns
        )


@pytest.mark.parametrize("kind", ["salesforce", "hubspot"])
def test_crm_failing_30_percent_of_calls_loses_doubles_and_hides_nothing(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = CountedFaults(rate=0.3, seed=17)
    h = open_harness(kind, tmp_path, faults=faults, leads=1000, fresh=True)
    monkeypatch.setenv("LEADROUTER_STORE_URL", f"sqlite:///{tmp_path}/ledger.db")
    monkeypatch.setenv("LEADROUTER_CRM", kind)
    try:
        router = open_router(load_settings(None), crm=h.crm)
        leads, _ = pull_new_leads.fn(router, router.source, 5000, batch=1)
        batch = classify_batch(router, leads, load_accounts.fn(router))
        record_decisions.fn(router, batch.leads, batch.quarantined, "faulty", False)
        to_write = int((decision_rows(router)["status"] == Status.RECORDED.value).sum())

        writer, passes = one_try(h), []
        while (decision_rows(router)["status"] == Status.RECORDED.value).any():
            assert len(passes) < 60, len(passes)  # a pass ends at its first chunk with a fault: many passes
            claim = f"pass-{len(passes)}"
            passes.append(writeback.write_back(router.store, writer, router.source, claim, chunk=CHUNK))
            after = decision_rows(router)
            waiting = after[after["status"] == Status.RECORDED.value]
            # a lead whose write met a fault waits for the next pass with that fault on its own row
            failed = waiting[waiting["lead_id"].isin(passes[-1].loc[~passes[-1]["ok"], "lead_id"])]
            assert len(failed) == (~passes[-1]["ok"]).sum()
            assert failed["write_error"].str.contains(FAULT_TEXT[kind]).all(), failed["write_error"].unique()
            assert (waiting["write_attempts"] <= len(passes)).all()
        tried = pd.concat(passes, ignore_index=True)

        decided = decision_rows(router)
        assert decided["lead_id"].is_unique and len(decided) == 1000
        assert set(decided["status"]) <= {"written", "quarantined", "review"}
        written = decided[decided["status"] == "written"]
        assert len(written) == to_write > 700
        world_ids = h.world_ids(written["lead_id"])
        assert h.owners_of(world_ids.tolist()).tolist() == written["owner_id"].tolist()
        writes = h.owner_writes()
        assert set(writes.index) == set(world_ids) and (writes == 1).all()
        # the faults reached the writes (some leads needed more than one pass), at the rate asked for
        assert len(passes) > 1 and (~tried["ok"]).sum() > 0
        rate = sum(faults.injected.values()) / faults.asked
        within = 3.5 * np.sqrt(0.3 * 0.7 / faults.asked)  # 3.5 standard deviations of the binomial
        assert faults.asked >= 50 and abs(rate - 0.3) < within, (rate, faults)
        assert len(faults.injected) >= 2, faults.injected
    finally:
        h.close()
