"""The lead's language (ISO 639-1) from its message, title and company, offline, with py3langid's model
(shipped inside the package); a text too short or too mixed to tell falls back to the country's main language.

language_confidence is the detector's probability for the language it chose; <NA> when the language is the
country's (a fallback) or unknown.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

TEXT_COLUMNS = ["message", "title", "company"]
MAX_CHARS = 300  # the first few sentences say the language; more only costs time
MIN_CHARS = 20  # below this (letters and digits) a Latin-script text is too short to trust
MIN_CONFIDENCE = 0.5  # below this the text is mixed or ambiguous: the country's language is the better guess
DETECT_ROWS = 10_000  # distinct texts detected at once: memory grows with texts × longest text × languages;
# 10,000 held a 20k page's peak 35 MB lower than 50,000 for the same CPU
SHORT_CONFIDENCE = 0.9  # a short text is trusted only when nearly certain (a script of its own: ja, ko, zh)
# Python's \s (str.isspace), spelled out for RE2, whose \s lacks \v, \x1c-\x1f and every non-ASCII space
PYTHON_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)
_NOT_WORD = re.compile(r"\W+")
_WORD_BYTE = np.array([re.fullmatch(r"\w", chr(b)) is not None for b in range(256)]) & (np.arange(256) < 128)
_RE2_SPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in PYTHON_SPACES) + "]"

# the language most business correspondence from a country is written in, for the countries leads come from
COUNTRY_LANGUAGE = {
    "US": "en", "GB": "en", "IE": "en", "CA": "en", "AU": "en", "NZ": "en", "ZA": "en", "IN": "en",
    "SG": "en", "PH": "en", "NG": "en", "KE": "en", "HK": "zh", "MY": "ms", "DE": "de", "AT": "de",
    "CH": "de", "LI": "de", "FR": "fr", "BE": "fr", "LU": "fr", "MC": "fr", "SN": "fr", "CI": "fr",
    "ES": "es", "MX": "es", "AR": "es", "CO": "es", "CL": "es", "PE": "es", "VE": "es", "EC": "es",
    "UY": "es", "PY": "es", "BO": "es", "CR": "es", "PA": "es", "GT": "es", "DO": "es", "IT": "it",
    "PT": "pt", "BR": "pt", "AO": "pt", "MZ": "pt", "NL": "nl", "SE": "sv", "NO": "no", "DK": "da",
    "FI": "fi", "IS": "is", "PL": "pl", "CZ": "cs", "SK": "sk", "HU": "hu", "RO": "ro", "BG": "bg",
    "HR": "hr", "SI": "sl", "RS": "sr", "GR": "el", "CY": "el", "TR": "tr", "RU": "ru", "BY": "ru",
    "KZ": "ru", "UA": "uk", "LT": "lt", "LV": "lv", "EE": "et", "IL": "he", "AE": "ar", "SA": "ar",
    "EG": "ar", "QA": "ar", "KW": "ar", "MA": "ar", "JO": "ar", "JP": "ja", "CN": "zh", "TW": "zh",
    "KR": "ko", "VN": "vi", "TH": "th", "ID": "id", "IR": "fa", "PK": "ur", "BD": "bn",
}  # fmt: skip


@cache
def language_model() -> dict:  # loading the model takes about a second: once per process
    from py3langid.langid import _load_identifier

    ident = _load_identifier(norm_probs=True)
    ident.set_languages(iso_639_1(ident.labels))  # its few ISO 639-3-only classes (pcm, ...) left out
    # int32: the automaton's ten million transitions (states and offsets fit) in half the memory of int64
    return {
        "nextmove": np.asarray(ident.tk_nextmove, dtype=np.int32),
        "rowbase": np.asarray(ident._rowbase, dtype=np.int32),
        "output": np.asarray(ident.tk_output, dtype=np.int32),
        # row-major, as scipy's sparse @ dense reads it: a column-major one was copied (44 MiB) at every call
        "ptc": np.ascontiguousarray(ident.nb_ptc, dtype=np.float32),
        "pc": np.asarray(ident.nb_pc, dtype=np.float32),
        "classes": np.asarray(ident.nb_classes, dtype=object),
        "aliases": list(ident._alias_pairs),
    }


def iso_639_1(labels: list[str]) -> list[str]:
    """The model's languages that have a two-letter code: the ones a rep can list."""
    return [label for label in labels if len(label) == 2]


def _encoded(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The texts as py3langid reads them (all upper case folded, NFC, UTF-8), in one (rows × longest) byte
    matrix, with each text's length in bytes."""
    # str methods one text at a time beat pandas' .str chain (which loops too, with more overhead per text)
    data = [
        unicodedata.normalize("NFC", t.lower() if t.isupper() else t).encode("utf8", errors="surrogatepass")
        for t in texts.fillna("").astype(str).str.slice(0, MAX_CHARS)
    ]
    lengths = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
    width = int(lengths.max()) if len(data) else 0
    # each text padded with NULs by bytes.ljust: one copy, no scatter of every byte to its (row, column)
    flat = np.frombuffer(b"".join(d.ljust(width, b"\0") for d in data), dtype=np.uint8)
    return flat.reshape(len(data), width), lengths


def detect_languages(texts: pd.Series, rows: int = DETECT_ROWS) -> pd.DataFrame:
    """language and language_confidence of each text: py3langid's naive Bayes (the same answer as its
    `classify` with norm_probs), its byte automaton walked over `rows` distinct texts at once (each text is
    read on its own: a million leads at once took gigabytes of byte matrix and scores)."""
    codes, distinct = pd.factorize(texts.fillna("").astype(str))  # a missing text reads as an empty one
    unique = pd.Series(distinct, dtype=object)
    parts = [_detect(unique.iloc[s : s + rows]) for s in range(0, len(unique), rows)] or [_detect(unique)]
    found = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return found.take(codes).set_axis(texts.index)


def _detect(texts: pd.Series) -> pd.DataFrame:
    """detect_languages over texts all at once."""
    model = language_model()
    padded, lengths = _encoded(texts)
    n = len(lengths)
    # longest first, so the texts still running at step j are the first ones: slices, not fancy indexing
    order = np.argsort(-lengths, kind="stable")
    by_step = np.ascontiguousarray(padded[order].T)  # step j's bytes in one contiguous row
    running = n - np.searchsorted(np.sort(lengths), np.arange(padded.shape[1]), side="right")
    del padded  # the walk reads by_step only: one byte matrix held through it, not two
    state = np.zeros(n, dtype=np.int64)
    rows, features = [], []
    for j, live in enumerate(running):  # one step of the automaton for every text still running
        state[:live] = model["nextmove"][model["rowbase"][state[:live]] + by_step[j, :live]]
        found = model["output"][state[:live]]
        hit = np.flatnonzero(found >= 0)
        rows.append(hit.astype(np.int32))
        features.append(found[hit])
    # int32 (the automaton's own width): a page's hits are millions, and int64 lists and copies were its peak
    rows_ = order.astype(np.int32)[np.concatenate([np.empty(0, np.int32), *rows])]
    features_ = np.concatenate([np.empty(0, np.int32), *features])
    del rows, features
    counts = sparse.csr_matrix(
        (np.ones(len(rows_), dtype=np.float32), (rows_, features_)), shape=(n, len(model["ptc"]))
    )
    counts.sum_duplicates()
    counts.data = np.log1p(counts.data)
    scores = np.asarray(counts @ model["ptc"]) + model["pc"]
    # as py3langid: temperature sqrt(bytes) keeps the softmax calibrated across lengths; no feature: uniform
    scores = np.where(counts.getnnz(axis=1)[:, None] > 0, scores, 0.0)
    scores /= np.sqrt(np.maximum(lengths, 1))[:, None]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    for first, dupe in model["aliases"]:  # one label in two columns (srl -> sr): one score
        scores[:, first] += scores[:, dupe]
        scores[:, dupe] = 0.0
    best = scores.argmax(axis=1)
    found_any = lengths > 0
    language = np.where(found_any, model["classes"][best], None)
    confidence = np.where(found_any, scores[np.arange(n), best], np.nan)
    return pd.DataFrame(
        {
            "language": pd.array(language, dtype="string"),
            "language_confidence": pd.array(confidence, dtype="Float64"),
        },
        index=texts.index,
    )


def lead_text(frame: pd.DataFrame) -> pd.Series:
    """What the lead wrote, then who they are: message, title and company, joined."""
    present = [c for c in TEXT_COLUMNS if c in frame]
    if not present:
        return pd.Series("", index=frame.index, dtype="string")
    parts = [_arrow(frame[c]).fill_null("") for c in present]
    # in Arrow, a copy per step rather than a Python string per text; the class is Python's \s (see above)
    text = (
        pc.binary_join_element_wise(*parts, pa.scalar(". ", pa.large_string()))
        if len(parts) > 1
        else parts[0]
    )
    text = pc.utf8_trim(pc.replace_substring_regex(text, rf"(\.{_RE2_SPACE})+", ". "), ". ")
    return pd.Series(pd.array(text, dtype="string"), index=frame.index, name=present[0])


def word_characters(text: pd.Series) -> np.ndarray:
    """How many characters of each text (no NA) Python's re reads as \\w. ASCII texts are counted on their
    bytes (a byte is a character, and \\w is [0-9A-Za-z_]); the others (Python's \\w is Unicode-aware) by re."""
    arrow = _arrow(text).combine_chunks()
    counts = np.zeros(len(arrow), dtype=np.int64)
    if len(arrow) and arrow.buffers()[2] is not None:
        offsets = np.frombuffer(arrow.buffers()[1], dtype=np.int64)[
            arrow.offset : arrow.offset + len(arrow) + 1
        ]
        running = np.concatenate(
            [[0], np.cumsum(_WORD_BYTE[np.frombuffer(arrow.buffers()[2], dtype=np.uint8)])]
        )
        counts = running[offsets[1:]] - running[offsets[:-1]]
    other = np.flatnonzero(~pc.string_is_ascii(arrow).to_numpy(zero_copy_only=False))
    counts[other] = [len(_NOT_WORD.sub("", t)) for t in text.iloc[other]]
    return counts


def _arrow(values: pd.Series) -> pa.ChunkedArray:
    """A column as Arrow large strings, as astype("string") reads it (its characters not copied when the
    column is Arrow-backed already)."""
    return pa.chunked_array(pa.array(values.astype("string[pyarrow]").array)).cast(pa.large_string())


def language_of(frame: pd.DataFrame) -> pd.DataFrame:
    """language and language_confidence of each lead: detected from what it wrote when the text is long and
    clear enough, else the main language of its country (confidence <NA>), else <NA>."""
    # the text is built and read once per distinct (message, title, company): a million leads repeat a few
    # hundred thousand, and a per-lead copy of the joined text took hundreds of MiB
    first, combo = _distinct_texts(frame)
    text = lead_text(frame.filter(items=TEXT_COLUMNS).iloc[first])  # not a copy of every column
    detected = detect_languages(text)
    size = word_characters(text)
    confidence = detected["language_confidence"].fillna(0.0)
    trusted = ((size >= MIN_CHARS) & (confidence >= MIN_CONFIDENCE)) | (
        (size > 0) & (confidence >= SHORT_CONFIDENCE)
    )
    country = frame["country"].astype("string") if "country" in frame else pd.Series(pd.NA, index=frame.index)
    fallback = country.str.upper().map(COUNTRY_LANGUAGE).astype("string")
    per_lead = trusted.to_numpy(dtype=bool)[combo]
    return pd.DataFrame(
        {
            "language": _per_lead(detected["language"], combo, frame.index).where(per_lead, fallback),
            "language_confidence": _per_lead(detected["language_confidence"], combo, frame.index).where(
                per_lead
            ),
        },
        index=frame.index,
    )


def _distinct_texts(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The position of the first lead of each distinct (message, title, company) as lead_text reads them, and
    each lead's index into those."""
    key = np.zeros(len(frame), dtype=np.int64)
    for name in [c for c in TEXT_COLUMNS if c in frame]:
        codes, values = pd.factorize(frame[name].astype("string"))  # missing: -1, hence the shift
        # renumbered after each column: the combined number stays below rows² (no int64 overflow)
        key = pd.factorize(key * (len(values) + 1) + codes + 1)[0]
    _, first, combo = np.unique(key, return_index=True, return_inverse=True)
    return first, combo.reshape(-1)


def _per_lead(per_text: pd.Series, combo: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(per_text.array.take(combo), index=index, name=per_text.name)
