"""Cleaning a CRM export's cells, column by column: placeholders to missing, trimming and casing, value maps,
correction to the known vocabulary, numbers and dates written in many ways.

Each function returns the cleaned column and, per row, the method of what it changed (<NA>: nothing), so the
import can list and count every cleaned cell. A correction never changes a value's meaning: a value is only
matched to a vocabulary word as a whole, and one that matches none is kept as written. Per-value work (fuzzy
matching, country lookups) runs on distinct values.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pycountry
from rapidfuzz import fuzz, process

from leadrouter.enrich.geo import country_code
from leadrouter.schema import UTC_TS
from leadrouter.validate.repairs import repair_emails
from leadrouter.validate.vocabularies import keyed, vocabulary_key

# cells that mean "nothing here", compared trimmed and case-folded
PLACEHOLDERS = frozenset(
    [
        "select",
        "--select--",
        "n/a",
        "#n/a",
        "-",
        "--",
        "---",
        "none",
        "--none--",
        "null",
        "nil",
        "?",
        "undefined",
    ]
)
# rapidfuzz ratio (0-100) of two whole vocabulary keys: one dropped or added letter in a word of six or more
# passes, a word inside a longer value ("ebook" in "facebook") never does; below it a value is kept as written
FUZZY_CUTOFF = 85.0
SHORT_TOKEN = 4  # keys this short (chat, Tech, SaaS) match exactly or by alias: a letter more is a new word
PLAIN_NUMBER = r"-?\d+(?:\.\d+)?"
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of spreadsheet serials (after Lotus's leap-year bug)
EXCEL_MAX_SERIAL = 2_958_465  # 9999-12-31
ISO_OFFSET = r".*(?:Z|[+-]\d\d:?\d\d)$"
# every spelling pycountry has for a country: written like this, a country needs no cleaning
EXACT_COUNTRIES = frozenset(
    value
    for c in pycountry.countries
    for value in (getattr(c, a, None) for a in ("alpha_2", "alpha_3", "name", "common_name", "official_name"))
    if value
)
Changed = tuple[pd.Series, pd.Series]  # (cleaned values, the method of the change per row or <NA>)
Scored = tuple[pd.Series, pd.Series, pd.Series]  # Changed and the score (0-100) of each correction or <NA>


def no_change(index: pd.Index) -> pd.Series:
    return pd.Series(pd.NA, index=index, dtype="string")


def no_score(index: pd.Index) -> pd.Series:
    return pd.Series(pd.NA, index=index, dtype="Float64")


def then(first: pd.Series, later: pd.Series) -> pd.Series:
    """Per row the methods of two cleaning steps joined with "+" ("trim+fuzzy"), or the one that changed."""
    return first.str.cat(later, sep="+").fillna(later).fillna(first)


def trim_and_blank(raw: pd.Series, extra_placeholders: Iterable[str] = ()) -> Changed:
    """Trimmed text; blanks and placeholders ("N/A", "Select", "-") missing. A blank cell is no change."""
    tokens = PLACEHOLDERS | {t.strip().casefold() for t in extra_placeholders}
    written = raw.astype("string")
    text = written.str.strip()
    # case-folding never shortens text: only values as short as a placeholder are folded to compare
    short = (text.str.len() <= max(map(len, tokens))).to_numpy(dtype=bool, na_value=False)
    folded = text[short].str.casefold()
    placeholder = pd.Series(np.zeros(len(text), dtype=bool), index=text.index)
    placeholder.iloc[np.flatnonzero(short)] = (folded.isin(tokens) & (folded != "")).to_numpy(dtype=bool)
    change = no_change(raw.index)
    change[(text != written) & (text != "")] = "trim"
    change[placeholder] = "placeholder"
    return text.mask(placeholder | (text == "")), change


def map_values(text: pd.Series, mapping: Mapping[str, str]) -> Changed:
    """The map's meaning of each value written as one of its keys, matched as vocabulary_key sees them (any
    case, spaces or punctuation): "alias"."""
    if not mapping:
        return text, no_change(text.index)
    folded = {_fold(k): v for k, v in mapping.items()}
    codes, distinct = pd.factorize(text)
    mapped = _per_row([folded.get(_fold(value)) for value in distinct], codes, text.index)
    hit = mapped.notna() & (mapped != text)
    return text.mask(hit, mapped), no_change(text.index).mask(hit, "alias")


def _fold(value: str) -> str:
    """vocabulary_key, or the case-folded value when it has no letter or digit (a map may name "?")."""
    return vocabulary_key(value) or value.strip().casefold()


def to_vocabulary(text: pd.Series, vocabulary: list[str]) -> Scored:
    """Values written as the vocabulary writes them: the same word in another case ("case") or with other
    spaces or punctuation ("format"), or a near-spelling of one word over the whole value ("fuzzy", scored
    0-100; neither side a short token). A value that is none of these is kept as written: outside_vocabulary.
    """
    if not vocabulary:
        return text, no_change(text.index), no_score(text.index)
    codes, distinct = pd.factorize(text)
    match = _Matcher(vocabulary)
    found = [match(value) for value in distinct]
    corrected = _per_row([f[0] if f else value for f, value in zip(found, distinct, strict=True)], codes,
                         text.index)  # fmt: skip
    method = _per_row([f[1] if f else None for f in found], codes, text.index)
    score = _per_row([f[2] if f else None for f in found], codes, text.index, "Float64")
    return corrected, method, score


def outside_vocabulary(text: pd.Series, vocabulary: list[str]) -> pd.Series:
    """Whether each value is present and not a word of the vocabulary."""
    return (text.notna() & ~text.isin(vocabulary)).astype(bool)


class _Matcher:
    """A value's word in the vocabulary, how it was found and the score, or None: see to_vocabulary."""

    def __init__(self, vocabulary: list[str]) -> None:
        self.exact = set(vocabulary)
        self.known = keyed(vocabulary)
        self.long = [key for key in self.known if len(key) > SHORT_TOKEN]

    def __call__(self, value: str) -> tuple[str, str, float] | None:
        if value in self.exact:
            return None
        key = vocabulary_key(value)
        if (word := self.known.get(key)) is not None:
            return word, "case" if value.casefold() == word.casefold() else "format", 100.0
        if len(key) <= SHORT_TOKEN or len(value) > 200:  # untrusted text: no known value is this long
            return None
        best = process.extract(key, self.long, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=2)
        if not best or (
            len(best) == 2 and best[1][1] == best[0][1]
        ):  # a tie: which word was meant is unknown
            return None
        return self.known[best[0][0]], "fuzzy", round(float(best[0][1]), 1)


def _per_row(per_value: list, codes: np.ndarray, index: pd.Index, dtype: str = "string") -> pd.Series:
    """One value per row from one per distinct value; code -1 (a missing cell) is <NA>."""
    table = np.empty(len(per_value) + 1, dtype=object)
    table[:-1], table[-1] = per_value, None
    return pd.Series(table[codes], index=index, dtype=object).astype(dtype)


def countries(text: pd.Series) -> Changed:
    """ISO codes for the countries pycountry and our aliases know (abbreviations, native names, typos); a
    value written as pycountry writes it is no change, one we cannot place is kept for validation to flag."""
    code = country_code(text)
    known = code.notna()
    change = no_change(text.index).mask(known & ~text.isin(EXACT_COUNTRIES), "country")
    return text.mask(known, code), change


def recase_email(text: pd.Series) -> Changed:
    """Emails without harmless formatting (validate.repairs: a display name, full-width forms), in lower case."""
    repaired, how = repair_emails(text)
    lower = repaired.str.lower()
    return lower, then(how, no_change(text.index).mask((lower != repaired).fillna(False), "case"))


def recase_name(text: pd.Series) -> Changed:
    """NAMES IN CAPITALS and names in lower case as Title Case; mixed case (de Jong, McDonald) is kept."""
    one_case = (text.str.isupper() | text.str.islower()) & text.str.contains(r"[^\W\d_]{2}", regex=True)
    fixed = text.mask(one_case.fillna(False), text.str.title())
    return fixed, no_change(text.index).mask((fixed != text).fillna(False), "case")


def numbers(text: pd.Series) -> Changed:
    """Numbers written with thousands separators or currency signs ("$1,200,000") read as numbers; text that
    is no number becomes missing (the lead still routes)."""
    plain = text.str.fullmatch(PLAIN_NUMBER).fillna(False)
    stripped = text.str.replace(r"[\s,$€£]", "", regex=True)
    value = pd.to_numeric(stripped, errors="coerce").astype("Float64")
    change = no_change(text.index)
    change[text.notna() & ~plain & value.notna()] = "number format"
    change[text.notna() & value.isna()] = "not a number: read as missing"
    return value, change


def parse_dates(text: pd.Series, formats: list[str], timezone: str) -> tuple[pd.Series, pd.Series]:
    """UTC stamps from cells in any of `formats`, tried in order on the rows still unparsed; stamps without
    an offset are in `timezone`. Returns (stamps, index of the format each row matched, -1 for none)."""
    stamps = pd.Series(pd.NaT, index=text.index, dtype=UTC_TS)
    which = pd.Series(-1, index=text.index, dtype="int64")
    zone = zoneinfo.ZoneInfo(timezone)
    for i, fmt in enumerate(formats):
        todo = text.notna() & (which < 0)
        if not todo.any():
            break
        parsed = _parse(text[todo].astype(str), fmt, zone)
        hit = parsed.index[parsed.notna()]
        stamps[hit], which[hit] = parsed[hit], i
    return stamps, which


def _parse(text: pd.Series, fmt: str, zone: zoneinfo.ZoneInfo) -> pd.Series:
    if fmt == "excel":
        serial = pd.to_numeric(text.where(text.str.fullmatch(PLAIN_NUMBER)), errors="coerce")
        serial = serial.where((serial >= 1) & (serial <= EXCEL_MAX_SERIAL))
        naive = (EXCEL_EPOCH + pd.to_timedelta(serial, unit="D")).dt.round("s")
        return _localise(naive, zone)
    if fmt == "iso":
        aware = text.str.fullmatch(ISO_OFFSET)
        out = pd.Series(pd.NaT, index=text.index, dtype=UTC_TS)
        out[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
        naive = pd.to_datetime(text[~aware], format="ISO8601", errors="coerce")
        out[~aware] = _localise(naive, zone)
        return out
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        return parsed.dt.tz_convert("UTC").astype(UTC_TS)
    return _localise(parsed, zone)


def _localise(naive: pd.Series, zone: zoneinfo.ZoneInfo) -> pd.Series:
    """Wall-clock stamps in zone as UTC; a stamp in a DST gap moves forward, an ambiguous one is missing."""
    naive = pd.to_datetime(naive, errors="coerce")
    local = naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    return local.dt.tz_convert("UTC").astype(UTC_TS)


def yes_no(text: pd.Series) -> pd.Series:
    """True/False from the ways exports write a flag (TRUE, yes, 1, x, won); <NA> when unreadable."""
    folded = text.str.strip().str.casefold()
    truthy = folded.isin(["true", "yes", "y", "1", "x", "won", "closed won"])
    falsy = folded.isin(["false", "no", "n", "0", "lost", "closed lost"])
    return pd.Series(np.where(truthy, True, np.where(falsy, False, None)), index=text.index, dtype="boolean")


def first_copy_rows(keys: pd.Series) -> pd.Series:
    """For each row, the position of the first row with the same key (itself when it is the first)."""
    first = (
        pd.Series(np.arange(len(keys)), index=keys.index)
        .groupby(keys.to_numpy(), sort=False)
        .transform("min")
    )
    return first.where(keys.notna())
