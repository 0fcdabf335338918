"""What leadrouter knows about each Claude model: its prices, its smallest cacheable prefix, its output limit and
the request settings it rejects. One table, keyed by the model id the API takes, with where each figure came from.

An unknown model id has no entry: its cost is unknown (never a guess) and the local Messages API rejects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # the SDK costs a second to import; a command that never calls Claude skips it
    import anthropic

CHECKED = "2026-12-05"
PRICING_SOURCE = "platform.claude.com/docs/en/about-claude/pricing and each model's page"
CACHE_SOURCE = (
    "platform.claude.com/docs/en/build-with-claude/prompt-caching; where sources disagree (Sonnet 4.6: 1,024 "
    "documented, 2,048 observed in anthropic-sdk-python#1194) or say nothing, the conservative 2,048"
)
# a classifier needs speed and a forced tool call: Haiku 4.5 is current, takes tool_choice {"type": "tool"} and
# runs without thinking unless asked (Sonnet 5.5 and Opus 5.5 reject a forced tool choice)
DEFAULT_MODEL = "claude-haiku-4-5"


class Prices(BaseModel):
    """USD per million tokens; cache writes are 5-minute writes (the only TTL the adapter asks for)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cache_write_per_mtok: float = Field(ge=0)
    cache_read_per_mtok: float = Field(ge=0)

    def cost(self, usage: anthropic.types.Usage) -> float:
        """What a response's usage cost, in USD."""
        written, read = usage.cache_creation_input_tokens or 0, usage.cache_read_input_tokens or 0
        return (
            usage.input_tokens * self.input_per_mtok
            + written * self.cache_write_per_mtok
            + read * self.cache_read_per_mtok
            + usage.output_tokens * self.output_per_mtok
        ) / 1_000_000


@dataclass(frozen=True)
class ModelFacts:
    model: str
    prices: Prices
    cache_min_tokens: int  # a cache_control prefix shorter than this is silently not cached
    max_output_tokens: int
    forced_tool_choice: bool = True  # tool_choice "tool" / "any" accepted
    sampling: bool = True  # temperature, top_p, top_k accepted (newer models answer 400 to non-defaults)
    note: str = ""


def _prices(inp: float, out: float, write: float, read: float) -> Prices:
    return Prices(
        input_per_mtok=inp, output_per_mtok=out, cache_write_per_mtok=write, cache_read_per_mtok=read
    )


_HAIKU_45 = _prices(1, 5, 1.25, 0.10)
_SONNET_4 = _prices(3, 15, 3.75, 0.30)
_OPUS_45 = _prices(5, 25, 6.25, 0.50)
_SONNET_5 = _prices(2, 10, 2.50, 0.20)
_FACTS = [
    ModelFacts("claude-haiku-4-5", _HAIKU_45, 4096, 64_000),
    ModelFacts("claude-haiku-4-5-20251001", _HAIKU_45, 4096, 64_000),
    ModelFacts("claude-sonnet-4-5", _SONNET_4, 1024, 64_000, note="deprecated: end of life 2026-11-30"),
    ModelFacts(
        "claude-sonnet-4-5-20250929", _SONNET_4, 1024, 64_000, note="deprecated: end of life 2026-11-30"
    ),
    ModelFacts("claude-sonnet-4-6", _SONNET_4, 2048, 64_000, note="legacy"),
    ModelFacts("claude-opus-4-5", _OPUS_45, 4096, 64_000, note="deprecated: end of life 2027-01-22"),
    ModelFacts("claude-opus-4-5-20251101", _OPUS_45, 4096, 64_000, note="deprecated: end of life 2027-01-22"),
    ModelFacts("claude-opus-4-6", _OPUS_45, 4096, 128_000),
    ModelFacts("claude-opus-4-7", _OPUS_45, 2048, 128_000),
    ModelFacts("claude-opus-4-8", _OPUS_45, 1024, 128_000),
    ModelFacts("claude-opus-5", _OPUS_45, 512, 128_000, sampling=False),
    ModelFacts("claude-sonnet-5", _SONNET_5, 1024, 128_000, sampling=False, note="legacy"),
    # cache reads: $0.10 in the migration guide, $0.20 on the model page; the higher figure is kept
    ModelFacts("claude-sonnet-5-5", _SONNET_5, 2048, 128_000, forced_tool_choice=False, sampling=False),
    ModelFacts(
        "claude-opus-5-5", _prices(4, 20, 5, 0.20), 2048, 128_000, forced_tool_choice=False, sampling=False
    ),
    ModelFacts("claude-fable-5", _prices(10, 50, 12.5, 1), 512, 128_000, sampling=False),
    ModelFacts("claude-fable-5-1", _prices(10, 50, 12.5, 0.25), 512, 128_000, sampling=False),
]
MODELS: dict[str, ModelFacts] = {f.model: f for f in _FACTS}


def facts(model: str) -> ModelFacts | None:
    """The table's entry for a model id, or None for a model it does not know."""
    return MODELS.get(model)


def describe(model: str, prices: Prices | None = None) -> list[str]:
    """The model, the prices used for the cost ledger (`prices` when configured, else the table's) and the cache
    minimum, as lines a person reads."""
    known = facts(model)
    if known is None and prices is None:
        return [
            f"claude model: {model} (not in the price table: its cost is recorded as unknown)",
            f"price table: {PRICING_SOURCE}, checked {CHECKED}",
        ]
    p = prices or known.prices
    origin = "set on the ClaudeConnection block" if prices else f"{PRICING_SOURCE}, checked {CHECKED}"
    lines = [
        f"claude model: {model}" + (f" ({known.note})" if known and known.note else ""),
        f"prices (USD per million tokens): input {p.input_per_mtok:g}, output {p.output_per_mtok:g}, "
        f"cache write {p.cache_write_per_mtok:g}, cache read {p.cache_read_per_mtok:g} ({origin})",
    ]
    if known is None:
        return [*lines, "cache minimum: unknown (the model is not in the table)"]
    return [
        *lines,
        f"cache minimum: {known.cache_min_tokens:,} tokens of tools + system prompt ({CACHE_SOURCE})",
    ]
