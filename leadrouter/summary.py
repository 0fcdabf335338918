"""What a routing run did, as numbers (for the CLI and tests) and as markdown (for the Prefect UI). The
validation report and quarantined leads as table rows are `validate.tables`'."""

from __future__ import annotations

import json

import pandas as pd

from leadrouter import inert
from leadrouter.assign.roster import Roster
from leadrouter.classify.model import AUTH_STOPPED, SPEND_STOPPED
from leadrouter.schema import Status


def owner_names(roster: Roster) -> dict[str, str]:
    return {r.key: r.name for r in roster.reps} | roster.queues


ROUTING_FACTS = ("language", "skills_matched")  # thin tallies (older ledgers, tests) lack them


def language_label(language: object, confidence: object) -> str:
    """ "ja (0.97)" when detected; "ja (the country's language)" when the text could not tell; "unknown"."""
    if not isinstance(language, str) or not language:
        return "unknown"
    if confidence is None or pd.isna(confidence):
        return f"{language} (the country's language)"
    return f"{language} ({float(confidence):.2f})"


def summarize_run(tally: pd.DataFrame, roster: Roster) -> dict:
    """Counts by status, tier and owner (by name) of a run's decisions, from store.decisions.run_tally: one row per
    distinct combination of facts, `leads` of them."""
    status = tally.groupby("status")["leads"].sum()
    tally = tally.reindex(columns=[*tally.columns, *(c for c in ROUTING_FACTS if c not in tally)])
    routed = tally[tally["owner_id"].notna()]
    names = owner_names(roster)
    failed = tally["enrichment_failed"].astype("boolean").fillna(False).astype(bool)
    # the distinct sets of reps passed over, not every lead's: parsing them here is cheap
    reasons = routed["excluded"].map(lambda text: list(json.loads(text).values()) if text else [])
    passed_over = routed.assign(excluded=reasons).explode("excluded")
    return {
        "leads": int(tally["leads"].sum()),
        "written": int(status.get(Status.WRITTEN, 0)),
        "quarantined": int(status.get(Status.QUARANTINED, 0)),
        "review": int(status.get(Status.REVIEW, 0)),
        "write_failed": int(status.get(Status.WRITE_FAILED, 0)),
        "shadow": int(status.get(Status.SHADOW, 0)),
        "pending": int(status.get(Status.RECORDED, 0) + status.get(Status.WRITING, 0)),
        "enrichment_failed": int(tally.loc[failed, "leads"].sum()),
        "matched_accounts": int(tally.loc[tally["matched"].astype(bool), "leads"].sum()),
        "by_tier": dict(sorted(_counts(routed, "tier").items())),
        "by_decider": deciders(tally),
        "by_method": _counts(routed, "method"),
        "passed_over": _counts(passed_over, "excluded"),
        "model_cost_usd": round(float(pd.to_numeric(tally["model_cost_usd"], errors="coerce").sum()), 6),
        "by_owner": {names.get(k, k): n for k, n in sorted(_counts(routed, "owner_id").items())},
        "by_language": _counts(routed, "language"),
        "by_skills": _counts(routed, "skills_matched"),
        **model_calls(tally),
    }


# outcomes of leads whose model request was never answered by the API, or not sent at all
NOT_SENT = {"cached", "unavailable", "deadline", SPEND_STOPPED, AUTH_STOPPED}
# what stopped every request to Claude, and what the user does about it
STOPS = {
    SPEND_STOPPED: (
        "Claude's spend limit was reached",
        "raise the limit in the Anthropic console (Settings → Limits), or wait until it resets",
    ),
    AUTH_STOPPED: (
        "Claude refused the API key",
        "replace the API key in the ClaudeConnection block with a valid one from the Anthropic console",
    ),
}
MODEL_CALL_COLUMNS = ["model_outcome", "model_cache_write_tokens", "model_cache_read_tokens"]


def model_calls(tally: pd.DataFrame) -> dict:
    """Leads per model outcome (answered, cached, truncated, refused, ...) and the prompt cache's tokens written
    and read (None when no decision knows them); cache_never_hit when requests were answered and none read the
    cache (a prefix below the model's cache minimum is silently never cached)."""
    tally = tally.reindex(columns=[*tally.columns, *(c for c in MODEL_CALL_COLUMNS if c not in tally)])
    written = pd.to_numeric(tally["model_cache_write_tokens"], errors="coerce")
    read = pd.to_numeric(tally["model_cache_read_tokens"], errors="coerce")
    outcome = tally["model_outcome"].astype("string")
    sent = outcome.notna() & ~outcome.isin(NOT_SENT) & written.notna()
    known = written.notna().any()
    return {
        "by_model_outcome": _counts(tally, "model_outcome"),
        "cache_write_tokens": int(written.sum()) if known else None,
        "cache_read_tokens": int(read.sum()) if known else None,
        "cache_never_hit": bool(tally.loc[sent, "leads"].sum() > 0 and read.fillna(0).sum() == 0),
    }


def repair_counts(repairs: list[pd.DataFrame]) -> dict[str, int]:
    """Values of routed leads repaired before validation (validate.suite.ValidationResult.repairs, one frame per
    batch), per "field: method" ("email: trim"), sorted."""
    listed = [r for r in repairs if len(r)]
    if not listed:
        return {}
    found = pd.concat(listed, ignore_index=True)
    counts = (found["field"] + ": " + found["method"]).value_counts().sort_index()
    return {str(k): int(v) for k, v in counts.items()}


# what a run's one-line account names besides written, quarantined and review, when it happened
EXCEPTIONAL = {"write_failed": "write failed", "shadow": "shadow", "pending": "pending"}


def counts_line(summary: dict) -> str:
    """A run's counts in one line, its name and its final state's message in the Prefect UI:
    `222 leads: 203 written · 8 quarantined · 11 review` (failed, shadow and pending writes added when any)."""
    left = departures_line(summary)
    if not summary["leads"]:
        return "no new leads" + (f" · {left}" if left else "")
    parts = [f"{summary[key]} {key}" for key in ("written", "quarantined", "review")]
    parts += [f"{summary[key]} {label}" for key, label in EXCEPTIONAL.items() if summary[key]]
    return f"{summary['leads']} leads: " + " · ".join(parts + ([left] if left else []))


def departures_line(summary: dict) -> str | None:
    """`2 reps deactivated in the CRM (Ann Lee, Bo Berg): 7 untouched leads re-routed`, or None."""
    gone = summary.get("deactivated") or {}
    if not gone:
        return None
    reps = "rep" if len(gone) == 1 else "reps"
    names = ", ".join(inert.terminal(name) for name in gone)
    return (
        f"{len(gone)} {reps} deactivated in the CRM ({names}): {sum(gone.values())} untouched leads re-routed"
    )


def _counts(tally: pd.DataFrame, by: str) -> dict[str, int]:
    """Leads per value of `by` (null left out), most first."""
    counts = tally.groupby(tally[by].astype("string"))["leads"].sum()
    return {str(k): int(n) for k, n in counts.sort_values(ascending=False, kind="stable").items()}


def deciders(tally: pd.DataFrame) -> dict[str, int]:
    """Leads per decider: each rule, each model, and the review queue (leads no one could decide yet);
    quarantined leads are not decided by anyone and are left out."""
    who = tally["decided_by"].astype("string").mask(tally["status"] == Status.REVIEW.value, "review queue")
    counts = _counts(tally.assign(who=who)[tally["status"] != Status.QUARANTINED.value], "who")
    rank = {"rule": 0, "model": 1}  # rules first, then models, then the queue; most leads first within each
    order = sorted(counts, key=lambda k: (rank.get(k.partition(":")[0], 2), -counts[k], k))
    return {k: counts[k] for k in order}


def summary_markdown(summary: dict) -> str:
    """The routing-summary artifact: counts by tier, decider, method and owner, each name an inert cell."""
    md = inert.markdown
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
        *[f"| {md(tier)} | {n} |" for tier, n in summary["by_tier"].items()],
        "",
        "## Decided by",
        "",
        f"Rules, then the model for what no rule resolved (model cost ${summary['model_cost_usd']:.4f}); the "
        "review queue holds what neither could decide safely.",
        "",
        "| decided by | leads |",
        "|---|---:|",
        *[f"| {md(who)} | {n} |" for who, n in summary["by_decider"].items()],
        "",
        *model_markdown(summary),
        "## How owners were chosen",
        "",
        "The lead's existing or account owner (or their backup) first, else its pool's eligible reps by weighted "
        "round robin, else the pool's fallback. Reps passed over, by reason (`leadrouter explain LEAD_ID` shows "
        "one lead's path):",
        "",
        "| method | leads |",
        "|---|---:|",
        *[f"| {md(method)} | {n} |" for method, n in summary.get("by_method", {}).items()],
        "",
        "| passed over because | times |",
        "|---|---:|",
        *[f"| {md(code)} | {n} |" for code, n in summary.get("passed_over", {}).items()],
        "",
        "## Language and skills",
        "",
        "The leads' languages (detected from what they wrote, else their country's) and the skills their owners "
        "matched:",
        "",
        "| language | leads |",
        "|---|---:|",
        *[f"| {md(language)} | {n} |" for language, n in summary.get("by_language", {}).items()],
        "",
        "| skills matched | leads |",
        "|---|---:|",
        *[f"| {md(skills)} | {n} |" for skills, n in summary.get("by_skills", {}).items()],
        "",
        "## By owner",
        "",
        "| owner | leads |",
        "|---|---:|",
        *[f"| {md(owner)} | {n} |" for owner, n in summary["by_owner"].items()],
    ]
    if summary.get("deactivated"):
        lines += [
            "",
            "## Deactivated in the CRM",
            "",
            "Switched off for this run with no roster edit; their untouched leads were re-routed through the "
            "pools, touched ones left with them:",
            "",
            "| rep | untouched leads re-routed |",
            "|---|---:|",
            *[f"| {md(name)} | {n} |" for name, n in summary["deactivated"].items()],
        ]
    if summary.get("repaired"):
        lines += [
            "",
            "## Repaired before validation",
            "",
            "Harmless formatting of routed leads' values, undone (the CRM keeps them as written):",
            "",
            "| field: how | values |",
            "|---|---:|",
            *[f"| {md(how)} | {n} |" for how, n in summary["repaired"].items()],
        ]
    return "\n".join(lines)


def model_markdown(summary: dict) -> list[str]:
    """What became of the model requests (one row per outcome) and the prompt cache's tokens; empty when no
    model was asked."""
    outcomes = summary.get("by_model_outcome") or {}
    if not outcomes:
        return []
    lines = [
        "## Model requests",
        "",
        "What became of each lead's request to the first model (a truncated or refused lead is answered by the "
        "next model, or waits for review):",
        "",
        "| outcome | leads |",
        "|---|---:|",
        *[f"| {inert.markdown(outcome)} | {n} |" for outcome, n in outcomes.items()],
        "",
    ]
    for stop, (what, fix) in STOPS.items():
        if stop in outcomes:  # said once per run, however many batches and leads it stopped
            lines += [
                f"**{what}, so requests to it stopped**: {outcomes[stop]} leads got no answer from it (none "
                f"retried) and went to the next model or wait for review. To fix it, {fix}.",
                "",
            ]
    written, read = summary.get("cache_write_tokens"), summary.get("cache_read_tokens")
    if written is not None:
        lines += [f"Prompt cache: {written:,} tokens written, {read:,} read.", ""]
    if summary.get("cache_never_hit"):
        lines += [
            "**The prompt cache never hit in this run**: every request paid for the whole prompt. Is the prefix "
            "shorter than the model's cache minimum, or were the requests more than 5 minutes apart? "
            "(`leadrouter model info` shows the minimum.)",
            "",
        ]
    return lines
