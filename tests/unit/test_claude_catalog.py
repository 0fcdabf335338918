"""The Claude price table and the reading of a response: prices per model with their source, an unknown model's
cost unknown, the default a current model of the installed SDK, answers trimmed and clamped to the schema."""

from __future__ import annotations

import typing

import anthropic
import pytest
from anthropic._data.deprecated_models import DEPRECATED_MODELS
from anthropic.types.model_param import ModelParam

from leadrouter.classify import catalog
from leadrouter.classify.reading import billed, within_limits


def usage(**counts: int) -> anthropic.types.Usage:
    return anthropic.types.Usage(
        **{
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        | counts
    )


def test_the_default_is_a_current_model_of_the_installed_sdk() -> None:
    sdk_models = typing.get_args(typing.get_args(ModelParam)[0])
    assert catalog.DEFAULT_MODEL in sdk_models and catalog.DEFAULT_MODEL not in DEPRECATED_MODELS
    assert catalog.facts(catalog.DEFAULT_MODEL).forced_tool_choice  # the adapter forces its tool
    assert set(catalog.MODELS) <= set(sdk_models)  # the table prices only models the SDK knows


def test_deprecated_models_are_marked_so() -> None:
    for model in set(DEPRECATED_MODELS) & set(catalog.MODELS):
        assert catalog.MODELS[model].note.startswith("deprecated"), model


def test_cost_follows_the_models_prices() -> None:
    haiku = catalog.facts("claude-haiku-4-5").prices
    spent = usage(
        input_tokens=1_000, output_tokens=200, cache_creation_input_tokens=4_000, cache_read_input_tokens=0
    )
    assert haiku.cost(spent) == pytest.approx((1_000 * 1 + 4_000 * 1.25 + 200 * 5) / 1e6)
    read = usage(input_tokens=100, output_tokens=100, cache_read_input_tokens=4_000)
    assert haiku.cost(read) == pytest.approx((100 * 1 + 4_000 * 0.10 + 100 * 5) / 1e6)


def test_an_unknown_models_cost_is_unknown_never_a_guess() -> None:
    assert catalog.facts("claude-imaginary-9") is None
    bill = billed(usage(input_tokens=10, output_tokens=5, cache_read_input_tokens=7), None)
    assert bill == {"input_tokens": 17, "output_tokens": 5, "cost_usd": None, "cache_write_tokens": 0,
                    "cache_read_tokens": 7}  # fmt: skip
    lines = catalog.describe("claude-imaginary-9")
    assert (
        lines[0]
        == "claude model: claude-imaginary-9 (not in the price table: its cost is recorded as unknown)"
    )


def test_model_info_names_prices_source_and_cache_minimum() -> None:
    lines = catalog.describe("claude-haiku-4-5")
    assert lines[0] == "claude model: claude-haiku-4-5"
    assert lines[1].startswith(
        "prices (USD per million tokens): input 1, output 5, cache write 1.25, cache read 0.1"
    )
    assert catalog.CHECKED in lines[1] and lines[2].startswith("cache minimum: 4,096 tokens")


def test_model_info_shows_the_prices_configured_on_the_block_when_set() -> None:
    own = catalog.Prices(input_per_mtok=2, output_per_mtok=8, cache_write_per_mtok=4, cache_read_per_mtok=0.2)
    lines = catalog.describe("claude-sonnet-4-6", own)
    assert lines == [
        "claude model: claude-sonnet-4-6 (legacy)",
        "prices (USD per million tokens): input 2, output 8, cache write 4, cache read 0.2 (set on the "
        "ClaudeConnection block)",
        lines[2],
    ]
    assert lines[2].startswith("cache minimum: 2,048 tokens")
    private = catalog.describe("claude-private-1", own)
    assert private[0] == "claude model: claude-private-1"
    assert private[2] == "cache minimum: unknown (the model is not in the table)"


def test_over_long_text_is_trimmed_and_numbers_clamped_but_kinds_untouched() -> None:
    raw = {"tier": "VIP", "rationale": "r" * 401, "brief": "b" * 600, "confidence": 1.02}
    fixed, changed = within_limits(raw)
    assert changed == ("rationale", "confidence")
    assert fixed["rationale"] == "r" * 399 + "…" and fixed["brief"] == "b" * 600 and fixed["confidence"] == 1
    assert within_limits({"confidence": "high", "rationale": 5}) == (
        {"confidence": "high", "rationale": 5},
        (),
    )
    assert within_limits({"confidence": -0.5})[0] == {"confidence": 0}
    assert within_limits(["not", "a", "dict"]) == (["not", "a", "dict"], ())
