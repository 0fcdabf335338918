"""The artifacts one flow run published, read back from the Prefect server."""

from __future__ import annotations

import json


def run_artifacts(run_id: object) -> dict[str, str]:
    """key -> the artifact's data as text (a table as JSON), for the artifacts the flow run created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    return {a.key: a.data if isinstance(a.data, str) else json.dumps(a.data) for a in found}
