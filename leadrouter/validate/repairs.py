"""Harmless formatting undone before validation, and listed so routing can count it: an email's surrounding
spaces, its display name (`Ada <ada@acme.io>`) and full-width characters (`ada＠acme.io`); a vocabulary field's
value written in another case or with other spaces or punctuation (`Demo Request` is demo_request).

A repair never changes what a value means; one that would is no repair, and validation judges the value as
written. Per-value work runs on the few values that could need it.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from leadrouter.validate.vocabularies import VOCABULARIES, in_vocabulary

REPAIR_COLUMNS = ["position", "field", "raw", "new", "method"]  # position: the row's, in the batch
# a whole value "Name <address>" (the name may be quoted or empty): the address inside the brackets
_DISPLAY_NAME = re.compile(r"[^<>@]*<([^<>]+)>")


def _strings(values: pd.Series) -> pd.Series:
    """The values that are text, as the string dtype; anything else (bytes, numbers) missing."""
    if isinstance(values.dtype, pd.StringDtype):
        return values.astype("string")
    return pd.Series([v if isinstance(v, str) else None for v in values], index=values.index, dtype="string")


def repair_email(value: str) -> tuple[str, str | None]:
    """The address without harmless formatting, and how it was repaired ("nfkc": full-width or other
    compatibility characters, "trim": surrounding spaces, "display name"; joined with "+"), or None."""
    methods, text = [], unicodedata.normalize("NFKC", value)  # "＠" is "@", "ａ" is "a"
    if text != value:
        methods.append("nfkc")
    if (stripped := text.strip()) != text:
        methods.append("trim")
    if (named := _DISPLAY_NAME.fullmatch(stripped)) is not None:
        stripped = named.group(1).strip()
        methods.append("display name")
    return stripped, "+".join(methods) or None


def repair_emails(emails: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each email repaired (repair_email), and per row how (<NA>: as written). Only text with surrounding
    spaces, an angle bracket or a character beyond ASCII can need a repair: the rest is not looked at."""
    text = _strings(emails)
    suspect = (text.str.strip().ne(text) | text.str.contains("<", regex=False) | ~text.str.isascii()).fillna(
        False
    )
    method = pd.Series(pd.NA, index=emails.index, dtype="string")
    if not suspect.any():
        return emails, method
    codes, distinct = pd.factorize(text[suspect])
    repaired = [repair_email(value) for value in distinct]
    new = np.array([r[0] for r in repaired], dtype=object)[codes]
    how = np.array([r[1] for r in repaired], dtype=object)[codes]
    changed = pd.notna(how)
    at = suspect[suspect].index[changed]
    out = emails.astype(object).copy()
    out[at] = new[changed]
    method[at] = how[changed]
    return out.astype(emails.dtype), method


def respell_vocabulary(values: pd.Series, vocabulary: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """Each value as its vocabulary writes it where only case ("case"), or spaces and punctuation ("format"),
    differ; other values as written. Returns the values and per row how (<NA>: as written)."""
    codes, distinct = pd.factorize(_strings(values))
    spelled = in_vocabulary(list(distinct), vocabulary)
    respelled = [s if s is not None and s != v else None for s, v in zip(spelled, distinct, strict=True)]
    how = [None if s is None else "case" if s.casefold() == v.casefold() else "format"
           for s, v in zip(respelled, distinct, strict=True)]  # fmt: skip
    new = np.array([*respelled, None], dtype=object)[codes]
    method = pd.Series(np.array([*how, None], dtype=object)[codes], index=values.index, dtype="string")
    changed = pd.notna(new)
    out = values.copy()
    if changed.any():
        out = out.astype(object)
        out[changed] = new[changed]
        out = out.astype(values.dtype)
    return out, method


def repair_leads(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The batch with harmless formatting repaired (a copy, when anything was), and one row per repaired value
    (REPAIR_COLUMNS; raw and new as they are, for the caller to excerpt)."""
    steps = {"email": repair_emails} | {
        name: lambda v, words=words: respell_vocabulary(v, words) for name, words in VOCABULARIES.items()
    }
    out, listed = frame, []
    for name, repair in steps.items():
        if name not in frame:
            continue
        values = frame[name].reset_index(drop=True)
        new, method = repair(values)
        hit = method.notna().to_numpy()
        if not hit.any():
            continue
        out = frame.copy() if out is frame else out
        out[name] = new.to_numpy()
        listed.append(
            pd.DataFrame(
                {
                    "position": np.flatnonzero(hit),
                    "field": name,
                    "raw": values[hit].to_numpy(dtype=object),
                    "new": new[hit].to_numpy(dtype=object),
                    "method": method[hit].to_numpy(dtype=object),
                }
            )
        )
    repairs = pd.concat(listed, ignore_index=True) if listed else pd.DataFrame(columns=REPAIR_COLUMNS)
    return out, repairs
