import pandas as pd
import pytest

from leadrouter.classify.expressions import Condition, ExpressionError

FRAME = pd.DataFrame(
    {
        "employees": pd.array([600, None, 20, 5000], dtype="Int64"),
        "title": pd.array(["VP Sales", "CEO", None, "Student"], dtype="string"),
        "country": pd.array(["US", "DE", "US", None], dtype="string"),
        "is_free_mail": pd.array([False, True, None, False], dtype="boolean"),
    }
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('employees >= 500 and matches(title, "(?i)vp|chief")', [True, False, False, False]),
        ('country in ("US", "CA")', [True, False, True, False]),
        ('country not in ("US",)', [False, True, False, False]),  # null is never "not in"
        ("not is_null(title)", [True, True, False, True]),
        ("100 < employees <= 700", [True, False, False, False]),
        ('contains(title, "ceo") or employees < 50', [False, True, True, False]),
        ("not is_free_mail", [True, False, True, True]),
        ("employees > 10", [True, False, True, True]),  # null employees never compares true
        ('title == "Student"', [False, False, False, True]),
        ("True", [True, True, True, True]),
    ],
)
def test_conditions_evaluate_over_the_whole_frame(text: str, expected: list[bool]) -> None:
    assert Condition(text, FRAME.columns)(FRAME).tolist() == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('__import__("os").system("true")', "functions are"),
        ("employees.real", "not allowed"),
        ("salary > 1", "unknown column 'salary'"),
        ('matches(title, "(")', "bad regular expression"),
        ("lambda: 1", "not allowed"),
        ("employees in country", "needs a list"),
        ("employees >", "cannot parse"),
        ("[x for x in title]", "not allowed"),
        ("matches(title, country)", "must be a literal"),
    ],
)
def test_anything_outside_the_language_is_refused_at_compile_time(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        Condition(text, FRAME.columns)


def test_condition_records_the_columns_it_reads() -> None:
    cond = Condition('employees > 5 and matches(title, "x")', FRAME.columns)
    assert cond.columns == {"employees", "title"}
