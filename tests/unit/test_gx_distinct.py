"""GX evaluates a per-value check on each distinct value once: the failing rows are exactly those GX finds when
it checks every row."""

from __future__ import annotations

import pandas as pd

from leadrouter.validate.gx import (
    Check,
    _batch_definition,
    _validate,
    _with_set_verdicts,
    distinct_rows,
    run_checks,
)

DOMAINS = tuple(f"spam{i}.test" for i in range(12))  # a long set: GX checks its verdict column
CHECKS = (
    Check("email_present", "email", "blocking", "fix", "ExpectColumnValuesToNotBeNull"),
    Check("id_unique", "lead_id", "blocking", "fix", "ExpectColumnValuesToBeUnique"),
    Check("tier_known", "tier", "warning", "fix", "ExpectColumnValuesToBeInSet", (("value_set", ("A", "B")),)),
    Check("not_spam", "domain", "blocking", "fix", "ExpectColumnValuesToNotBeInSet", (("value_set", DOMAINS),)),
    Check("staff", "employees", "blocking", "fix", "ExpectColumnValuesToBeBetween",
          (("min_value", 0), ("max_value", 100))),
    Check("missing_column", "nowhere", "warning", "fix", "ExpectColumnValuesToNotBeNull"),
)  # fmt: skip


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.array(["a", "b", "c", "b", "d", "e", None, "f"], dtype="string"),
            "email": pd.array(
                ["x@y.z", None, "x@y.z", "q@r.s", None, "t@u.v", "w@x.y", "x@y.z"], dtype="string"
            ),
            "tier": pd.array(["A", "C", "A", None, "B", "C", "A", "D"], dtype="string"),
            "domain": pd.array(
                ["ok.com", "spam3.test", None, "ok.com", "spam3.test", "fine.org", "spam11.test", "ok.com"],
                dtype="string",
            ),
            "employees": pd.array([5, 500, 5, None, -1, 100, 0, 500], dtype="Int64"),
        }
    )


def test_failing_rows_are_those_gx_finds_on_every_row() -> None:
    data = frame()
    outcomes = run_checks(data, CHECKS)
    assert {n: o.rows for n, o in outcomes.items() if o.error is None} == {
        "email_present": [1, 4],
        "id_unique": [1, 3],
        "tier_known": [1, 5, 7],
        "not_spam": [1, 4, 6],
        "staff": [1, 4, 7],
    }
    assert all(outcomes[n].evaluated == len(data) for n in outcomes if n != "missing_column")
    assert outcomes["missing_column"].error is not None and outcomes["missing_column"].rows == []
    whole = _validate(_batch_definition(), CHECKS, _with_set_verdicts(data, CHECKS))
    assert {n: (o.rows, o.evaluated, o.error is None) for n, o in outcomes.items()} == {
        n: (o.rows, o.evaluated, o.error is None) for n, o in whole.items()
    }


def test_gx_sees_one_row_per_distinct_value() -> None:
    data = _with_set_verdicts(frame(), CHECKS)
    per_value = tuple(c for c in CHECKS if c.name != "id_unique")
    compact, _ = distinct_rows(data, per_value)
    # email: null or not; tier: A C None B D; verdicts: True False None; employees: 5 500 None -1 100 0
    as_lists = {n: compact[n].astype(object).where(compact[n].notna(), None).tolist() for n in compact}
    assert as_lists == {  # padded by repeating the first row
        "email": ["x@y.z", None, "x@y.z", "x@y.z", "x@y.z", "x@y.z"],
        "tier": ["A", "C", None, "B", "D", "A"],
        "domain__not_spam": [True, False, None, True, True, True],
        "employees": [5, 500, None, -1, 100, 0],
    }
