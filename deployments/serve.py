"""Serve every flow on its schedule in this process: what `make run` starts after the Prefect server."""

from __future__ import annotations

from prefect import serve

from flows.route_inbound import route_inbound
from flows.sandbox_traffic import sandbox_traffic
from leadrouter.config import Settings
from leadrouter.router import init_sandbox


def main() -> None:
    init_sandbox(Settings())  # first run: create the store and a seeded sandbox; later runs keep them
    serve(
        # one routing run at a time: a new tick waits rather than racing the running one
        route_inbound.to_deployment(name="sandbox", interval=30, concurrency_limit=1),
        sandbox_traffic.to_deployment(name="sandbox", interval=15, concurrency_limit=1),
    )


if __name__ == "__main__":
    main()
