"""ClaudeModel: the Model protocol over Anthropic's Messages API, through the anthropic SDK.

One request per distinct lead document, a strict forced tool for the answer, a cached system prompt, bounded
concurrency, an overall deadline, and a persistent answer cache so identical lead texts are never billed twice.
The lead's text is data: it is delimited, the delimiter cannot be closed from inside it, and whatever the
model answers is checked against the Answer schema (and afterwards by the guards). What is asked (the prompt,
the tool, the user turn) is in leadrouter.classify.prompt.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import anthropic
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from leadrouter.classify.model import ANSWER_COLUMNS, Answer, empty_answers, lead_documents
from leadrouter.classify.prompt import PROMPT_VERSION, SYSTEM_PROMPT, TOOL, TOOL_NAME, user_turn
from leadrouter.store import model_answers
from leadrouter.store.engine import Store

log = logging.getLogger(__name__)

DEFAULT_MODEL = "claude-sonnet-4-6"  # claude-sonnet-4-5 is deprecated (end of life 2026-11-30) in SDK 2.14
DEADLINE = "deadline"

_SECRET_LIKE = re.compile(r"sk-ant-[\w-]+")


class Prices(BaseModel):
    """USD per million tokens (Claude Sonnet 4.6 list prices); 5-minute cache writes cost 1.25x input, cache
    reads 0.1x (Anthropic's pricing page)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: float = Field(default=3.0, ge=0)
    output_per_mtok: float = Field(default=15.0, ge=0)
    cache_write_multiplier: float = Field(default=1.25, ge=0)
    cache_read_multiplier: float = Field(default=0.1, ge=0)

    def cost(self, usage: anthropic.types.Usage) -> float:
        written, read = usage.cache_creation_input_tokens or 0, usage.cache_read_input_tokens or 0
        tokens = (
            usage.input_tokens + written * self.cache_write_multiplier + read * self.cache_read_multiplier
        )
        return (tokens * self.input_per_mtok + usage.output_tokens * self.output_per_mtok) / 1_000_000


@dataclass(frozen=True)
class Outcome:
    """What asking (or the cache) gave for one distinct document. Tokens: everything the model read."""

    answer: Answer | None
    error: str | None = None
    input_tokens: int | None = 0
    output_tokens: int | None = 0
    cost_usd: float | None = 0.0


def malformed(exc: ValidationError) -> str:
    """Which fields broke the schema, never their values (they may echo the lead's text)."""
    parts = [f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()[:4]]
    return "malformed answer: " + "; ".join(parts)


class ClaudeModel:
    """Claude as a Model. `client` carries the API key, base URL, per-request timeout and SDK retries
    (429, 529 and 5xx are retried by the SDK, honouring retry-after)."""

    def __init__(
        self,
        client: anthropic.Anthropic,
        model: str = DEFAULT_MODEL,
        store: Store | None = None,
        max_concurrency: int = 8,
        prices: Prices | None = None,
        max_tokens: int = 1024,
    ) -> None:
        self.client, self.model, self.store = client, model, store
        self.max_concurrency, self.max_tokens = max(1, max_concurrency), max_tokens
        self.prices = prices or Prices()
        self.name = model

    def __repr__(self) -> str:  # the client (and its key) stays out of every repr
        return f"ClaudeModel(model={self.model!r}, max_concurrency={self.max_concurrency})"

    def classify(self, leads: pd.DataFrame, deadline_s: float | None = None) -> pd.DataFrame:
        """ANSWER_COLUMNS on leads.index; returns by deadline_s, leaving unanswered leads with error 'deadline'.
        A document's tokens and cost go on its first row only, so the column sums to what was billed."""
        deadline_at = None if deadline_s is None else time.monotonic() + deadline_s
        if leads.empty:
            return empty_answers(leads.index, self.name)
        documents = lead_documents(leads)
        keys = documents.map(self.cache_key)
        first = ~keys.duplicated()
        distinct = dict(zip(keys[first], documents[first], strict=True))
        outcomes = self._cached(list(distinct))
        outcomes |= self._ask_all({k: d for k, d in distinct.items() if k not in outcomes}, deadline_at)
        errors = Counter(o.error for o in outcomes.values() if o.error)
        if errors:  # one line per batch, not one per lead of an outage
            error, times = errors.most_common(1)[0]
            log.warning(
                "claude left %d of %d leads unanswered (%dx %s)", errors.total(), len(distinct), times, error
            )
        return self._frame(leads.index, keys, first, outcomes)

    def cache_key(self, document: str) -> str:
        return hashlib.sha256(f"{self.model}\n{PROMPT_VERSION}\n{document}".encode()).hexdigest()

    def _ask_all(self, pending: dict[str, str], deadline_at: float | None) -> dict[str, Outcome]:
        if not pending:
            return {}
        pool = ThreadPoolExecutor(min(self.max_concurrency, len(pending)), thread_name_prefix="claude")
        futures = {pool.submit(self._ask, key, doc, deadline_at): key for key, doc in pending.items()}
        timeout = None if deadline_at is None else max(0.0, deadline_at - time.monotonic())
        done, _ = wait(futures, timeout=timeout)
        # never wait for stragglers: queued requests are dropped, running ones end by their own timeout
        pool.shutdown(wait=False, cancel_futures=True)
        return {
            key: f.result() if f in done else Outcome(None, DEADLINE, None, None, None)
            for f, key in futures.items()
        }

    def _ask(self, key: str, document: str, deadline_at: float | None) -> Outcome:
        """One request for one lead: a lead's injected text can never reach another lead's answer."""
        if deadline_at is not None and time.monotonic() >= deadline_at:
            return Outcome(None, DEADLINE, None, None, None)
        try:
            message = self.client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                system=[{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}],
                tools=[TOOL],
                tool_choice={"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
                messages=[{"role": "user", "content": user_turn(document)}],
                timeout=self._timeout(deadline_at),
            )
            outcome = self._read(message)
        except Exception as exc:  # a slow service or a bad lead must not fail the batch
            outcome = Outcome(None, self._describe(exc))
        if outcome.answer is not None:
            self._remember(key, outcome)  # also when the deadline passed: a paid answer is kept for next time
        return outcome

    def _timeout(self, deadline_at: float | None) -> float | anthropic.NotGiven:
        """The client's per-request timeout, cut so that every SDK retry still ends by the deadline: a request
        the batch stopped waiting for does not run on (and bill) long after it."""
        if deadline_at is None:
            return anthropic.NOT_GIVEN
        left = max((deadline_at - time.monotonic()) / (self.client.max_retries + 1), 0.05)
        configured = self.client.timeout
        read = configured if isinstance(configured, int | float) else getattr(configured, "read", None)
        return min(read, left) if read else left

    def _read(self, message: anthropic.types.Message) -> Outcome:
        usage = message.usage
        read = (
            usage.input_tokens
            + (usage.cache_creation_input_tokens or 0)
            + (usage.cache_read_input_tokens or 0)
        )
        billed = {
            "input_tokens": read,
            "output_tokens": usage.output_tokens,
            "cost_usd": self.prices.cost(usage),
        }
        call = next((b for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME), None)
        if call is None:
            return Outcome(
                None, f"malformed answer: no {TOOL_NAME} call (stop_reason {message.stop_reason})", **billed
            )
        try:
            return Outcome(Answer.model_validate(call.input), **billed)
        except ValidationError as exc:
            return Outcome(None, malformed(exc), **billed)

    def _describe(self, exc: Exception) -> str:
        if isinstance(exc, anthropic.APITimeoutError):
            text = "timeout"
        elif isinstance(exc, anthropic.APIConnectionError):
            text = "connection error"
        elif isinstance(exc, anthropic.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            text = f"HTTP {exc.status_code} {error.get('type', '')}: {error.get('message', '')}".strip()
        else:
            text = f"{type(exc).__name__}: {exc}"
        return self._scrub(f"claude unavailable: {text}")[:300]

    def _scrub(self, text: str) -> str:
        key = getattr(self.client, "api_key", None)
        if key and len(key) >= 8:
            text = text.replace(key, "[redacted]")
        return _SECRET_LIKE.sub("[redacted]", text)

    def _cached(self, keys: list[str]) -> dict[str, Outcome]:
        """Answers already paid for: they cost this decision nothing."""
        if self.store is None or not keys:
            return {}
        found: dict[str, Outcome] = {}
        try:
            for key, answer in model_answers.cached_answers(self.store, keys):
                try:
                    found[key] = Outcome(Answer.model_validate(answer))
                except ValidationError:  # a row the schema no longer accepts is asked again
                    continue
        except SQLAlchemyError as exc:  # the cache saves money; it never blocks classification
            log.warning("answer cache unavailable: %s", type(exc).__name__)
        return found

    def _remember(self, key: str, outcome: Outcome) -> None:
        if self.store is None or outcome.answer is None:
            return
        try:
            model_answers.remember_answer(
                self.store,
                key,
                self.model,
                outcome.answer.model_dump(mode="json"),
                outcome.input_tokens or 0,
                outcome.output_tokens or 0,
                outcome.cost_usd or 0.0,
            )
        except Exception as exc:  # the cache saves money; it never costs an answer
            log.warning("could not cache a claude answer: %s", type(exc).__name__)

    def _frame(
        self, index: pd.Index, keys: pd.Series, first: pd.Series, outcomes: dict[str, Outcome]
    ) -> pd.DataFrame:
        out = empty_answers(index, self.name)
        rows = [outcomes[k] for k in keys]
        answers = [o.answer.model_dump(mode="json") if o.answer else {} for o in rows]
        for field in ("tier", "category", "urgency", "confidence", "rationale", "brief"):
            out[field] = [a.get(field, pd.NA) for a in answers]
        billed = first.to_numpy()
        for field in ("input_tokens", "output_tokens", "cost_usd"):
            values = [getattr(o, field) for o in rows]
            out[field] = [pd.NA if v is None else v if b else 0 for v, b in zip(values, billed, strict=True)]
        out["error"] = [o.error if o.error else pd.NA for o in rows]
        return out.astype(ANSWER_COLUMNS)
