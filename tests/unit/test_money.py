"""Deal amounts into the base currency through fx_rates' rows: the rate in force on the day, never a guess."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from leadrouter.outcomes.money import in_base_currency

RATES = pd.DataFrame(
    {
        "currency": ["EUR", "EUR", "GBP"],
        "valid_from": [date(2026, 1, 1), date(2026, 7, 1), date(2026, 3, 1)],
        "base_currency": ["USD", "USD", "USD"],
        "rate": [1.1, 1.2, 1.25],
    }
)


def test_each_amount_takes_the_rate_in_force_on_its_day() -> None:
    amounts = pd.Series([100.0, 100.0, 200.0, 200.0, 50.0, 70.0], index=list("abcdef"))
    currencies = pd.Series(["EUR", "eur", "GBP", "GBP", "JPY", None], index=list("abcdef"))
    on = pd.Series(pd.to_datetime(["2026-06-30", "2026-07-01", "2026-03-01", "2026-02-28", "2026-09-01",
                                   "2026-09-01"]), index=list("abcdef"))  # fmt: skip
    out = in_base_currency(amounts, currencies, on, RATES)
    assert list(out.index) == list("abcdef")
    got = out["amount_base"].to_numpy()
    np.testing.assert_allclose(got[:3], [110.0, 120.0, 250.0])
    # GBP before its first rate, a currency with no rate, and the CRM's only currency (null): not converted
    assert np.isnan(got[3:]).all()
    assert out["base_currency"].fillna("-").tolist() == ["USD", "USD", "USD", "-", "-", "-"]


def test_a_rates_frame_without_its_columns_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="no column 'rate'"):
        in_base_currency(pd.Series([1.0]), pd.Series(["EUR"]), pd.Series(pd.to_datetime(["2026-01-01"])),
                         RATES.drop(columns="rate"))  # fmt: skip
