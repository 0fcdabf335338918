"""Checks whose answer is known without GX (on a verdict column, a boolean that must be True; uniqueness on a column
with no value twice) are read off, not run through GX: every outcome is exactly what the old run_checks (a
verbatim copy below) got from GX, errors included."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.validate.checklist import SUITE
from leadrouter.validate.gx import (
    PER_VALUE,
    Check,
    Outcome,
    _batch_definition,
    _gx_column,
    _validate,
    _with_set_verdicts,
    distinct_rows,
    known_outcomes,
    log,
    run_checks,
)
from leadrouter.validate.prepare import prepare_leads


def _run_checks_before(data: pd.DataFrame, checks: tuple[Check, ...]) -> dict[str, Outcome]:
    """run_checks as it was, every check through GX: the reference."""
    data = _with_set_verdicts(data, checks)
    per_value = tuple(c for c in checks if c.expectation in PER_VALUE) if len(data) else ()
    compact, rows_of = distinct_rows(data, per_value)
    if len(compact) >= len(data):
        # nothing repeats (a webhook's one lead): one GX validation of the whole frame, not two of one row each
        per_value = ()
    whole = tuple(c for c in checks if c not in per_value)
    outcomes: dict[str, Outcome] = {}
    definition = _batch_definition()  # first: building a suite needs an active GX context
    if per_value:
        for name, outcome in _validate(definition, per_value, compact).items():
            if outcome.error is None:
                outcome = Outcome(len(data), rows_of[_gx_column(per_value, name)](outcome.rows))
            outcomes[name] = outcome
    if whole:
        outcomes |= _validate(definition, whole, data)
    for name, outcome in outcomes.items():
        if outcome.error:
            log.warning("validation check %s could not be evaluated: %s", name, outcome.error)
    return outcomes


LONG = tuple(f"spam{i}.tést" for i in range(10))  # a long set: checked on the verdict column it adds
TRUE = (("value_set", (True,)),)
CHECKS = (
    Check("ok_holds", "ok", "blocking", "fix", "ExpectColumnValuesToBeInSet", TRUE),
    Check("flag_holds", "flag", "warning", "fix", "ExpectColumnValuesToBeInSet", TRUE),
    Check("loose_holds", "loose", "blocking", "fix", "ExpectColumnValuesToBeInSet", TRUE),  # object: GX's
    Check("nowhere_holds", "nowhere", "blocking", "fix", "ExpectColumnValuesToBeInSet", TRUE),  # GX's error
    Check("ok_false", "ok", "warning", "fix", "ExpectColumnValuesToBeInSet", (("value_set", (False,)),)),
    Check("flag_both", "flag", "warning", "fix", "ExpectColumnValuesToBeInSet", (("value_set", (True, False)),)),
    Check("text_not_spam", "text", "blocking", "fix", "ExpectColumnValuesToNotBeInSet", (("value_set", LONG),)),
    Check("text_spam", "text", "warning", "fix", "ExpectColumnValuesToBeInSet", (("value_set", LONG),)),
    Check("text_short", "text", "warning", "fix", "ExpectColumnValuesToBeInSet", (("value_set", ("ß", "ok")),)),
    Check("text_present", "text", "blocking", "fix", "ExpectColumnValuesToNotBeNull"),
    Check("gone_not_spam", "gone", "blocking", "fix", "ExpectColumnValuesToNotBeInSet", (("value_set", LONG),)),
    Check("text_unique", "text", "blocking", "fix", "ExpectColumnValuesToBeUnique"),
    Check("code_unique", "code", "blocking", "fix", "ExpectColumnValuesToBeUnique"),
    Check("tags_unique", "tags", "warning", "fix", "ExpectColumnValuesToBeUnique"),  # lists: pandas hashes them for GX too
    Check("gone_unique", "gone", "warning", "fix", "ExpectColumnValuesToBeUnique"),
    Check("size", "size", "blocking", "fix", "ExpectColumnValuesToBeBetween", (("min_value", 0), ("max_value", 9))),
)  # fmt: skip
_TEXTS = st.one_of(
    st.none(), st.sampled_from([*LONG[:3], "ok", "ß", "漢字", "", " ", "spam9.test"]), st.text(max_size=4)
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 9))
    flags = st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)
    return pd.DataFrame(
        {
            "ok": np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
            "flag": pd.array(draw(flags), dtype="boolean"),
            "loose": pd.Series(draw(flags), dtype=object),
            "text": pd.array(draw(st.lists(_TEXTS, min_size=n, max_size=n)), dtype="string"),
            "size": pd.array(draw(st.lists(st.one_of(st.none(), st.integers(-2, 12)), min_size=n, max_size=n)),
                             dtype="Int64"),
            "code": pd.Categorical(draw(st.lists(st.one_of(st.none(), st.sampled_from("aAé漢")), min_size=n,
                                                 max_size=n))),
            "tags": pd.Series(draw(st.lists(st.one_of(st.none(), st.just("x"), st.lists(st.integers(0, 2),
                                                                                         max_size=2)),
                                            min_size=n, max_size=n)), dtype=object),
        },
        index=pd.RangeIndex(n),
    )  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(frames(), st.sets(st.integers(0, len(CHECKS) - 1), min_size=1))
def test_every_outcome_is_the_one_gx_gave(data: pd.DataFrame, picked: set[int]) -> None:
    checks = tuple(CHECKS[i] for i in sorted(picked))
    assert run_checks(data, checks) == _run_checks_before(data, checks)


def test_verdicts_are_read_off_and_the_rest_left_to_gx() -> None:
    data = pd.DataFrame(
        {
            "ok": np.array([True, False, True, False]),
            "flag": pd.array([None, False, True, False], dtype="boolean"),
            "loose": pd.Series([True, False, None, True], dtype=object),
            "text": pd.array(["spam1.tést", None, "ok", "spam1.tést"], dtype="string"),
            "size": pd.array([1, 2, 3, 4], dtype="Int64"),
            "code": pd.Categorical(["a", None, "b", None]),
            "tags": pd.Series([[1], "x", None, "y"], dtype=object),
        }
    )
    known = known_outcomes(_with_set_verdicts(data, CHECKS), CHECKS)
    assert known == {
        "ok_holds": Outcome(4, [1, 3]),
        "flag_holds": Outcome(4, [1, 3]),
        "text_not_spam": Outcome(4, [0, 3]),
        "text_spam": Outcome(4, [2]),
        "code_unique": Outcome(4, []),
        "tags_unique": Outcome(4, []),
    }
    assert run_checks(data, CHECKS) == _run_checks_before(data, CHECKS)


def test_the_suites_verdict_checks_never_reach_gx() -> None:
    leads = pd.DataFrame(
        {
            "lead_id": ["1", "2"],
            "first_name": ["Ada", "asdf"],
            "last_name": ["Lovelace", "Müller"],
            "email": ["ada@example.com", "noreply@mailinator.com"],
            "phone": ["+44 20 7946 0958", "12"],
            "company": ["Analytical Engines Ltd", "test"],
            "country": ["GB", "Atlantis"],
            "created_at": ["2026-01-02T03:04:05Z", "not a date"],
            "employees": [250, "many"],
            "annual_revenue": [1e6, None],
        }
    )
    checked = prepare_leads(leads)
    on_verdicts = {
        c.name for c in SUITE if dict(c.params).get("value_set") == (True,) or c.expectation.endswith("InSet")
    }
    assert len(on_verdicts) == 13
    assert set(known_outcomes(_with_set_verdicts(checked, tuple(SUITE)), tuple(SUITE))) == on_verdicts | {
        "lead_id_unique"
    }
