"""The cells of a deals export as outcomes: won, lost or open by the map's stage lists and won/closed columns,
amounts in units, dates read, and every doubtful value kept with an issue and its fix (never dropped)."""

from __future__ import annotations

import pandas as pd

from leadrouter.backtest import cleaning as clean
from leadrouter.backtest.column_map import Dates, DealColumns
from leadrouter.outcomes.deals import deal_states
from leadrouter.validate.suite import excerpt

DEAL_ISSUES = {
    "unknown_stage": "kept as an opportunity without an outcome: add the stage to deals.stages (won, lost or open)",
    "no_outcome": "kept as an opportunity without an outcome: fill its stage, or map a closed column (a deal "
    "not won may be lost or still open)",
    "bad_flag": "read as not given: write yes or no (TRUE/FALSE, 1/0)",
    "bad_amount": "kept without an amount: make it a number",
    "bad_date": "read as no date: write it in one of the map's dates.formats",
    "undated": "kept, but days to opportunity and the 90-day figures leave it out: export created_at or close_date",
}
DEAL_ISSUE_COLUMNS = ["row", "deal_id", "lead_id", "issue", "field", "value", "fix"]


def clean_deals(
    cells: dict[str, pd.Series], spec: DealColumns, dates: Dates, rows: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per deal row (cells: trimmed text per deal field, <NA> for blank or unmapped; rows: its CSV row number):
    deal_id, amount (times the map's scale), is_won, is_closed, state, close_date, first_seen_at, dated; and
    one issue per doubtful value (DEAL_ISSUE_COLUMNS but lead_id), indexed like the cells."""
    index = cells["stage"].index
    flags = {name: clean.yes_no(cells[name]) if getattr(spec, name) else None for name in ("won", "closed")}
    states = deal_states(cells["stage"], spec.stages, flags["won"], flags["closed"])
    amount = clean.numbers(cells["amount"])[0].astype("float64") * spec.amount_scale
    close = clean.parse_dates(cells["close_date"], dates.formats, dates.timezone)[0]
    opened = clean.parse_dates(cells["created_at"], dates.formats, dates.timezone)[0]
    out = pd.DataFrame(
        {
            "deal_id": cells["deal_id"].fillna("row " + rows.astype(str)),
            "amount": amount,
            "is_won": states["is_won"],
            "is_closed": states["is_closed"],
            "state": states["state"],
            "close_date": close,
            "first_seen_at": opened,
            "dated": close.notna() | opened.notna(),
        }
    )
    stage_given = cells["stage"].notna()
    found = [
        ("unknown_stage", "stage", states["state"].isna() & stage_given),
        ("no_outcome", "stage", states["state"].isna() & ~stage_given),
        *[
            ("bad_flag", name, flag.isna() & cells[name].notna())
            for name, flag in flags.items()
            if flag is not None
        ],
        ("bad_amount", "amount", amount.isna() & cells["amount"].notna()),
        ("bad_date", "close_date", close.isna() & cells["close_date"].notna()),
        ("bad_date", "created_at", opened.isna() & cells["created_at"].notna()),
        ("undated", "close_date", ~out["dated"]),
    ]
    parts = [
        pd.DataFrame(
            {
                "row": rows[hit].to_numpy(),
                "deal_id": out.loc[hit, "deal_id"].to_numpy(),
                "issue": issue,
                "field": name,
                "value": cells[name][hit].fillna("").map(excerpt).to_numpy(),
                "fix": DEAL_ISSUES[issue],
            },
            index=index[hit.to_numpy()],
        )
        for issue, name, hit in found
        if hit.any()
    ]
    empty = pd.DataFrame(columns=[c for c in DEAL_ISSUE_COLUMNS if c != "lead_id"])
    return out, pd.concat(parts) if parts else empty
