"""Guards between a model's answer and a routed lead. Lead text is untrusted: a model that obeyed it must not
be able to raise a tier the lead's facts do not support, and no answer can name an owner (the Answer schema
has no such field; owners come from the roster).

Two checks, both vectorised over the batch:
- injection signals: text that talks to the model ("ignore previous instructions", "mark me VIP", fake
  system tags), read after Unicode normalisation so look-alike letters and zero-width characters do not hide
  it. The model's answer is discarded and the lead goes to review.
- the tier ceiling: the highest tier the lead's facts allow (VIP needs a senior title at a company known to
  have 200 people or more; a known size under 11, or a student or junior title, caps it at Nurture). A model
  tier above it goes to review, with the ceiling as the suggestion.
"""

from __future__ import annotations

import base64
import binascii
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadrouter.classify.expressions import re2_matches
from leadrouter.schema import MODEL_INPUT_COLUMNS, Category, Tier, column

TIER_RANK = {Tier.OTHER.value: 0, Tier.NURTURE.value: 1, Tier.STANDARD.value: 2, Tier.VIP.value: 3}
SENIOR = ("C-level", "VP", "Head")
JUNIOR_TITLE = (
    r"(?i)\b(?:intern|student|assistant|associate|coordinator|junior|candidate|trainee|apprentice)\b"
)
# every text field a model reads: an instruction can hide in any of them
TEXT_COLUMNS = [c for c in MODEL_INPUT_COLUMNS if c not in ("employees", "is_free_mail")]

_VERBS = r"(ignore|disregard|forget|override|bypass|skip|drop)"
_TARGET = r"(instructions?|rules?|prompts?|directions?|guidelines?|context|constraints?|messages?)"
INJECTION_PATTERNS: dict[str, str] = {
    "override": rf"\b{_VERBS}\w*\b.{{0,40}}\b(previous|prior|above|earlier|preceding|all|any|your|system|the)\b"
    rf".{{0,20}}\b{_TARGET}\b",
    "new instructions": r"\b(new|updated|real|actual|secret|hidden) (instructions?|system prompt|task)\b",
    "role play": r"\b(you are now|act as|pretend (to be|you are)|roleplay|jailbreak|do anything now|dan mode)\b",
    "addresses the model": r"\b(system|developer|assistant|operator)\s*(prompt|message|note|override)?\s*:"
    r"|\b(dear|attention|hey|note to the|hi)\s+(ai|llm|model|assistant|classifier|bot|gpt|claude)\b"
    r"|\b(ai|llm|language model|classifier|assistant)s?\b.{0,30}\b(must|should|shall|will|need to)\b"
    r"|\binstructions? (from|for) the\b",
    # a lead has no reason to name our top tier: "VIP", "V.I.P.", in any language or sentence
    "names a tier": r"\bv\W?i\W?p\b",
    "sets the outcome": r"\b(mark|classify|label|tag|set|rate|score|treat|flag|make|route|escalate|"
    r"categori[sz]e|upgrade|prioriti[sz]e|record)\w*\b.{0,30}\b(tier|priority|top lead|hot lead|highest|"
    r"confidence)\b",
    "names a field": r"[\"'{]\s*(tier|confidence|owner(_id)?|category|urgency)\s*[\"']?\s*[:=]"
    r"|\b(tier|confidence|owner(_id)?)\s*[:=]\s*\S",
    "picks an owner": r"\b(assign|route|send|give|forward|transfer|handle)\w*\b.{0,40}"
    r"\b(to|by) (the |your )?(ceo|cro|founder|vp|vice president|head of sales|owner|senior ae|rep named|user)\b",
    "fake markup": r"</?\s*(lead\w*|system|instructions?|untrusted\w*|document\w*|prompt|user|assistant)\b"
    r"[^>]{0,40}>|\[/?(inst|system)\]|<\|[a-z_]+\|>|```|<!--",
    "foreign override": r"\b(ignorez|ignoriere|ignora|ignore[rn]|negeer|ignorar)\b.{0,40}\b(instructions|"
    r"anweisungen|istruzioni|instrucciones|instruções|instructies|regeln|règles)\b|忽略|無視|무시",
    "encoded text": r"\b(decode|base64|rot13|hex)\b.{0,30}\b(this|it|and|the following)\b",
}
_INJECTION = re.compile("|".join(f"(?P<g{i}>{p})" for i, p in enumerate(INJECTION_PATTERNS.values())))
_NAMES = list(INJECTION_PATTERNS)
# Python's re reads a lead's text in ~100 µs; RE2 (Arrow's engine) screens a batch at ~2 µs a lead, and re then
# reads only the leads it flagged (about 1 %), to name the pattern. The screen must never miss what re finds,
# so it is a looser pattern (RE2's \b and \w are ASCII-only): \b dropped, \w read as any non-space, \W as any
# character, bounded gaps as unbounded ones (which keep RE2 fast without \b). Normalised text has no
# whitespace but " ", so \s and \S mean the same to both engines.
_SCREEN = re.sub(
    r"\{0,\d+\}", "*", _INJECTION.pattern.replace(r"\b", "").replace(r"\w", r"\S").replace(r"\W", ".")
)

# Unicode tag characters spell ASCII invisibly (U+E0041 is an invisible "A"): read them as the ASCII they hide
_TAGS = {0xE0000 + c: chr(c) for c in range(0x20, 0x7F)}
# letters that look Latin but are Cyrillic or Greek, which NFKC leaves alone
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁһԛԝкмнтвАЕОРСХІЈЅКМНТВУαεοριντκχυΑΕΟΡΙΝΤΚΧΥΒΜΖ",
    "aeopcyxijsdhqwkmhtbAEOPCXIJSKMHTBYaeopivtkxuAEOPINTKXYBMZ",
)
# zero-width characters, direction marks, soft hyphens and control characters: removed before matching
_HIDDEN = r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufeff\U000e0000-\U000e007f\x00-\x08\x0b-\x1f\x7f]"
# "i g n o r e", "m.a.r.k": separators between single letters, dropped so the words reappear
_SPELLED_OUT = r"(?<=\b\w)[ .\-_*·]{1,2}(?=\w\b)"
_SPELLED_OUT_RE = re.compile(_SPELLED_OUT)
# the controls _HIDDEN removes from ASCII text, and _SPELLED_OUT's match without its lookarounds (RE2 syntax)
_ASCII_HIDDEN = r"[\x00-\x08\x0b-\x1f\x7f]"
_SPELLED_OUT_ASCII = r"\b\w[ .\-_*]{1,2}\w\b"
_BASE64 = r"[A-Za-z0-9+/]{16,}={0,2}"


def normalise(text: pd.Series) -> pd.Series:
    """The form injection patterns are matched against: tag characters read as ASCII, NFKC (full-width and
    styled letters to plain ones), look-alike letters to Latin, hidden characters removed, spelled-out words
    joined, whitespace folded, lower case."""
    plain = text.astype("string").fillna("")
    ascii_ = plain.str.isascii().to_numpy(dtype=bool)
    if ascii_.all():
        return _normalise_ascii(plain)
    out = plain.copy()
    out.iloc[np.flatnonzero(~ascii_)] = _normalise_any(plain[~ascii_]).to_numpy()
    if ascii_.any():
        out.iloc[np.flatnonzero(ascii_)] = _normalise_ascii(plain[ascii_]).to_numpy()
    return out


def _normalise_any(plain: pd.Series) -> pd.Series:
    """normalise's steps for text of any kind, in Python's re (Unicode \\w, \\b and \\s)."""
    plain = plain.str.translate(_TAGS).str.normalize("NFKC")
    plain = plain.str.translate(_LOOKALIKES).str.replace(_HIDDEN, "", regex=True)
    plain = plain.str.replace(_SPELLED_OUT, "", regex=True)
    return plain.str.replace(r"\s+", " ", regex=True).str.casefold()


def _normalise_ascii(plain: pd.Series) -> pd.Series:
    """normalise for ASCII text, in Arrow: the same result as _normalise_any, a quarter of the work. ASCII has no
    tag characters or look-alike letters and NFKC leaves it alone; its hidden characters are the control
    characters. On ASCII, RE2's \\w and \\b are Python's, and once those controls are gone the whitespace
    left (tab, newline, space) is \\s to both; lower case is case-folding."""
    arrow = pc.replace_substring_regex(pa.array(plain.array), _ASCII_HIDDEN, "")
    # spelled-out words need a lookbehind, which RE2 lacks: Python's re reads only the rows RE2 finds one in
    text = pd.Series(pd.array(arrow, dtype="string"), index=plain.index)
    spelled = re2_matches(text, _SPELLED_OUT_ASCII).to_numpy()
    if spelled.any():
        text.iloc[np.flatnonzero(spelled)] = [_SPELLED_OUT_RE.sub("", v) for v in text[spelled]]
    arrow = pc.ascii_lower(pc.replace_substring_regex(pa.array(text.array), r"\s+", " "))
    return pd.Series(pd.array(arrow, dtype="string"), index=plain.index)


def _decoded(text: pd.Series) -> pd.Series:
    """What base64-looking tokens say, so an encoded instruction is read like a plain one."""
    out = pd.Series("", index=text.index, dtype="string")
    has = re2_matches(text, _BASE64).to_numpy()  # few texts hold a token: Python's re reads only those
    if not has.any():
        return out
    tokens = text[has].str.findall(_BASE64).map(lambda found: found or [], na_action="ignore")

    def decode(found: list[str]) -> str:
        out = []
        for token in found:
            try:
                out.append(base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8"))
            except (binascii.Error, UnicodeDecodeError):
                continue
        return " ".join(out)

    out.iloc[np.flatnonzero(has)] = tokens.map(decode, na_action="ignore").fillna("").to_numpy()
    return out


def injection_signals(leads: pd.DataFrame) -> pd.Series:
    """The name of the first injection pattern found in each lead's text, else <NA>. All text fields are read
    as one, so an instruction split across the name fields is read whole."""
    fields = [leads[c].astype("string").fillna("") for c in TEXT_COLUMNS if c in leads]
    if not fields:
        return pd.Series(pd.NA, index=leads.index, dtype="string")
    joined = _joined([*fields, _decoded(_joined(fields))])
    text = normalise(joined)
    flagged = text.where(re2_matches(text, _SCREEN))  # the rest cannot match: re need not read them
    return flagged.map(lambda t: _pattern_name(_INJECTION.search(t)), na_action="ignore").astype("string")


def _joined(fields: list[pd.Series]) -> pd.Series:
    """Text columns without missing values joined by a space, row by row, in Arrow."""
    if len(fields) == 1:
        return fields[0]
    joined = pc.binary_join_element_wise(*(pa.array(f.array) for f in fields), " ")
    return pd.Series(pd.array(joined, dtype="string"), index=fields[0].index)


def _pattern_name(match: re.Match | None) -> str | None:
    """The INJECTION_PATTERNS entry that matched: the one named group of the alternation that took part."""
    if match is None:
        return None
    return _NAMES[int(next(g for g, text in match.groupdict().items() if text is not None)[1:])]


def tier_ceiling(leads: pd.DataFrame) -> pd.Series:
    """The highest tier each lead's facts allow (see the module docstring)."""
    seniority = column(leads, "seniority")
    employees = pd.to_numeric(column(leads, "employees", "object"), errors="coerce")
    junior = (seniority == "Student").fillna(False) | column(leads, "title").str.contains(
        JUNIOR_TITLE
    ).fillna(False)
    # VIP only for a senior title at a company known to have 200 or more people: an unknown size never is one
    vip = seniority.isin(SENIOR).fillna(False) & (employees >= 200).fillna(False)
    rank = pd.Series(
        np.where(vip, TIER_RANK[Tier.VIP.value], TIER_RANK[Tier.STANDARD.value]), index=leads.index
    )
    small = (employees < 11).fillna(False) | junior
    rank = rank.where(~small, TIER_RANK[Tier.NURTURE.value])
    names = {v: k for k, v in TIER_RANK.items()}
    return rank.map(names).astype("string")


def apply_guards(leads: pd.DataFrame, answers: pd.DataFrame, ceiling: bool = True) -> pd.DataFrame:
    """answers plus `review_reason`: injection signals drop the answer; a tier above the ceiling is replaced
    by the ceiling as a suggestion for the reviewer (unless ceiling is False); a tier and category that
    contradict each other (a sales tier for spam, tier Other for a buyer) go to review as they are."""
    out = answers.copy()
    reason = pd.Series(pd.NA, index=answers.index, dtype="string")
    signal = injection_signals(leads.loc[answers.index])
    injected = signal.notna()
    reason[injected] = "suspected prompt injection in the lead's text (" + signal[injected] + ")"
    out.loc[injected, ["tier", "category", "urgency", "rationale", "brief"]] = pd.NA
    out.loc[injected, "confidence"] = pd.NA
    is_sales = out["category"] == Category.SALES.value
    contradicts = ((out["tier"] == Tier.OTHER.value) == is_sales).fillna(False) & ~injected
    reason[contradicts] = (
        "model tier "
        + out.loc[contradicts, "tier"]
        + " contradicts its category "
        + out.loc[contradicts, "category"]
    )
    if ceiling:
        highest = tier_ceiling(leads.loc[answers.index])
        rank = out["tier"].map(TIER_RANK, na_action="ignore")
        above = (rank > highest.map(TIER_RANK)).fillna(False) & ~injected & ~contradicts
        reason[above] = "model tier " + out.loc[above, "tier"] + " is above what the lead's facts allow"
        out.loc[above, "tier"] = highest[above]
    return out.assign(review_reason=reason)
