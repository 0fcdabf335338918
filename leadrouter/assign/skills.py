"""Skills: what a rep is good at, as values of a lead column (`language: [ja]`, `industry: [Healthcare]`,
`product_line: [Payments]`), and how a pool uses them: `required` (only reps with the lead's value may take
it) or `preferred` (they get it first while they can; the rest of the pool otherwise).

A rep's `languages` are a skill on `language`, their `verticals` a skill on `industry`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import pycountry

from leadrouter.schema import ENRICHED_COLUMNS, LEAD_COLUMNS
from leadrouter.validate.vocabularies import COUNTRY_CODES, VOCABULARIES, vocabulary_key

Need = Literal["required", "preferred"]
LANGUAGE, INDUSTRY = "language", "industry"
# ISO 639-1: the codes leadrouter.enrich.language writes
LANGUAGE_CODES = tuple(sorted(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")))
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
SKILL_COLUMNS = frozenset(LEAD_COLUMNS) | frozenset(ENRICHED_COLUMNS)


def normalised(value: object) -> str:
    """How skill values compare: trimmed, case-folded (a lead's `Healthcare` matches a rep's `healthcare`)."""
    return str(value).strip().lower()


def reason(column: str) -> str:
    """The passed-over reason for a rep without the lead's value of this column (see Excluded)."""
    return {LANGUAGE: "NO_LANGUAGE", INDUSTRY: "NO_SPECIALISATION"}.get(column, "NO_SKILL")


def rep_skills(
    skills: Mapping[str, Iterable[str]], languages: Iterable[str], verticals: Iterable[str]
) -> dict[str, frozenset[str]]:
    """A rep's skills by lead column, normalised; languages and verticals folded in."""
    out = {c: set(map(normalised, v)) for c, v in skills.items()}
    out.setdefault(LANGUAGE, set()).update(map(normalised, languages))
    out.setdefault(INDUSTRY, set()).update(map(normalised, verticals))
    return {c: frozenset(v) for c, v in out.items() if v}


def vocabulary(column: str, custom_values: Mapping[str, list[str]]) -> tuple[str, ...] | None:
    """The known values of a column, when it has a closed list (None: any value)."""
    known = {
        **VOCABULARIES,
        LANGUAGE: LANGUAGE_CODES,
        "country": tuple(COUNTRY_CODES),
        "region": REGIONS,
        **{c: tuple(v) for c, v in custom_values.items() if v},
    }
    return known.get(column)


def skill_problems(
    loc: tuple, column: str, values: list[str], custom: Mapping[str, list[str]]
) -> list[tuple[tuple, str]]:
    """(location, message) for a skill naming a column no lead has, or a value outside the column's list;
    loc: where the skill's list of values is in the file.

    custom: the custom fields of config/fields.yaml, name -> known values (empty: any)."""
    if column not in SKILL_COLUMNS and column not in custom:
        fields = ", ".join(sorted(custom)) or "none"
        message = (
            f"unknown lead column {column!r}: name a lead or enrichment column (industry, language, country, "
            f"lead_source, ...) or a custom field of config/fields.yaml (configured: {fields})"
        )
        return [(loc, message)]
    known = vocabulary(column, custom)
    if known is None:
        return []
    keys = {vocabulary_key(k) for k in known}
    return [
        ((*loc, j), f"unknown {column} {value!r}: use one of {', '.join(known)}")
        for j, value in enumerate(values)
        if vocabulary_key(str(value)) not in keys
    ]


def sort_key(column: str) -> tuple[bool, bool, str]:
    """Language first, then industry, then the rest by name."""
    return (column != LANGUAGE, column != INDUSTRY, column)


def order(pool_needs: Mapping[str, Need], held: Iterable[str]) -> list[tuple[str, Need]]:
    """The skills a pool routes on, in the order it applies them: those it names (as written), then any
    other column its reps hold a skill on, preferred: language, industry, then by name."""
    rest = sorted(set(held) - set(pool_needs), key=sort_key)
    return [*pool_needs.items(), *((c, "preferred") for c in rest)]
