"""What became of each lead's model request: kept through the chain when a later model answers, and counted in
the routing summary with the prompt cache's tokens."""

from __future__ import annotations

import pandas as pd

from leadrouter.classify.model import ModelChain, empty_answers
from leadrouter.summary import model_calls, summary_markdown

ANSWER = {"tier": "Standard", "category": "sales", "urgency": "normal", "confidence": 0.9,
          "rationale": "a mid-size buyer", "brief": "Asked for pricing."}  # fmt: skip


class Scripted:
    """A model answering from a script: lead -> (outcome, error, tokens in, cache written, cache read), an
    outcome of "answered" with ANSWER."""

    def __init__(self, name: str, script: dict[str, tuple]) -> None:
        self.name, self.script = name, script

    def classify(self, leads: pd.DataFrame, deadline_s: float | None = None) -> pd.DataFrame:
        out = empty_answers(leads.index, self.name)
        for lead in leads.index:
            outcome, error, tokens, written, read = self.script[lead]
            if outcome == "answered":
                out.loc[lead, list(ANSWER)] = list(ANSWER.values())
            out.loc[lead, ["outcome", "error"]] = [outcome, error]
            out.loc[lead, ["input_tokens", "cache_write_tokens", "cache_read_tokens"]] = [
                tokens,
                written,
                read,
            ]
            out.loc[lead, ["output_tokens", "cost_usd"]] = [
                10 if tokens else tokens,
                0.01 if tokens else tokens,
            ]
        return out


class Local:
    """Answers everything, reporting no outcome and no cache (as the local model does)."""

    name = "local"

    def classify(self, leads: pd.DataFrame, deadline_s: float | None = None) -> pd.DataFrame:
        out = empty_answers(leads.index, self.name)
        out[list(ANSWER)] = list(ANSWER.values())
        out[["input_tokens", "output_tokens", "cost_usd"]] = 0
        return out


def test_the_first_models_outcome_and_reason_stay_when_the_next_model_answers() -> None:
    leads = pd.DataFrame({"title": ["CTO", "Manager", "Analyst", "Director"]}, index=["A", "B", "C", "D"])
    claude = Scripted(
        "claude",
        {
            "A": ("refused", "refused (general_harms: declined)", 900, 4100, 0),
            "B": ("truncated", "truncated: the answer reached max_tokens", 1800, 0, 8200),
            "C": ("answered", None, 900, 0, 4100),
            "D": ("deadline", "deadline", None, None, None),
        },
    )
    out = ModelChain([claude, Local()], threshold=0.5).classify(leads)
    assert out["model"].tolist() == ["local", "local", "claude", "local"]
    assert out["outcome"].tolist() == ["refused", "truncated", "answered", "deadline"]
    assert out["error"].tolist()[:2] == [
        "refused (general_harms: declined)",
        "truncated: the answer reached max_tokens",
    ]
    assert out["error"].isna().tolist()[2:] == [True, False]  # a deadline's reason is kept too
    # what Claude billed stays on the lead; what nobody measured stays unknown
    assert out["input_tokens"].tolist() == [900, 1800, 900, 0]
    assert out["cache_write_tokens"].tolist()[:3] == [4100, 0, 0] and pd.isna(
        out.loc["D", "cache_write_tokens"]
    )
    assert out["cache_read_tokens"].tolist()[:3] == [0, 8200, 4100]


def test_a_model_that_reports_no_outcome_is_answered_or_unanswered() -> None:
    leads = pd.DataFrame({"title": ["CTO", "Manager"]}, index=["A", "B"])

    class Half(Local):
        def classify(self, leads: pd.DataFrame, deadline_s: float | None = None) -> pd.DataFrame:
            out = super().classify(leads)
            out.loc["B", "tier"] = pd.NA
            out.loc["B", "error"] = "overloaded_error"
            return out

    out = ModelChain([Half()], threshold=0.5).classify(leads)
    assert out["outcome"].tolist() == ["answered", "unanswered"]
    assert out.loc["B", "review_reason"] == "no model answered: overloaded_error"


def tally(rows: list[tuple]) -> pd.DataFrame:
    """A run tally's model columns: (outcome, leads, cache written, cache read) per row."""
    frame = pd.DataFrame(
        rows, columns=["model_outcome", "leads", "model_cache_write_tokens", "model_cache_read_tokens"]
    )
    return frame.astype(
        {"model_outcome": "string", "model_cache_write_tokens": "Int64", "model_cache_read_tokens": "Int64"}
    )


def test_the_summary_counts_outcomes_and_cache_tokens() -> None:
    rows = [
        ("answered", 40, 4100, 159_900),
        ("refused", 2, 0, 8200),
        ("truncated", 1, 0, 4100),
        ("cached", 7, 0, 0),
        (pd.NA, 30, pd.NA, pd.NA),  # leads a rule decided
    ]
    calls = model_calls(tally(rows))
    assert calls == {
        "by_model_outcome": {"answered": 40, "cached": 7, "refused": 2, "truncated": 1},
        "cache_write_tokens": 4100,
        "cache_read_tokens": 172_200,
        "cache_never_hit": False,
    }


def test_a_run_whose_cache_never_hit_says_so() -> None:
    never = model_calls(tally([("answered", 3, 12_300, 0), ("refused", 1, 4100, 0)]))
    assert never["cache_never_hit"] is True and never["cache_write_tokens"] == 16_400
    text = summary_markdown(SUMMARY | never)
    assert "**The prompt cache never hit in this run**" in text and "| refused | 1 |" in text
    assert "Prompt cache: 16,400 tokens written, 0 read." in text
    # a prefix under the model's minimum is never written either: still a miss
    assert model_calls(tally([("answered", 2, 0, 0)]))["cache_never_hit"] is True


def test_no_request_sent_is_no_cache_miss() -> None:
    cached = model_calls(
        tally([("cached", 5, 0, 0), ("unavailable", 2, 0, 0), ("deadline", 1, pd.NA, pd.NA)])
    )
    assert cached["cache_never_hit"] is False and cached["by_model_outcome"]["unavailable"] == 2
    rules_only = model_calls(pd.DataFrame({"leads": [12]}))  # a tally without the model columns
    assert rules_only == {
        "by_model_outcome": {},
        "cache_write_tokens": None,
        "cache_read_tokens": None,
        "cache_never_hit": False,
    }
    assert "Model requests" not in summary_markdown(SUMMARY | rules_only)


SUMMARY = {
    "leads": 4, "written": 4, "quarantined": 0, "review": 0, "write_failed": 0, "shadow": 0, "pending": 0,
    "matched_accounts": 0, "enrichment_failed": 0, "by_tier": {}, "by_decider": {}, "by_method": {},
    "passed_over": {}, "model_cost_usd": 0.0, "by_owner": {},
}  # fmt: skip


def test_a_spend_limit_stop_is_counted_and_said_once_with_its_fix() -> None:
    # two batches stopped at the spend limit (the tally has one row per distinct set of facts)
    rows = [
        ("answered", 4, 4100, 12_300),
        ("stopped: spend limit reached", 5, 0, 0),
        ("stopped: spend limit reached", 3, 0, 0),
    ]
    calls = model_calls(tally(rows))
    assert calls["by_model_outcome"] == {"stopped: spend limit reached": 8, "answered": 4}
    text = summary_markdown(SUMMARY | calls)
    assert text.count("spend limit was reached") == 1 and text.count("Anthropic console") == 1
    assert "**Claude's spend limit was reached, so requests to it stopped**: 8 leads" in text
    assert "| stopped: spend limit reached | 8 |" in text and "API key" not in text


def test_an_authentication_stop_names_the_block_to_fix() -> None:
    calls = model_calls(tally([("stopped: authentication failed", 6, 0, 0)]))
    assert calls["cache_never_hit"] is False  # nothing was answered: no cache miss either
    text = summary_markdown(SUMMARY | calls)
    assert "**Claude refused the API key, so requests to it stopped**: 6 leads" in text
    assert text.count("ClaudeConnection block") == 1 and "spend limit" not in text
