"""The ledger, and all of its SQL: one module per table family (decisions, write claims, watermarks, rep state,
review queue, quarantine, SLA events, notifications, model answers, outcomes)."""

from leadrouter.store.engine import Store, open_store

__all__ = ["Store", "open_store"]
