"""The CRM's deals as the outcome loop stores them: one per lead, each unusable value reported with its fix."""

from __future__ import annotations

import pandas as pd

from leadrouter.schema import OUTCOME_FIELDS


def clean_outcomes(fetched: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The CRM's deals ready to store (one per lead), and a message per value that could not be used: a row
    without a lead id is skipped; an amount or close date that does not parse is stored empty. A lead with
    several deals (a HubSpot contact can have many) keeps its won deal, else its largest."""
    frame = fetched.reindex(columns=["lead_id", *OUTCOME_FIELDS]).reset_index(drop=True)
    amount = pd.to_numeric(frame["amount"], errors="coerce")
    close = pd.to_datetime(frame["close_date"], errors="coerce", format="mixed", utc=True)
    no_lead = ~_given(frame["lead_id"])
    problems = [
        *_problems(frame, no_lead, "lead_id", "the row is skipped: link the deal to its lead in the CRM"),
        *_problems(
            frame, amount.isna() & _given(frame["amount"]), "amount", "stored empty: make it a number"
        ),
        *_problems(
            frame, close.isna() & _given(frame["close_date"]), "close_date", "stored empty: make it a date"
        ),
    ]
    frame["amount"] = amount.astype("float64")
    frame["close_date"] = pd.Series(close.dt.date, dtype=object).where(close.notna(), None)
    for flag in ("is_closed", "is_won"):
        frame[flag] = frame[flag].fillna(False).astype(bool)
    frame = frame[~no_lead].sort_values(["lead_id", "is_won", "amount"], ascending=[True, False, False])
    return frame.drop_duplicates("lead_id").reset_index(drop=True), problems


def _given(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().fillna("").ne("")


def _problems(frame: pd.DataFrame, bad: pd.Series, column: str, fix: str) -> list[str]:
    """One message per bad row (a handful: the CRM's own fields are typed), naming row, deal, lead and fix."""
    return [
        f"outcome row {i} (deal {frame.at[i, 'deal_id']!r}, lead {frame.at[i, 'lead_id']!r}): "
        f"{column} {str(frame.at[i, column])[:40]!r} is unusable; {fix} in the CRM"
        for i in frame.index[bad.to_numpy()]
    ]
