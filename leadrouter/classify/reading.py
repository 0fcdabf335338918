"""Reading one Messages API response: its stop reason decides the outcome, its usage the bill, and its tool call
the answer, kept whenever it is right in kind.

Strict tool use guarantees the answer's shape (fields, types, enums) but not `maxLength`, `minimum` or `maximum`,
which the SDK moves into the descriptions. A paid answer is therefore not thrown away for a long rationale or a
confidence of 1.02: text is trimmed (and marked with an ellipsis), numbers are clamped. Malformed means wrong in
kind: a missing field, an unknown tier, an extra field such as an owner, no tool call at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pydantic import ValidationError

from leadrouter.classify.catalog import Prices
from leadrouter.classify.model import Answer
from leadrouter.classify.prompt import TOOL_NAME

if TYPE_CHECKING:  # the SDK costs a second to import; a command that never calls Claude skips it
    import anthropic

# outcomes, one per stop reason the adapter acts on; any other stop reason is named as it is
ANSWERED, TRUNCATED, REFUSED, MALFORMED = "answered", "truncated", "refused", "malformed"
UNAVAILABLE, DEADLINE = "unavailable", "deadline"
MARK = "…"


@dataclass(frozen=True)
class Outcome:
    """What asking (or the answer cache) gave for one distinct document. input_tokens: everything the model read
    (plain + cache writes + cache reads); cost_usd None when the model's prices are unknown."""

    answer: Answer | None
    error: str | None = None
    outcome: str = ANSWERED
    input_tokens: int | None = 0
    output_tokens: int | None = 0
    cost_usd: float | None = 0.0
    cache_write_tokens: int | None = 0
    cache_read_tokens: int | None = 0
    trimmed: tuple[str, ...] = ()

    def plus(self, earlier: Outcome) -> Outcome:
        """This outcome with an earlier attempt's bill added (a truncated answer was paid for too)."""

        def add(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else a + b

        return replace(
            self,
            input_tokens=add(self.input_tokens, earlier.input_tokens),
            output_tokens=add(self.output_tokens, earlier.output_tokens),
            cost_usd=add(self.cost_usd, earlier.cost_usd),
            cache_write_tokens=add(self.cache_write_tokens, earlier.cache_write_tokens),
            cache_read_tokens=add(self.cache_read_tokens, earlier.cache_read_tokens),
        )


def not_asked(outcome: str, error: str) -> Outcome:
    """No answer and no bill: an error response costs nothing; past the deadline, what a request still running
    will cost is unknown."""
    n = None if outcome == DEADLINE else 0
    return Outcome(None, error, outcome, n, n, n, n, n)


def malformed(exc: ValidationError) -> str:
    """Which fields broke the schema, never their values (they may echo the lead's text)."""
    parts = [f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()[:4]]
    return "malformed answer: " + "; ".join(parts)


def _limits() -> tuple[dict[str, int], dict[str, tuple[float, float]]]:
    """maxLength of each text field and (minimum, maximum) of each number, read from the Answer schema."""
    lengths, ranges = {}, {}
    for name, field in Answer.model_fields.items():
        meta = {type(m).__name__: m for m in field.metadata}
        if "MaxLen" in meta:
            lengths[name] = meta["MaxLen"].max_length
        if "Ge" in meta and "Le" in meta:
            ranges[name] = (meta["Ge"].ge, meta["Le"].le)
    return lengths, ranges


MAX_LENGTHS, RANGES = _limits()


def within_limits(raw: object) -> tuple[object, tuple[str, ...]]:
    """The tool input with over-long text cut (ending in MARK) and numbers clamped; and the fields changed.
    Anything not a dict, or a field of the wrong type, is left for validation to reject."""
    if not isinstance(raw, dict):
        return raw, ()
    fixed, changed = dict(raw), []
    for name, limit in MAX_LENGTHS.items():
        text = fixed.get(name)
        if isinstance(text, str) and len(text) > limit:
            fixed[name], _ = text[: limit - len(MARK)] + MARK, changed.append(name)
    for name, (low, high) in RANGES.items():
        value = fixed.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and not low <= value <= high:
            fixed[name], _ = min(max(value, low), high), changed.append(name)
    return fixed, tuple(changed)


def billed(usage: anthropic.types.Usage, prices: Prices | None) -> dict:
    """A response's tokens and cost as Outcome fields."""
    written, read = usage.cache_creation_input_tokens or 0, usage.cache_read_input_tokens or 0
    return {
        "input_tokens": usage.input_tokens + written + read,
        "output_tokens": usage.output_tokens,
        "cost_usd": None if prices is None else prices.cost(usage),
        "cache_write_tokens": written,
        "cache_read_tokens": read,
    }


def read_message(message: anthropic.types.Message, prices: Prices | None) -> Outcome:
    """The outcome of one response, by its stop reason."""
    bill = billed(message.usage, prices)
    stop = message.stop_reason
    if stop == "max_tokens":
        return Outcome(None, "truncated: the answer reached max_tokens", TRUNCATED, **bill)
    if stop == "refusal":
        details = message.stop_details
        why = (details.category or "no category") if details else "no details"
        if details and details.explanation:
            why += f": {details.explanation[:200]}"  # Anthropic's words about the refusal, cut
        return Outcome(None, f"refused ({why})", REFUSED, **bill)
    call = next((b for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME), None)
    if stop != "tool_use" or call is None:
        return Outcome(None, f"no {TOOL_NAME} call (stop_reason {stop})", f"stop_reason {stop}", **bill)
    fixed, trimmed = within_limits(call.input)
    try:
        return Outcome(Answer.model_validate(fixed), trimmed=trimmed, **bill)
    except ValidationError as exc:
        return Outcome(None, malformed(exc), MALFORMED, **bill)
