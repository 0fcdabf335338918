"""The import's verdict: an export where one reason rejects most rows (a wrong separator, a map naming the
wrong date format) or where no row is usable stops the run with that reason, example rows and the fix, rather
than replaying what is left as if all were well."""

from __future__ import annotations

import pandas as pd

MOST_ROWS = 0.5  # one reason rejecting more than this share of rows stops the import
SHOWN_ROWS = 5  # example rows named when it stops


def stop_message(rows: int, rejected: pd.DataFrame, usable: int) -> str | None:
    """Why the import must stop (the reason, its share, example rows and values, the fix), or None: when one
    reason rejects over MOST_ROWS of the rows, or no row is usable."""
    counts = rejected["reason"].value_counts()
    if not len(counts) or (counts.iat[0] <= MOST_ROWS * rows and usable):
        return None
    top = str(counts.index[0])
    hit = rejected[rejected["reason"] == top]
    examples = "; ".join(
        f"row {r.row} {r.field}={r.value}" if r.value else f"row {r.row}"
        for r in hit.head(SHOWN_ROWS).itertuples()
    )
    more = f" and {len(hit) - SHOWN_ROWS} more" if len(hit) > SHOWN_ROWS else ""
    if counts.iat[0] > MOST_ROWS * rows:
        message = f"{len(hit)} of {rows} rows ({len(hit) / rows:.0%}) are rejected as {top}"
    else:
        by_reason = ", ".join(f"{k} {v}" for k, v in counts.items())
        message = f"none of the {rows} rows is usable ({by_reason})"
    return f"{message}; {top}: {examples}{more}. Fix: {hit['fix'].iat[0]}"
