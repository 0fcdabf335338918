"""pipeline.local_answer, what `rules explain` shows when no rule decides (the answering model: test_rules_commands)."""

from __future__ import annotations

import pandas as pd

from leadrouter.classify.rules import load_rulebook
from leadrouter.config import Settings
from leadrouter.pipeline import local_answer, warm_up


def test_no_answer_when_the_settings_turn_the_model_off() -> None:
    settings = Settings(model="none")
    book = load_rulebook(settings.rulebook_path)
    assert local_answer(pd.DataFrame({"lead_id": ["y"]}), book, settings) is None


def test_warming_up_loads_great_expectations_and_the_language_model() -> None:
    from leadrouter.enrich.language import language_model
    from leadrouter.validate.gx import _batch_definition

    language_model.cache_clear()
    warm_up()
    assert _batch_definition.cache_info().currsize == 1
    assert language_model.cache_info().currsize == 1
