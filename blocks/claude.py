"""ClaudeConnection: an Anthropic API key and the limits of the Claude classifier built from it."""

from __future__ import annotations

import logging

import anthropic
from prefect.blocks.core import Block
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator

from leadrouter.classify import catalog
from leadrouter.classify.catalog import DEFAULT_MODEL, Prices
from leadrouter.classify.claude import ClaudeModel
from leadrouter.store import Store

log = logging.getLogger(__name__)

# the prices of blocks saved before issue 28: Sonnet 4.6's, with cache writes and reads as multipliers of input
OLD_PRICES = {
    "input_per_mtok": 3.0,
    "output_per_mtok": 15.0,
    "cache_write_multiplier": 1.25,
    "cache_read_multiplier": 0.1,
}
MULTIPLIERS = {
    "cache_write_multiplier": "cache_write_per_mtok",
    "cache_read_multiplier": "cache_read_per_mtok",
}
FIX = (
    "fix: save the block again with prices empty (the price table's prices for the model) or with "
    "cache_write_per_mtok and cache_read_per_mtok in USD per million tokens"
)


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

    @field_validator("prices", mode="before")
    @classmethod
    def _old_prices(cls, value: object, info: ValidationInfo) -> object:
        """A block saved with the old multiplier prices still loads: its untouched defaults are dropped (the price
        table prices the model), prices a user set are converted to USD per million tokens; a warning says which."""
        if not isinstance(value, dict) or not MULTIPLIERS.keys() & value.keys():
            return value
        model = str(info.data.get("model", DEFAULT_MODEL))
        instead = (
            f"the price table's prices for {model} are used"
            if catalog.facts(model)
            else f"{model} is not in the price table, so its cost is recorded as unknown"
        )
        old = OLD_PRICES | value
        if old == OLD_PRICES:
            log.warning(
                "ClaudeConnection.prices has the old default prices with cache_write_multiplier and "
                "cache_read_multiplier: they are ignored and %s; %s",
                instead,
                FIX,
            )
            return None
        try:
            converted = {k: v for k, v in old.items() if k not in MULTIPLIERS} | {
                new: float(old["input_per_mtok"]) * float(old[name]) for name, new in MULTIPLIERS.items()
            }
            prices = Prices.model_validate(converted)
        except (TypeError, ValueError) as exc:  # ValidationError is a ValueError
            why = (
                "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                if isinstance(exc, ValidationError)
                else str(exc)
            )
            log.warning(
                "ClaudeConnection.prices %r cannot be read (%s): it is ignored and %s; %s",
                value,
                why,
                instead,
                FIX,
            )
            return None
        log.warning(
            "ClaudeConnection.prices has cache_write_multiplier and cache_read_multiplier (the old form): read as "
            "cache_write_per_mtok %g and cache_read_per_mtok %g (input_per_mtok times each); %s",
            prices.cache_write_per_mtok,
            prices.cache_read_per_mtok,
            FIX,
        )
        return prices

    def get_model(self, store: Store | None = None) -> ClaudeModel:
        """The classifier; with a store, its answers are cached there and never billed twice."""
        client = anthropic.Anthropic(
            api_key=self.api_key.get_secret_value(),
            base_url=self.base_url,
            timeout=self.timeout_s,
            max_retries=self.max_retries,
        )
        return ClaudeModel(client, self.model, store, self.max_concurrency, self.prices, self.max_tokens)
