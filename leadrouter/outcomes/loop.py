"""The outcome loop's steps on the ledger, for its flow to call in stage order: which leads are due for a look
at their deal, saving the deals the CRM sent, and the run's line."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from leadrouter.outcomes.deals import DealStages, clean_outcomes
from leadrouter.store import Store
from leadrouter.store import outcomes as outcome_store
from leadrouter.store import star as star_store


def due_leads(store: Store, source: str, now: datetime, days: int, recheck_days: int) -> list[str]:
    """The leads decided in the last `days` before `now`, then those whose deal is still open and whose decision
    is no older than `recheck_days` (re-checked until the deal closes), each once."""
    due = outcome_store.due_lead_ids(store, source, now - timedelta(days=days))
    still_open = star_store.open_deal_lead_ids(store, source, now - timedelta(days=recheck_days))
    return due + sorted(set(still_open) - set(due))


def save_deals(
    store: Store, source: str, fetched: pd.DataFrame, at: datetime, stages: DealStages
) -> tuple[int, list[str]]:
    """Upsert the deals the CRM sent, won, lost or open by its flags, else `stages` (deals.configured_stages):
    how many were saved, and each value that could not be used, with its fix (never fatal)."""
    deals, problems = clean_outcomes(fetched, stages)
    return outcome_store.upsert_outcomes(store, source, deals, at), problems


def loop_line(summary: dict) -> str:
    """An outcome-loop run's counts in one line, its name and its final state's message."""
    model = "retrained" if summary["model_kept"] else "unchanged"
    return (
        f"{summary['checked']} decisions checked · {summary['deals']} with a deal · {summary['leads']} leads in "
        f"the outcome tables · model {model}"
    )
