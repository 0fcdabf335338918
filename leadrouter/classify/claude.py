"""ClaudeModel: the Model protocol over Anthropic's Messages API, through the anthropic SDK.

One request per distinct lead document, a strict tool for the answer (forced where the model allows it), a
cached prompt prefix, bounded concurrency, an overall deadline, and a persistent answer cache so identical lead
texts are never billed twice. The lead's text is data: it is delimited, the delimiter cannot be closed from
inside it, and whatever the model answers is checked against the Answer schema (and afterwards by the guards).
What is asked is in leadrouter.classify.prompt; how a response is read, in leadrouter.classify.reading; prices
and limits per model, in leadrouter.classify.catalog.

Retries are ours, not the SDK's (its client is used with max_retries=0): the SDK sleeps out any retry-after,
however long, and would send a billed request after the deadline. Here a retry is sent only while the wait
(retry-after, or backoff) fits in the time left, and never for a spend limit or a bad key.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait

import anthropic
import pandas as pd
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from leadrouter.classify import catalog
from leadrouter.classify.catalog import DEFAULT_MODEL, Prices
from leadrouter.classify.model import (
    ANSWER_COLUMNS,
    AUTH_STOPPED,
    SPEND_STOPPED,
    Answer,
    empty_answers,
    lead_documents,
)
from leadrouter.classify.prompt import PROMPT_VERSION, request
from leadrouter.classify.reading import (
    DEADLINE,
    TRUNCATED,
    UNAVAILABLE,
    Outcome,
    not_asked,
    read_message,
)
from leadrouter.store import model_answers
from leadrouter.store.engine import Store

__all__ = ["DEADLINE", "DEFAULT_MODEL", "ClaudeModel", "Prices"]

log = logging.getLogger(__name__)

_SECRET_LIKE = re.compile(r"sk-ant-[\w-]+")
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.5, 8.0  # the SDK's own backoff, used when no retry-after is given
MIN_ATTEMPT_S = 0.05  # a request with less time than this left is not worth sending


def _error_code(exc: anthropic.APIStatusError) -> tuple[str, str, str]:
    """(type, message, details.error_code) of an API error body."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    return str(error.get("type", "")), str(error.get("message", "")), str(details.get("error_code", ""))


def halting(exc: Exception) -> str | None:
    """The outcome of an error no retry and no other lead can get past (a spend or usage limit, a bad or
    unauthorised key), else None."""
    if not isinstance(exc, anthropic.APIStatusError):
        return None
    _, message, code = _error_code(exc)
    if code == "enforced_spend_limit_reached" or message.startswith("You have reached your specified"):
        return SPEND_STOPPED
    return AUTH_STOPPED if exc.status_code in (401, 403) else None


def retryable(exc: Exception) -> bool:
    """What the SDK would retry (timeouts, dropped connections, 408, 409, 429, 5xx), less what halts."""
    if isinstance(exc, anthropic.APIConnectionError):  # APITimeoutError included
        return True
    if isinstance(exc, anthropic.APIStatusError):
        return not halting(exc) and (exc.status_code in (408, 409, 429) or exc.status_code >= 500)
    return False


def retry_wait(exc: Exception, attempt: int) -> float:
    """Seconds to wait before retry number attempt+1: the server's retry-after, else jittered backoff."""
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    try:
        if header is not None and float(header) > 0:
            return float(header)
    except ValueError:
        pass  # an HTTP date: fall back to our own backoff
    return min(FIRST_BACKOFF_S * 2**attempt, MAX_BACKOFF_S) * (1 - 0.25 * random.random())


class ClaudeModel:
    """Claude as a Model. `client` carries the API key, base URL and per-request timeout; its max_retries is the
    most retries one lead gets (each only if its wait fits before the deadline)."""

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
        self.once = client.with_options(max_retries=0)
        self.max_retries = client.max_retries
        self.max_concurrency, self.max_tokens = max(1, max_concurrency), max_tokens
        self.facts = catalog.facts(model)
        # prices given override the table; an unknown model without them has an unknown cost
        self.prices = prices or (self.facts.prices if self.facts else None)
        self.name = model
        self._halted: tuple[str, str] | None = None  # (outcome, error) of the stop every later lead gets
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # the client (and its key) stays out of every repr
        return f"ClaudeModel(model={self.model!r}, max_concurrency={self.max_concurrency})"

    def classify(self, leads: pd.DataFrame, deadline_s: float | None = None) -> pd.DataFrame:
        """ANSWER_COLUMNS on leads.index; returns by deadline_s, leaving unanswered leads with error 'deadline'.
        A document's tokens and cost go on its first row only, so the column sums to what was billed."""
        deadline_at = None if deadline_s is None else time.monotonic() + deadline_s
        if leads.empty:
            return empty_answers(leads.index, self.name)
        self._halted = None
        documents = lead_documents(leads)
        keys = documents.map(self.cache_key)
        first = ~keys.duplicated()
        distinct = dict(zip(keys[first], documents[first], strict=True))
        outcomes = self._cached(list(distinct))
        outcomes |= self._ask_all({k: d for k, d in distinct.items() if k not in outcomes}, deadline_at)
        self._log(outcomes, len(distinct))
        return self._frame(leads.index, keys, first, outcomes)

    def cache_key(self, document: str) -> str:
        return hashlib.sha256(f"{self.model}\n{PROMPT_VERSION}\n{document}".encode()).hexdigest()

    def _log(self, outcomes: dict[str, Outcome], distinct: int) -> None:
        """One line per batch, not one per lead of an outage; a halt (bad key, spend limit) said once."""
        if self._halted:
            log.error("claude stopped for this batch: %s", self._halted[1])
        errors = Counter(o.error for o in outcomes.values() if o.error)
        if errors:
            error, times = errors.most_common(1)[0]
            log.warning(
                "claude left %d of %d leads unanswered (%dx %s)", errors.total(), distinct, times, error
            )
        if self.facts and outcomes and not any(o.cache_read_tokens for o in outcomes.values()):
            written = sum(o.cache_write_tokens or 0 for o in outcomes.values())
            log.info("claude's prompt cache never hit in this batch (%d tokens written)", written)

    def _ask_all(self, pending: dict[str, str], deadline_at: float | None) -> dict[str, Outcome]:
        if not pending:
            return {}
        pool = ThreadPoolExecutor(min(self.max_concurrency, len(pending)), thread_name_prefix="claude")
        futures = {pool.submit(self._ask, key, doc, deadline_at): key for key, doc in pending.items()}
        timeout = None if deadline_at is None else max(0.0, deadline_at - time.monotonic())
        done, _ = wait(futures, timeout=timeout)
        # never wait for stragglers: queued requests are dropped, running ones end by their own timeout
        pool.shutdown(wait=False, cancel_futures=True)
        return {key: f.result() if f in done else not_asked(DEADLINE, DEADLINE) for f, key in futures.items()}

    def _ask(self, key: str, document: str, deadline_at: float | None) -> Outcome:
        """One lead, one request (a lead's injected text can never reach another lead's answer); a truncated
        answer is asked once more with twice the room, if the model allows it and time is left."""
        outcome = self._send(document, self.max_tokens, deadline_at)
        limit = self.facts.max_output_tokens if self.facts else self.max_tokens
        if outcome.outcome == TRUNCATED and self.max_tokens < limit:
            again = self._send(document, min(2 * self.max_tokens, limit), deadline_at)
            if again.outcome != DEADLINE:  # a retry that could not be sent leaves the truncation as it was
                outcome = again.plus(outcome)
        if outcome.answer is not None:
            self._remember(key, outcome)  # also when the deadline passed: a paid answer is kept for next time
        return outcome

    def _send(self, document: str, max_tokens: int, deadline_at: float | None) -> Outcome:
        """One request with its retries, none of them sent after the deadline."""
        for attempt in range(self.max_retries + 1):
            if self._halted:
                return not_asked(*self._halted)
            timeout = self._timeout(deadline_at)
            if timeout is not None and timeout < MIN_ATTEMPT_S:
                return not_asked(DEADLINE, DEADLINE)
            try:
                message = self.once.messages.create(
                    **request(self.model, document, max_tokens, self.facts),
                    timeout=anthropic.NOT_GIVEN if timeout is None else timeout,
                )
                return read_message(message, self.prices)
            except Exception as exc:  # a slow service or a bad lead must not fail the batch
                error = self._describe(exc)
                if stop := halting(exc):
                    with self._lock:
                        self._halted = self._halted or (stop, error)
                    return not_asked(stop, error)
                if not retryable(exc) or attempt == self.max_retries:
                    return not_asked(UNAVAILABLE, error)
                pause = retry_wait(exc, attempt)
                if deadline_at is not None and time.monotonic() + pause + MIN_ATTEMPT_S > deadline_at:
                    return not_asked(
                        UNAVAILABLE, f"{error} (not retried: a {pause:g} s wait passes the deadline)"
                    )
                time.sleep(pause)
        raise AssertionError("unreachable: the last attempt returns")

    def _timeout(self, deadline_at: float | None) -> float | None:
        """The client's per-request timeout, cut to the time left before the deadline."""
        configured = self.client.timeout
        read = configured if isinstance(configured, int | float) else getattr(configured, "read", None)
        if deadline_at is None:
            return read
        left = deadline_at - time.monotonic()
        return min(read, left) if read else left

    def _describe(self, exc: Exception) -> str:
        if isinstance(exc, anthropic.APITimeoutError):
            text = "timeout"
        elif isinstance(exc, anthropic.APIConnectionError):
            text = "connection error"
        elif isinstance(exc, anthropic.APIStatusError):
            kind, message, code = _error_code(exc)
            text = f"HTTP {exc.status_code} {kind}{f' ({code})' if code else ''}: {message}".strip()
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
                    found[key] = Outcome(Answer.model_validate(answer), outcome="cached")
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
        for field in ("input_tokens", "output_tokens", "cost_usd", "cache_write_tokens", "cache_read_tokens"):
            values = [getattr(o, field) for o in rows]
            out[field] = [pd.NA if v is None else v if b else 0 for v, b in zip(values, billed, strict=True)]
        out["error"] = [o.error if o.error else pd.NA for o in rows]
        out["outcome"] = [
            o.outcome + (f" (trimmed {', '.join(o.trimmed)})" if o.trimmed else "") for o in rows
        ]
        return out.astype(ANSWER_COLUMNS)
