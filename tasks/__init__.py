"""Prefect tasks, one module per flow in its stage order (route_inbound, sla_watch, outcome_loop,
sandbox_traffic) and `shared` for what several flows run. Each task unpacks its arguments and calls one core
function; it adds the name, the retries, logging and artifacts.

Who retries a failed call: the core's adapters retry calls to outside services (the CRM, the notification
channels) through their one retry policy, so a task that calls the CRM gets no Prefect retries (they would
multiply the adapter's tries). A task that runs only a ledger transaction retries briefly (`options.LEDGER`):
each such transaction is idempotent, and a dropped connection or a lock timeout is worth one more try.
"""
