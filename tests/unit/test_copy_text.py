"""The ledger's column conversion (driver values, COPY text, decision stamps) gives exactly what the per-value
code it replaced gave: verbatim copies of that code are the reference, on generated columns that repeat values,
objects and equal values of different text (0.0 and -0.0, one instant at two offsets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from leadrouter.record import _natives, _times
from leadrouter.store.engine import json_text
from leadrouter.store.statements import NULL, copy_json, copy_text, driver_values
from leadrouter.store.tables import decisions

PG = create_engine("postgresql+psycopg://", json_serializer=json_text, json_deserializer=orjson.loads).dialect
SQLITE = create_engine("sqlite://", json_serializer=json_text, json_deserializer=orjson.loads).dialect


def old_driver_values(dialect, name: str, values: list) -> list:
    """insert_columns' conversion before: every value through its column type's bind processor."""
    process = decisions.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    return list(map(process, values)) if process else values


def old_copy_text(values: list, serialize: Callable[[object], str]) -> list[str] | None:
    """copy_text before, verbatim."""
    kinds = {type(v) for v in values} - {type(None)}
    if not kinds:
        return [NULL] * len(values)
    if len(kinds) > 1:
        return None
    kind = kinds.pop()
    if kind is str:
        render: Callable[[Any], str] = old_escaped
    elif kind is bool:
        render = lambda v: "t" if v else "f"  # noqa: E731
    elif kind is int or kind is float:
        render = repr
    elif kind is datetime:
        render = datetime.isoformat
    elif kind.__module__ == "psycopg.types.json":  # Json / Jsonb: SQLAlchemy's JSON bind, not yet dumped
        render = lambda v: old_escaped((v.dumps or serialize)(v.obj))  # noqa: E731
    else:
        return None
    return [NULL if v is None else render(v) for v in values]


def encoded(texts: list[str] | None) -> list[bytes] | None:
    """COPY text as copy_rows sends it: UTF-8."""
    return None if texts is None else [text.encode() for text in texts]


def old_escaped(text: str) -> str:
    """statements.escaped before, verbatim."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def old_times(frame: pd.DataFrame, name: str) -> list:
    """record._times before, verbatim."""
    if name not in frame:
        return [None] * len(frame)
    times = pd.to_datetime(frame[name], utc=True)
    return np.where(times.notna(), times.dt.to_pydatetime(), None).tolist()


TEXT = st.text(
    st.sampled_from(["a", "ü", "日", "\t", "\n", "\r", "\\", "N", '"', " ", "\x00", "😀"]), max_size=6
)
INSTANT = datetime(2026, 12, 5, 4, 0, 0, 123456, tzinfo=UTC)
# pools of shared objects: a column repeats objects, and equal values whose text differs
STAMPS = [
    INSTANT,
    INSTANT.astimezone(timezone(timedelta(hours=1))),
    datetime(2026, 1, 2, 3, 4, 5),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
]
COLUMNS: dict[str, st.SearchStrategy] = {
    "pool": TEXT,
    "priority": st.integers(-(2**40), 2**40),
    "confidence": st.sampled_from([0.0, -0.0, 1.5, float("nan"), float("inf")]) | st.floats(),
    "shadow": st.booleans(),
    "lead_created_at": st.sampled_from(STAMPS) | st.datetimes(timezones=st.just(UTC)),
    # integers within orjson's 64 bits: a larger one fails before as now (TypeError)
    "explanation": st.dictionaries(
        TEXT, st.none() | st.integers(-(2**63), 2**64 - 1) | st.floats() | TEXT, max_size=3
    ),
}


def columns_of(name: str) -> st.SearchStrategy[list]:
    """A column of the kind: a few distinct objects (and None) repeated, or as many as rows."""
    value = st.none() | COLUMNS[name]
    repeated = st.lists(value, min_size=1, max_size=4).flatmap(
        lambda pool: st.lists(st.sampled_from(pool), max_size=30)
    )
    return repeated | st.lists(value, max_size=30)


@pytest.mark.parametrize("name", list(COLUMNS))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_copy_text_of_driver_values_is_the_text_before(name: str, data: st.DataObject) -> None:
    values = data.draw(columns_of(name))
    old = old_copy_text(old_driver_values(PG, name, values), json_text)
    assert copy_text(driver_values(PG, decisions.c[name].type, values)) == encoded(old)


@pytest.mark.parametrize("name", list(COLUMNS))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_sqlite_driver_values_are_the_values_before(name: str, data: st.DataObject) -> None:
    values = data.draw(columns_of(name))
    new = driver_values(SQLITE, decisions.c[name].type, values)
    old = old_driver_values(SQLITE, name, values)
    assert list(map(repr, new)) == list(map(repr, old))  # repr: nan, and 0.0 against -0.0


# any text JSON may carry: every control character, line and paragraph separators, backslashes, NUL, emoji
JSON_TEXT = TEXT | st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_TEXT, inner, max_size=3),
    max_leaves=10,
)


@pytest.mark.parametrize("name", ["explanation", "custom_fields"])
@settings(max_examples=300, deadline=None)
@given(values=st.lists(JSON_VALUE, max_size=20))
def test_copy_json_of_driver_values_is_the_text_before(name: str, values: list) -> None:
    texts = driver_values(PG, decisions.c[name].type, values)
    assert copy_json(values) == encoded(old_copy_text(old_driver_values(PG, name, values), json_text))
    assert copy_json(values) == copy_text(texts)  # the JSON text, escaped as any text is


def test_json_columns_are_the_serialisers_text_and_none_is_json_null() -> None:
    values = [{"b": 1, "a": [None, "ü\x00"]}, None, {}]
    texts = driver_values(PG, decisions.c.explanation.type, values)
    assert texts == ['{"b":1,"a":[null,"ü\\ufffd"]}', "null", "{}"]
    assert [json.loads(t) for t in texts] == [{"b": 1, "a": [None, "ü\ufffd"]}, None, {}]


def test_mixed_kinds_and_unknown_kinds_are_left_to_psycopg() -> None:
    assert copy_text([1, 0.5]) is None
    assert copy_text([pd.Timestamp(INSTANT)]) is None  # a datetime subclass
    assert copy_text([None, None]) == [NULL.encode(), NULL.encode()]
    assert copy_text([]) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.none() | st.sampled_from(STAMPS[:2] + STAMPS[3:]) | st.datetimes(timezones=st.just(UTC))))
def test_decision_stamps_are_the_stamps_before(stamps: list) -> None:
    frame = pd.DataFrame({"at": pd.Series(stamps, dtype=object)})
    new, old = _times(frame, "at"), old_times(frame, "at")
    assert new == old
    assert [getattr(t, "tzinfo", None) for t in new] == [getattr(t, "tzinfo", None) for t in old]
    assert _times(frame, "missing") == [None] * len(frame)


def old_natives(column: pd.Series) -> list:
    """record._natives before, verbatim."""
    values = column.astype(object).where(column.notna(), None).to_numpy(dtype=object)
    if column.dtype == object:  # an object column may hold numpy scalars: JSON wants Python ones
        return [v.item() if isinstance(v, np.generic) else v for v in values]
    return values.tolist()


# the dtypes an explanation's facts come in (text, masked and numpy numbers, flags, stamps, categories)
DTYPES = {
    "string": st.none() | TEXT,
    "str": st.none() | TEXT,
    "string[pyarrow]": st.none() | TEXT,
    "Float64": st.none() | st.floats(),
    "float64": st.none() | st.floats(),
    "float32": st.floats(width=32),
    "Int64": st.none() | st.integers(-(2**62), 2**62),
    "int64": st.integers(-(2**62), 2**62),
    "boolean": st.none() | st.booleans(),
    "bool": st.booleans(),
    "datetime64[ns, UTC]": st.none() | st.sampled_from(STAMPS[:2] + STAMPS[3:]),
    "category": st.none() | st.sampled_from(["VIP", "ü", ""]),
    "object": st.none()
    | TEXT
    | st.floats()
    | st.sampled_from([np.int64(3), np.float64(0.5), np.bool_(True), {}]),
}


@pytest.mark.parametrize("dtype", list(DTYPES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_natives_are_the_values_before(dtype: str, data: st.DataObject) -> None:
    column = pd.Series(data.draw(st.lists(DTYPES[dtype], max_size=12)), dtype=dtype)
    new, old = _natives(column), old_natives(column)
    assert list(map(type, new)) == list(map(type, old))
    assert list(map(repr, new)) == list(map(repr, old))  # repr: nan, -0.0
