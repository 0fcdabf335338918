"""A run's validation as table rows for its artifacts: the report (one row per check over every batch) and
the quarantined leads (one row per failed check). Lead ids and values are inert markdown: Prefect renders a
table cell as markdown."""

from __future__ import annotations

import pandas as pd

from leadrouter import inert

ID_LIMIT = 40  # CRM ids are 15 to 36 characters: a longer one is cut in a table


def validation_table(reports: list[pd.DataFrame]) -> list[dict]:
    """The validation-report table: one row per expectation over every batch of a run, with evaluated, passed
    and failed counts and up to five sample failures (lead id and value excerpt as inert markdown, which is how
    Prefect renders a table cell)."""
    if not reports:
        return []
    runs = pd.concat(reports, ignore_index=True)
    counts = runs.groupby(["check", "column", "severity"], sort=False)[
        ["evaluated", "passed", "failed"]
    ].sum()
    samples = runs.groupby(["check", "column", "severity"], sort=False)["sample_failures"].sum()
    errors = runs.groupby(["check", "column", "severity"], sort=False)["error"].first()
    table = counts.assign(
        sample_failures=samples.map(
            lambda found: "; ".join(
                f"{inert.markdown(s['lead_id'], ID_LIMIT)}: {inert.markdown(s['value'])}" for s in found[:5]
            )
        ),
        error=errors.map(inert.markdown),
    )
    return (
        table.reset_index().astype({"evaluated": int, "passed": int, "failed": int}).to_dict(orient="records")
    )


VALUE_LIMIT = 80  # a quoted excerpt (validate.suite.excerpt, at most 60 characters) defanged

QUARANTINE_COLUMNS = ["severity", "lead", "check", "field", "value", "fix"]


def quarantine_table(quarantined: pd.DataFrame) -> list[dict]:
    """The quarantined-leads table: one row per check each quarantined lead failed, blocking failures first and
    warnings after, each by lead. Lead id and value are inert markdown (Prefect renders a cell as markdown)."""
    rows = quarantined[["lead_id", "reasons"]].explode("reasons", ignore_index=True).dropna(subset="reasons")
    if rows.empty:
        return []
    reasons = pd.DataFrame(rows["reasons"].tolist(), index=rows.index)
    table = pd.DataFrame(
        {
            "severity": reasons["severity"],
            "lead": rows["lead_id"].map(lambda v: inert.markdown(v, ID_LIMIT)),
            "check": reasons["check"],
            "field": reasons["column"],
            "value": reasons["value"].map(lambda v: inert.markdown(v, VALUE_LIMIT)),
            "fix": reasons["fix"],
        }
    )
    warning_last = (table["severity"] != "blocking").astype(int)
    order = pd.DataFrame({"w": warning_last, "lead": table["lead"]}).sort_values(["w", "lead"], kind="stable")
    return table.loc[order.index, QUARANTINE_COLUMNS].to_dict(orient="records")
