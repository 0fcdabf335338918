"""Clean up after a local `make run` that was stopped or killed: its worker is gone, so its runs can never finish.

Runs it left pending or running would hold their deployment's concurrency slot (limit 1) for good, because
the local server keeps slot leases in memory and forgets them on restart. Runs the scheduler kept creating
while nothing ran them would all start at once (route-inbound's queue them): they are cancelled, since the
first run does everything since the last one anyway. Only for the single-machine local setup, where nothing
else can own those runs; workers in production have heartbeats for this.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.states import Cancelled, Crashed

ORPHAN_STATES = [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]
STALE_AFTER = timedelta(minutes=2)  # a scheduled run this late was missed while nothing ran


def recover_orphaned_runs() -> int:
    """Mark orphaned runs crashed and free deployment slots; returns how many runs were orphaned."""
    with get_client(sync_client=True) as client:
        orphans = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=ORPHAN_STATES))
            )
        )
        for run in orphans:
            client.set_flow_run_state(
                run.id, Crashed(message="the local runner that owned this run stopped"), force=True
            )
        missed = FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
            expected_start_time=FlowRunFilterExpectedStartTime(before_=datetime.now(UTC) - STALE_AFTER),
        )
        while stale := client.read_flow_runs(flow_run_filter=missed, limit=200):
            for run in stale:
                client.set_flow_run_state(
                    run.id,
                    Cancelled(message="missed while make run was stopped; later runs cover it"),
                    force=True,
                )
        for limit in client.read_global_concurrency_limits(limit=200):
            if limit.name.startswith("deployment:") and limit.active_slots:
                client.update_global_concurrency_limit(
                    limit.name, GlobalConcurrencyLimitUpdate(active_slots=0)
                )
    return len(orphans)
