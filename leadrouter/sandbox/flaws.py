"""What makes a generated lead imperfect the way real ones are: malformed rows and known contacts writing in
again. Both edit the lead's columns in place, over whole columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadrouter.sandbox import words as W
from leadrouter.sandbox.arrays import as_objects, render


def break_malformed(
    rng: np.random.Generator, lead: dict, how: np.ndarray, parts: dict, size: np.ndarray
) -> None:
    """Malformed rows: a broken email (0), no company (1), a junk person (2), a negative headcount (3)."""
    at = np.flatnonzero(how == 0)
    domain = pd.Series(lead["email"], dtype=object).str.partition("@")[2]
    parts = parts | {"domain": domain.to_numpy(dtype=object), "head": domain.str.partition(".")[0].to_numpy()}
    lead["email"][at] = render(
        as_objects(W.BAD_EMAILS), rng.integers(len(W.BAD_EMAILS), size=len(at)), parts, at
    )
    at = np.flatnonzero(how == 1)
    lead["company"][at], lead["website"][at] = np.where(rng.random(len(at)) < 0.5, None, ""), None
    at = np.flatnonzero(how == 2)
    junk = {"first_name": W.JUNK_FIRST, "last_name": W.JUNK_LAST, "email": W.JUNK_EMAILS}
    for column, words in (junk | {"company": [*W.JUNK_COMPANIES, None, None]}).items():
        lead[column][at] = as_objects(words)[rng.integers(len(words), size=len(at))]
    lead["title"][at], lead["website"][at], lead["phone"][at] = None, None, "1234567890"
    at = np.flatnonzero(how == 3)
    lead["employees"][at] = -np.maximum(np.nan_to_num(size[at], nan=1.0), 1.0)


def repeat_contacts(rng: np.random.Generator, lead: dict, people: pd.DataFrame, dup: np.ndarray) -> None:
    """Known contacts writing in again: their name, title and email, perhaps re-cased or padded."""
    people = people.astype(object).fillna("").astype(str)
    for column in ("first_name", "last_name", "title"):
        lead[column][dup] = people[column].to_numpy(dtype=object)
    email = people["email"]
    local, _, domain = (p for _, p in email.str.partition("@").items())
    variants = [email, local.str.title() + "@" + domain, email.str.upper(), " " + email + " "]
    recase = rng.choice(4, len(people), p=[0.5, 0.2, 0.1, 0.2])
    lead["email"][dup] = np.choose(recase, [v.to_numpy(dtype=object) for v in variants])
