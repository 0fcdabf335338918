"""A refusal and a truncation from the strict local Messages API reach the ledger: the decision records the
outcome, the reason and the prompt-cache tokens, the routing summary counts them, and `explain` shows them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import select

from leadrouter.assign.roster import load_roster
from leadrouter.classify import classify_leads
from leadrouter.classify.model import ModelChain
from leadrouter.classify.rules import load_rulebook
from leadrouter.config import PROJECT_ROOT
from leadrouter.record import BatchContext, record_batch
from leadrouter.store import open_store
from leadrouter.store.decisions import run_tally
from leadrouter.store.tables import decisions
from leadrouter.summary import summarize_run, summary_markdown
from localapi.anthropic import MessagesAPI
from tests.helpers.claude import CTO, INTERN, MANAGER, claude, leads
from tests.helpers.cli import run
from tests.helpers.clock import WORKDAY
from tests.helpers.ledger import NO_QUARANTINE, ROSTER

COLUMNS = ["lead_id", "model_outcome", "model_cache_write_tokens", "model_cache_read_tokens"]


def test_a_refusal_and_a_truncation_reach_the_decision_the_summary_and_explain(
    tmp_path: Path, local_model
) -> None:
    # Ana's lead is refused; Ben's answer needs 1,500 tokens and gets 500, then 1,000: truncated twice
    api = MessagesAPI(per_lead={'"first_name": "Ana"': "refuse", '"first_name": "Ben"': "verbose"})
    book = load_rulebook(PROJECT_ROOT / "config" / "rulebook.yaml")
    batch = leads(CTO, MANAGER, INTERN).assign(
        lead_id=["00QANA", "00QBEN", "00QCY"], created_at=pd.Timestamp("2026-12-01T09:00Z")
    )
    with claude(api, max_tokens=500, max_concurrency=1) as model:  # one at a time: the cache is written once
        classified = classify_leads(batch, book, ModelChain([model, local_model], 0.7, deadline_s=30))
    url = f"sqlite:///{tmp_path}/ledger.db"
    with open_store(url) as store:
        ctx = BatchContext("sandbox", "run-28", book.version, at=WORKDAY)
        record_batch(store, ctx, classified.reset_index(drop=True), NO_QUARANTINE, load_roster(ROSTER))
        with store.engine.connect() as conn:
            rows = conn.execute(select(*(decisions.c[c] for c in COLUMNS), decisions.c.explanation)).all()
        summary = summarize_run(run_tally(store, "sandbox", "run-28"), load_roster(ROSTER))

    got = {r.lead_id: r for r in rows}
    # the lead's outcome is the first model's; the model named is the one that answered
    assert {k: (r.model_outcome, r.explanation["model"]["model"]) for k, r in got.items()} == {
        "00QANA": ("refused", local_model.name),
        "00QBEN": ("truncated", local_model.name),
        "00QCY": ("answered", model.name),
    }
    assert got["00QANA"].explanation["model"]["model_error"] == "refused (general_harms: declined)"
    assert got["00QBEN"].explanation["model"]["model_error"] == "truncated: the answer reached max_tokens"
    assert got["00QCY"].explanation["model"]["model_error"] is None
    # the ledger's cache tokens are the server's, request by request (4: Ana, Ben twice, Cy)
    usage = [r["usage"] for r in api.responses]
    assert len(usage) == 4
    by_lead = {
        "00QANA": usage[0:1],
        "00QBEN": usage[1:3],
        "00QCY": usage[3:4],
    }
    for lead, used in by_lead.items():
        assert got[lead].model_cache_write_tokens == sum(u["cache_creation_input_tokens"] for u in used)
        assert got[lead].model_cache_read_tokens == sum(u["cache_read_input_tokens"] for u in used)
    written = sum(u["cache_creation_input_tokens"] for u in usage)
    read = sum(u["cache_read_input_tokens"] for u in usage)
    assert written > 0 and read == 3 * written  # written by the first request, read by the three after it

    assert summary["by_model_outcome"] == {"answered": 1, "refused": 1, "truncated": 1}
    assert (summary["cache_write_tokens"], summary["cache_read_tokens"]) == (written, read)
    assert summary["cache_never_hit"] is False
    markdown = summary_markdown(summary)
    assert "| refused | 1 |" in markdown and "| truncated | 1 |" in markdown
    assert f"Prompt cache: {written:,} tokens written, {read:,} read." in markdown
    assert "never hit" not in markdown

    env = {"LEADROUTER_STORE_URL": url, "LEADROUTER_ROSTER_PATH": str(ROSTER), "COLUMNS": "200"}
    shown = run("explain", "00QANA", "--source", "sandbox", env=env)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert f"model      {local_model.name} (first request: refused (general_harms: declined))" in shown.stdout


def test_a_spend_limit_stop_is_said_once_in_the_summary_with_the_leads_it_stopped(
    tmp_path: Path, local_model
) -> None:
    # the run's two batches each hit the spend limit on their first request; the local model answers instead
    api = MessagesAPI(fail_first=["spend_limit", "spend_limit"])
    book = load_rulebook(PROJECT_ROOT / "config" / "rulebook.yaml")
    created = pd.Timestamp("2026-12-01T09:00Z")
    batches = [
        leads(CTO, MANAGER, INTERN).assign(lead_id=["00QA1", "00QA2", "00QA3"], created_at=created),
        leads(MANAGER, INTERN).assign(lead_id=["00QB1", "00QB2"], created_at=created),
    ]
    with (
        claude(api, max_retries=2, max_concurrency=1) as model,
        open_store(f"sqlite:///{tmp_path}/l.db") as store,
    ):
        ctx = BatchContext("sandbox", "run-28", book.version, at=WORKDAY)
        for batch in batches:
            classified = classify_leads(batch, book, ModelChain([model, local_model], 0.7, deadline_s=30))
            record_batch(store, ctx, classified.reset_index(drop=True), NO_QUARANTINE, load_roster(ROSTER))
        with store.engine.connect() as conn:
            rows = conn.execute(select(decisions.c.model_outcome, decisions.c.explanation)).all()
        summary = summarize_run(run_tally(store, "sandbox", "run-28"), load_roster(ROSTER))

    assert api.statuses == {429: 2}  # one request per batch: not retried, no other lead asked
    assert [r.model_outcome for r in rows] == ["stopped: spend limit reached"] * 5
    assert {r.explanation["model"]["model"] for r in rows} == {local_model.name}
    assert summary["by_model_outcome"] == {"stopped: spend limit reached": 5}
    markdown = summary_markdown(summary)
    assert markdown.count("spend limit was reached") == 1
    assert "**Claude's spend limit was reached, so requests to it stopped**: 5 leads" in markdown
    assert "raise the limit in the Anthropic console" in markdown
    assert "| stopped: spend limit reached | 5 |" in markdown
