"""The ledger: decisions, quarantine, review queue, round-robin state and watermarks."""

from leadrouter.store.engine import Store, open_store

__all__ = ["Store", "open_store"]
