"""Company names made comparable: case, accents, punctuation, legal forms and noise words folded away."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

MAX_NAME_LENGTH = 256  # no company name is longer; bounds the regexes and the fuzzy scoring on hostile input

LEGAL_SUFFIXES = tuple(
    form.replace("_", " ")
    for form in """
    inc incorporated llc llp lp ltd limited gmbh mbh ag kg kgaa ohg se sa sas sasu sarl sl slu sab spa srl
    ltda bv nv pty pte pvt private plc co corp corporation company cie kk kabushiki_kaisha oy oyj ab publ as
    asa aps ou bhd sdn_bhd sa_de_cv sab_de_cv s_de_rl_de_cv de_cv the and
    """.split()
)
_LEGAL_FORMS = "|".join(sorted(LEGAL_SUFFIXES, key=len, reverse=True))
# a trailing run of legal forms: "Henkel AG & Co. KGaA" -> "henkel"; "and"/"the" only go along with them
_LEGAL_TAIL = re.compile(rf"(?:^|\s)(?:{_LEGAL_FORMS})(?:\s(?:{_LEGAL_FORMS}))*$")
_LEGAL_ENDINGS = tuple(" " + form for form in LEGAL_SUFFIXES)
ABBREVIATIONS = {
    "intl": "international", "natl": "national", "mfg": "manufacturing", "bros": "brothers",
    "svcs": "services", "grp": "group", "hldgs": "holdings", "mgmt": "management",
}  # fmt: skip
_LETTER_FOLDS = {"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "ı": "i", "þ": "th"}  # NFKD keeps them
_FOLDED_LETTER = re.compile(f"[{''.join(_LETTER_FOLDS)}]")
_COMBINING_MARK = re.compile(r"[\u0300-\u036f]")
_QUALIFIER = re.compile(r"\([^)]*\)")
_ACRONYM_DOT = re.compile(r"[./](?<=\b\w[./])")
_APOSTROPHE = re.compile(r"['’‘`´]")
_NOT_WORD = re.compile(r"[\W_]+")
# words that qualify a name rather than name a company: left out when comparing ("UBS Group" is "UBS")
NOISE_WORDS = frozenset(
    "group groupe grupo gruppe holding holdings international global worldwide and of the com net org io "
    "uk us usa eu emea apac latam europe deutschland".split()
)
# words that describe a business: they count when comparing, but a name made only of them never matches
DESCRIPTIVE_WORDS = frozenset(
    "solutions services systems technologies technology tech partners consulting consultants industries "
    "enterprises platforms platform digital software networks labs ventures capital management associates "
    "brothers manufacturing logistics media marketing".split()
)


def normalize_company(names: pd.Series) -> pd.Series:
    """Lowercased, no accents, punctuation, legal suffix or leading "the"; <NA> when nothing is left."""
    codes, uniques = pd.factorize(names.astype("string"))  # each distinct spelling once
    # over the values' plain array: iterating the StringArray indexes it one value at a time
    normalized = pd.array([_normalized(name) for name in uniques.to_numpy()], dtype="string")
    return pd.Series(normalized.take(codes, allow_fill=True), index=names.index, name="company_normalized")


def _normalized(name: str) -> str | None:
    # one pass of Python's str and re per name: a chain of pandas str methods looped over the names ten times
    text = name[:MAX_NAME_LENGTH].casefold()
    if not text.isascii():  # folding is slow, and only these need it
        text = _COMBINING_MARK.sub("", unicodedata.normalize("NFKD", text))
        text = _FOLDED_LETTER.sub(lambda m: _LETTER_FOLDS[m[0]], text)
    text = _QUALIFIER.sub(" ", text).replace("&", " and ")  # "(EMEA)", "(publ)" qualify, they don't name
    text = _ACRONYM_DOT.sub("", text)  # acronyms keep their letters: S.A., A/S
    text = _APOSTROPHE.sub("", text)  # L'Oréal -> loreal, Bella's -> bellas
    text = _NOT_WORD.sub(" ", text).strip()
    if (" " + text).endswith(_LEGAL_ENDINGS):
        text = _LEGAL_TAIL.sub("", text)  # a slow regex: only where it bites
    return text.removeprefix("the ").strip() or None


def comparison_key(normalized: pd.Series) -> pd.Series:
    codes, uniques = pd.factorize(normalized)
    keys = pd.array([without_noise(name) for name in uniques.to_numpy()], dtype="string")  # distinct only
    return pd.Series(keys.take(codes, allow_fill=True), index=normalized.index, dtype="string")


def without_noise(name: str) -> str:
    """Abbreviations spelt out, noise words dropped; a name made only of noise ("Global Group") stays."""
    words = [ABBREVIATIONS.get(word, word) for word in name.split()]
    return " ".join(word for word in words if word not in NOISE_WORDS) or " ".join(words)
