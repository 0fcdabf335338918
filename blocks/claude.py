"""ClaudeConnection: an Anthropic API key and the limits of the Claude classifier built from it."""

from __future__ import annotations

import anthropic
from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from leadrouter.classify.catalog import DEFAULT_MODEL, Prices
from leadrouter.classify.claude import ClaudeModel
from leadrouter.store import Store


class ClaudeConnection(Block):
    """Classify the leads no rule resolves with Claude; the local model stands behind it."""

    _block_type_name = "Claude Connection"
    _description = "Anthropic API key, model, concurrency, timeouts and prices for leadrouter's classifier."

    api_key: SecretStr = Field(
        description="An Anthropic API key (console.anthropic.com, Settings > API keys)."
    )
    base_url: str = Field(default="https://api.anthropic.com")
    model: str = Field(default=DEFAULT_MODEL, description="The Claude model id.")
    max_concurrency: int = Field(default=8, gt=0, description="Requests in flight at once.")
    timeout_s: float = Field(
        default=30.0, gt=0, description="Per-request timeout (the batch deadline also cuts it)."
    )
    max_retries: int = Field(
        default=2,
        ge=0,
        description="Retries of a 429, 529, 5xx or connection error, each only if it fits before "
        "the deadline (never for a bad key or a spend limit).",
    )
    max_tokens: int = Field(default=1024, gt=0)
    prices: Prices | None = Field(
        default=None,
        description="USD per million tokens, for the cost ledger; empty: the price table's prices for the model "
        "(leadrouter.classify.catalog), or an unknown cost for a model it does not know.",
    )

    def get_model(self, store: Store | None = None) -> ClaudeModel:
        """The classifier; with a store, its answers are cached there and never billed twice."""
        client = anthropic.Anthropic(
            api_key=self.api_key.get_secret_value(),
            base_url=self.base_url,
            timeout=self.timeout_s,
            max_retries=self.max_retries,
        )
        return ClaudeModel(client, self.model, store, self.max_concurrency, self.prices, self.max_tokens)
