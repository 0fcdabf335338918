"""Deal amounts across currencies: converted through the user's fx_rates table (what one unit of a currency is
worth in the base currency from a day on), by the rule v_routed_leads applies in SQL (docs/outcome-tables.md):
the rate in force on the deal's close date, else on the lead's arrival date. An amount with no rate stays
unconverted (null), so it is never summed with others blindly."""

from __future__ import annotations

import numpy as np
import pandas as pd

RATE_COLUMNS = ["currency", "valid_from", "base_currency", "rate"]


def currency_codes(currencies: pd.Series) -> pd.Series:
    """ISO 4217 codes upper-cased, null kept; each distinct code once (a million per-row str.upper took seconds)."""
    codes, distinct = pd.factorize(currencies.astype(object).to_numpy(), use_na_sentinel=True)
    upper = np.array([*(str(c).strip().upper() for c in distinct), None], dtype=object)
    return pd.Series(upper[codes], index=currencies.index, dtype="string")


def in_base_currency(
    amounts: pd.Series, currencies: pd.Series, on: pd.Series, rates: pd.DataFrame
) -> pd.DataFrame:
    """Per amount (indexed like amounts): amount_base (float; null where no rate is in force on `on`, or the
    currency is null: the CRM's only currency, which no rate names) and base_currency. rates: fx_rates' rows."""
    missing = [c for c in RATE_COLUMNS if c not in rates.columns]
    if missing:
        raise ValueError(f"the rates frame has no column {missing[0]!r} (it needs {', '.join(RATE_COLUMNS)})")
    left = pd.DataFrame(
        {
            "currency": currency_codes(currencies).to_numpy(dtype=object),
            "on": pd.to_datetime(on).astype("datetime64[us]").to_numpy(),
            "row": np.arange(len(amounts)),
        }
    )
    table = pd.DataFrame(
        {
            "currency": currency_codes(rates["currency"]).to_numpy(dtype=object),
            "on": pd.to_datetime(rates["valid_from"]).astype("datetime64[us]").to_numpy(),
            "base_currency": rates["base_currency"].astype("string").to_numpy(dtype=object),
            "rate": pd.to_numeric(rates["rate"]).astype(float).to_numpy(),
        }
    )
    known = left.dropna(subset=["currency", "on"]).sort_values("on", kind="stable")
    found = pd.merge_asof(known, table.sort_values("on", kind="stable"), on="on", by="currency")
    rate = np.full(len(amounts), np.nan)
    base = np.full(len(amounts), None, dtype=object)
    rate[found["row"].to_numpy()] = found["rate"].to_numpy(dtype=float)
    base[found["row"].to_numpy()] = found["base_currency"].to_numpy(dtype=object)
    amount = pd.to_numeric(amounts, errors="coerce").astype(float).to_numpy()
    return pd.DataFrame(
        {"amount_base": amount * rate, "base_currency": pd.array(base, dtype="string")}, index=amounts.index
    )


def summable(
    amounts: pd.Series, currencies: pd.Series, on: pd.Series, deals: pd.Series, rates: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: an amount that can be summed with the others' (float), and whether it is a deal left out for
    want of a rate (bool). Amounts all in one currency (null: the CRM's only one) stay as they are; else each
    is in the base currency: already (a base currency of rates), or converted by in_base_currency; any other
    deal counts 0 and is flagged. deals: which rows are deals (the others carry no amount)."""
    amount = pd.to_numeric(amounts, errors="coerce").fillna(0.0).astype(float).to_numpy(copy=True)
    is_deal = deals.astype(bool).to_numpy()
    codes = currency_codes(currencies)
    if codes[is_deal].nunique(dropna=False) <= 1:
        return amount, np.zeros(len(amount), dtype=bool)
    bases = currency_codes(rates["base_currency"]).dropna().unique() if rates is not None else []
    in_base = codes.isin(bases).to_numpy()
    converted = (
        in_base_currency(amounts, codes, on, rates)["amount_base"].to_numpy(dtype=float)
        if rates is not None and len(rates)
        else np.full(len(amount), np.nan)
    )
    value = np.where(in_base, amount, converted)
    left_out = is_deal & np.isnan(value)
    return np.where(left_out | ~is_deal, 0.0, value), left_out
