"""The model answer cache: one paid answer per distinct model input, with what it cost."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from leadrouter import clock
from leadrouter.store.engine import Store
from leadrouter.store.statements import insert_ignoring_duplicates
from leadrouter.store.tables import model_answers

LOOKUP_CHUNK = 5_000  # keys per query (SQLite binds at most 32766 parameters)


def cached_answers(store: Store, keys: list[str]) -> Iterator[tuple[str, dict]]:
    """(key, answer) of the keys already answered, read a chunk of keys at a time."""
    with store.engine.connect() as conn:
        for start in range(0, len(keys), LOOKUP_CHUNK):
            part = keys[start : start + LOOKUP_CHUNK]
            query = select(model_answers.c.key, model_answers.c.answer).where(model_answers.c.key.in_(part))
            yield from conn.execute(query).tuples()


def remember_answer(
    store: Store, key: str, model: str, answer: dict, input_tokens: int, output_tokens: int, cost_usd: float
) -> None:
    """Keep a paid answer and its cost; a key already stored keeps its first answer."""
    row = {
        "key": key,
        "model": model,
        "answer": answer,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": cost_usd,
        "created_at": clock.now(),
    }
    with store.transaction() as conn:
        conn.execute(insert_ignoring_duplicates(store, model_answers), row)
