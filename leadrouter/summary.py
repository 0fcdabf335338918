"""What a routing run did, as numbers (for the CLI and tests) and as markdown (for the Prefect UI)."""

from __future__ import annotations

import pandas as pd

from leadrouter.assign.roster import Roster
from leadrouter.schema import Status


def owner_names(roster: Roster) -> dict[str, str]:
    return {r.key: r.name for r in roster.reps} | roster.queues


def summarize_run(decided: pd.DataFrame, roster: Roster) -> dict:
    """Counts by status, tier and owner (by name) of a run's decisions (ledger.run_decisions)."""
    status = decided["status"].value_counts()
    routed = decided[decided["owner_id"].notna()]
    names = owner_names(roster)
    routed_excluded = routed["excluded"].dropna()
    return {
        "leads": len(decided),
        "written": int(status.get(Status.WRITTEN, 0)),
        "quarantined": int(status.get(Status.QUARANTINED, 0)),
        "review": int(status.get(Status.REVIEW, 0)),
        "write_failed": int(status.get(Status.WRITE_FAILED, 0)),
        "shadow": int(status.get(Status.SHADOW, 0)),
        "pending": int(status.get(Status.RECORDED, 0) + status.get(Status.WRITING, 0)),
        "enrichment_failed": int(decided["enrichment_failed"].astype("boolean").fillna(False).sum()),
        "matched_accounts": int(decided["account_id"].notna().sum()),
        "by_tier": {str(k): int(v) for k, v in routed["tier"].value_counts().sort_index().items()},
        "by_decider": deciders(decided),
        "by_method": _counts(routed["method"]),
        "passed_over": _counts(routed_excluded.map(lambda e: list(e.values())).explode()),
        "model_cost_usd": round(
            float(pd.to_numeric(decided.get("model_cost_usd"), errors="coerce").sum()), 6
        ),
        "by_owner": {
            names.get(k, k): int(v) for k, v in routed["owner_id"].value_counts().sort_index().items()
        },
    }


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.dropna().value_counts().items()}


def deciders(decided: pd.DataFrame) -> dict[str, int]:
    """Leads per decider: each rule, each model, and the review queue (leads no one could decide yet);
    quarantined leads are not decided by anyone and are left out."""
    if "decided_by" not in decided:
        return {}
    who = decided["decided_by"].astype("string")
    who = who.mask(decided["status"] == Status.REVIEW.value, "review queue")
    who = who[decided["status"] != Status.QUARANTINED.value].dropna()
    counts = who.value_counts()
    rank = {"rule": 0, "model": 1}  # rules first, then models, then the queue; most leads first within each
    order = sorted(counts.index, key=lambda k: (rank.get(k.partition(":")[0], 2), -counts[k], k))
    return {str(k): int(counts[k]) for k in order}


def summary_markdown(summary: dict) -> str:
    """The routing-summary artifact. Only counts and roster names: no lead text reaches the UI from here."""
    lines = [
        "# Routing summary",
        "",
        "| leads | written | quarantined | review | write failed | shadow | pending | matched to an account "
        "| enrichment failed |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        "| {leads} | {written} | {quarantined} | {review} | {write_failed} | {shadow} | {pending} "
        "| {matched_accounts} | {enrichment_failed} |".format(**summary),
        "",
        "## By tier",
        "",
        "| tier | leads |",
        "|---|---:|",
        *[f"| {tier} | {n} |" for tier, n in summary["by_tier"].items()],
        "",
        "## Decided by",
        "",
        f"Rules, then the model for what no rule resolved (model cost ${summary['model_cost_usd']:.4f}); the "
        "review queue holds what neither could decide safely.",
        "",
        "| decided by | leads |",
        "|---|---:|",
        *[f"| {who} | {n} |" for who, n in summary["by_decider"].items()],
        "",
        "## How owners were chosen",
        "",
        "The lead's existing or account owner (or their backup) first, else its pool's eligible reps by weighted "
        "round robin, else the pool's fallback. Reps passed over, by reason (`leadrouter explain LEAD_ID` shows "
        "one lead's path):",
        "",
        "| method | leads |",
        "|---|---:|",
        *[f"| {method} | {n} |" for method, n in summary.get("by_method", {}).items()],
        "",
        "| passed over because | times |",
        "|---|---:|",
        *[f"| {code} | {n} |" for code, n in summary.get("passed_over", {}).items()],
        "",
        "## By owner",
        "",
        "| owner | leads |",
        "|---|---:|",
        *[f"| {owner} | {n} |" for owner, n in summary["by_owner"].items()],
    ]
    return "\n".join(lines)


def validation_table(reports: list[pd.DataFrame]) -> list[dict]:
    """One row per expectation over every batch of a run: evaluated, passed and failed counts and up to five
    sample failures (lead id and an escaped excerpt of the value: never raw lead text)."""
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
            lambda found: "; ".join(f"{s['lead_id']}: {s['value']}" for s in found[:5])
        ),
        error=errors.fillna(""),
    )
    return (
        table.reset_index().astype({"evaluated": int, "passed": int, "failed": int}).to_dict(orient="records")
    )
