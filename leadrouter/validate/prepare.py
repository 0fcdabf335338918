"""The copy of a lead batch that the validation suite checks: one row per lead, in order, with normalised and
derived columns (email verdicts, E.164 phones, ISO countries, text lengths, junk flags) for GX expectations
to test.

Each text column is factorised once: per-value work runs on its distinct values only, and text reaches GX as
categoricals, which it filters and hashes far faster than strings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from leadrouter.enrich.geo import country_code
from leadrouter.fields import PARSED_COLUMNS, RAW_SUFFIX
from leadrouter.schema import MAX_STAMP_CHARS
from leadrouter.validate.checks import ContactChecks, fold_text, is_junk_company, is_junk_name

EMPLOYEES_MAX = 10_000_000
REVENUE_MAX = 1e13  # ten trillion: above any company on earth
TEXT_LIMITS = {"first_name": 100, "last_name": 100, "company": 255, "title": 255, "message": 32_000}
CONTACT_COLUMNS = ("email_valid", "phone_e164", "phone_valid")  # the columns PreparedLeads.complete() adds
_TEXT_COLUMNS = "lead_id first_name last_name email phone title company country message".split()
_JUNK_TESTS = {"first_name": is_junk_name, "last_name": is_junk_name, "company": is_junk_company}


@dataclass
class _Distinct:
    """A text column as codes into its distinct values; -1 is missing (null or blank)."""

    codes: np.ndarray
    values: list[str]

    def rows(self, per_value: Sequence[Any], missing: Any, dtype: Any = object) -> np.ndarray:
        """One entry per row from one per distinct value; `missing` where the text is."""
        return _take(per_value, self.codes, missing, dtype)

    def categorical(self, per_value: Sequence[str | None] | None = None) -> pd.Categorical:
        """The text (or one derived string per distinct value) as a categorical; None is missing."""
        inner, categories = pd.factorize(
            np.asarray(self.values if per_value is None else per_value, dtype=object)
        )
        return pd.Categorical.from_codes(np.append(inner, -1)[self.codes], categories=categories)


def _take(per_value: Sequence[Any], codes: np.ndarray, missing: Any, dtype: Any = object) -> np.ndarray:
    table = np.empty(len(per_value) + 1, dtype=dtype)  # the extra last slot is what code -1 takes
    table[:-1], table[-1] = per_value, missing
    return table[codes]


def _factorize_keys(keys: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes into the distinct integer keys of the present rows (-1 elsewhere), and those keys."""
    codes, distinct = pd.factorize(np.where(present, keys, np.nan))  # floats hold these keys exactly
    return codes, distinct.astype(np.int64)


class PreparedLeads:
    """The checked copy in the making: `early` holds every column but the email and phone verdicts, which
    worker processes may still be working out; complete() waits for them and returns the whole copy."""

    def __init__(self, frame: pd.DataFrame) -> None:
        text = {name: _distinct(frame[name]) for name in _TEXT_COLUMNS if name in frame}
        self._email, self._phone, country = text.get("email"), text.get("phone"), text.get("country")
        codes = _country_codes(country) if country is not None else []
        pairs: list[tuple[str, str | None]] = []
        if self._phone is not None:
            self._phone_keys, pairs = _phone_pairs(self._phone, country, codes)
        # the slow part, started first: worker processes check while this process builds the rest
        self._contacts = ContactChecks(self._email.values if self._email is not None else [], pairs)
        early = _early_columns(frame, text, codes)
        self.unread = unread_values(frame, {n: early[n] for n in PARSED_COLUMNS if n in early})
        readable = {f"{n}_readable": np.ones(len(frame), bool) for n in PARSED_COLUMNS if n in frame}
        readable |= {f"{name}_readable": values.isna().to_numpy() for name, values in self.unread.items()}
        self.early = pd.DataFrame(early | readable, index=pd.RangeIndex(len(frame)))

    @property
    def in_workers(self) -> bool:
        """Whether worker processes are checking emails and phones, leaving this process free meanwhile."""
        return self._contacts.in_workers

    def complete(self) -> pd.DataFrame:
        """The whole checked copy, once the email and phone verdicts are in."""
        valid, e164 = self._contacts.result()
        out = self.early.copy(deep=False)
        if self._email is not None:
            out["email_valid"] = self._email.rows(valid, True, bool)
        if self._phone is not None:
            out["phone_e164"] = pd.array(_take(e164, self._phone_keys, None), dtype="string")
            out["phone_valid"] = (self._phone.codes < 0) | ~pd.isna(out["phone_e164"])
        return out


def prepare_leads(frame: pd.DataFrame) -> pd.DataFrame:
    """The checked copy of `frame` (left untouched); columns whose input is absent are left out."""
    return PreparedLeads(frame).complete()


def unread_values(frame: pd.DataFrame, typed: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """Per column, its values as written where they could not be read (<NA> elsewhere; only columns with one):
    those the adapter kept in a raw column (fields.raw_column), and those of a column given untyped that
    `typed` (its reading here) could not read. Positional, like the checked copy."""
    out: dict[str, pd.Series] = {}
    for name in [n for n in frame.columns if isinstance(n, str) and n.endswith(RAW_SUFFIX)]:
        kept = frame[name].astype("string").reset_index(drop=True)
        if kept.notna().any():
            out[name.removesuffix(RAW_SUFFIX)] = kept
    for name, values in typed.items():
        if frame[name].dtype != object and not isinstance(frame[name].dtype, pd.StringDtype):
            continue  # read by the adapter already: what it could not read is in its raw column
        text = _distinct(frame[name])
        lost = (text.codes >= 0) & values.isna().to_numpy()
        if lost.any():
            written = pd.Series(text.rows(text.values, None), dtype="string").where(lost)
            out[name] = out[name].fillna(written) if name in out else written
    return out


def _early_columns(
    frame: pd.DataFrame, text: dict[str, _Distinct], codes: list[str | None]
) -> dict[str, Any]:
    out: dict[str, Any] = {name: text[name].categorical() for name in ("lead_id", "email", "company", "title")
                           if name in text}  # fmt: skip
    if "created_at" in frame:
        out["created_at"] = _timestamps(frame["created_at"])
    out |= {name: _numbers(frame[name]) for name in ("employees", "annual_revenue") if name in frame}
    if "country" in text:  # a country we do not recognise stays as typed, for the suite to flag
        typed = text["country"].values
        out["country_iso"] = text["country"].categorical(
            [c or t.strip() for c, t in zip(codes, typed, strict=True)]
        )
    if "email" in text:
        out |= _mail_parts(text["email"])
    return out | _text_checks(text)


def _text_checks(text: dict[str, _Distinct]) -> dict[str, Any]:
    """Lengths of capped text, plausibility (not junk) of names and company, and the folded full name."""
    out: dict[str, Any] = {}
    for name in [name for name in TEXT_LIMITS if name in text]:
        out[f"{name}_length"] = text[name].rows([len(v) for v in text[name].values], math.nan, "float64")
    for name in [name for name in _JUNK_TESTS if name in text]:
        is_junk = _JUNK_TESTS[name]
        out[f"{name}_plausible"] = text[name].rows([not is_junk(v) for v in text[name].values], True, bool)
    if "first_name" in text and "last_name" in text:
        out["full_name"] = _full_name(text["first_name"], text["last_name"])
    return out


def _country_codes(country: _Distinct) -> list[str | None]:
    """ISO alpha-2 per distinct country text, None where unknown."""
    codes = country_code(pd.Series(country.values, dtype="string"))
    return [c if isinstance(c, str) else None for c in codes]


def _distinct(column: pd.Series) -> _Distinct:
    """Factorise as text: other types by str(), blank text as missing; equal texts share one code."""
    try:
        codes, uniques = pd.factorize(column)
    except TypeError:  # unhashable values (lists, dicts): compare them as text
        codes, uniques = pd.factorize(column.map(_as_text))
    uniques = np.asarray(uniques, dtype=object).tolist()
    if pd.api.types.is_string_dtype(column.dtype) and all(isinstance(u, str) for u in uniques):
        blank = np.array([not u.strip() for u in uniques] + [True])  # the last slot: code -1 stays missing
        return _Distinct(np.where(blank[codes], -1, codes), uniques)  # blanks stay listed, unused
    texts = [_as_text(v) for v in uniques]  # 5 and "5" are one text now: factorise again
    inner, values = pd.factorize(np.asarray([t if t and t.strip() else None for t in texts], dtype=object))
    return _Distinct(np.append(inner, -1)[codes], list(values))


def _as_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None if _missing(value) else str(value)


def _missing(value: Any) -> bool:
    return value is None or (np.ndim(value) == 0 and bool(pd.isna(value)))


def _phone_pairs(
    phone: _Distinct, country: _Distinct | None, codes: list[str | None]
) -> tuple[np.ndarray, list[tuple[str, str | None]]]:
    """Per row a code into the distinct (phone, region hint) pairs, and those pairs.

    A number written with its +country code needs no hint, so it shares one pair whatever the lead's country.
    """
    region_codes, regions = pd.factorize(np.asarray(codes, dtype=object))
    region = (
        np.append(region_codes, -1)[country.codes] if country is not None else np.full(len(phone.codes), -1)
    )
    international = np.array([p.lstrip().startswith("+") for p in phone.values] + [False])[phone.codes]
    width = len(regions) + 1  # key = phone * width + region + 1, region -1 (no hint) included
    key = phone.codes * width + np.where(international, -1, region) + 1
    key_codes, keys = _factorize_keys(key, phone.codes >= 0)
    return key_codes, [(phone.values[k // width], _region(regions, k % width - 1)) for k in keys]


def _region(region_at: np.ndarray, at: int) -> str | None:
    return None if at < 0 else region_at[at]


def _timestamps(column: pd.Series) -> pd.Series:
    """UTC timestamps; anything that is not one (a bad string, a number, bytes) as NaT."""
    column = column.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column
    return pd.Series(pd.to_datetime([_timestamp(v) for v in column], utc=True), dtype="datetime64[us, UTC]")


def _timestamp(value: Any) -> pd.Timestamp | None:
    if _missing(value) or not isinstance(value, (str, datetime, np.datetime64)):
        return None
    if isinstance(value, str) and len(value) > MAX_STAMP_CHARS:
        return None
    try:
        stamp = pd.Timestamp(value)
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    except (ValueError, TypeError, OverflowError):
        return None


def _numbers(column: pd.Series) -> pd.Series:
    """Floats; a value that is present but no number is NaN (unread_values finds it)."""
    column = column.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return column.astype("float64")
    return pd.Series([math.nan if _missing(v) else _number(v) for v in column], dtype="float64")


def _number(value: Any) -> float:
    if isinstance(value, (bool, bytes)):  # True is no head count
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _mail_parts(email: _Distinct) -> dict[str, pd.Categorical]:
    """email_domain (lowercased) and email_mailbox (the local part casefolded, without a +tag)."""
    parts = [e.rpartition("@") for e in email.values]
    return {
        "email_domain": email.categorical([d.lower() if at else None for _, at, d in parts]),
        "email_mailbox": email.categorical(
            [m.casefold().partition("+")[0] if at else None for m, at, _ in parts]
        ),
    }


def _full_name(first: _Distinct, last: _Distinct) -> pd.Categorical:
    """First and last name joined and folded, to match placeholder people such as "Mickey Mouse"."""
    width = len(last.values)
    pair_codes, pairs = _factorize_keys(
        first.codes * width + last.codes, (first.codes >= 0) & (last.codes >= 0)
    )
    names = [fold_text(f"{first.values[p // width]} {last.values[p % width]}") for p in pairs]
    return _Distinct(pair_codes, names).categorical()
