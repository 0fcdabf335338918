"""Text parked in Arrow while an export is read comes back with the same values, nulls and dtypes."""

import pandas as pd
import pandas.testing as pdt

from leadrouter.backtest.memory import ARROW_TEXT, parked, unparked


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.array(["a1", None, "a3", "a1"], dtype=pd.StringDtype("python")),
            "raw": pd.Series(["'x'", "<NA>", "'y'", "'x'"], dtype=object),
            "lead_ids": pd.Series(["a1", pd.NA, "a3", "a4"], dtype=object),
            "score": pd.Series([0.9, pd.NA, 1.0, pd.NA], dtype=object),
            "row": [2, 3, 4, 5],
        }
    )


def test_text_columns_are_parked_and_others_left_as_they_are() -> None:
    frame = _frame()
    out = parked(frame)
    assert [c for c in out.columns if out[c].dtype == ARROW_TEXT] == ["lead_id", "raw", "lead_ids"]
    assert out["score"].dtype == object and out["row"].dtype == "int64"


def test_unparked_gives_back_the_values_nulls_and_dtypes() -> None:
    frame = _frame()
    parts = [parked(frame.iloc[:2]), parked(frame.iloc[2:])]
    back = unparked(pd.concat(parts, ignore_index=True), frame.dtypes)
    pdt.assert_frame_equal(back, frame)
    assert back["lead_ids"].isna().tolist() == [False, True, False, False]


def test_equal_values_share_one_python_string() -> None:
    frame = pd.DataFrame({"country": pd.array(["US", "DE", "US", "US"], dtype=pd.StringDtype("python"))})
    back = unparked(parked(frame), frame.dtypes)
    cells = back["country"].array._ndarray
    assert cells[0] is cells[2] is cells[3]
    assert cells[0] is not cells[1]


def test_text_arrow_cannot_hold_stays_python() -> None:
    frame = pd.DataFrame({"raw": pd.array(["ok", "bad \ud800"], dtype=pd.StringDtype("python"))})
    out = parked(frame)
    assert out["raw"].dtype == pd.StringDtype("python")
    pdt.assert_frame_equal(unparked(out, frame.dtypes), frame)
