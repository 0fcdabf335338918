"""The validation suite, declared as code and versioned with the project: each check's column, severity,
problem and fix (the GX expectation it runs on the checked copy), and checks_for, the suite with exactly the
required fields' presence checks. `validate.suite` runs it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from leadrouter.fields import ALWAYS_REQUIRED
from leadrouter.validate.checks import PLACEHOLDER_FULL_NAMES
from leadrouter.validate.gx import Check, Severity
from leadrouter.validate.prepare import EMPLOYEES_MAX, REVENUE_MAX, TEXT_LIMITS
from leadrouter.validate.vocabularies import (
    COUNTRY_CODES,
    DISPOSABLE_DOMAINS,
    ROLE_MAILBOXES,
    SYSTEM_MAILBOXES,
)


def _present(name: str, column: str, fix: str, severity: Severity = "blocking") -> Check:
    """A not-null check; blanks are null in the checked copy."""
    return Check(name, column, severity, fix, "ExpectColumnValuesToNotBeNull", problem="is missing")


def _holds(name: str, column: str, target: str, severity: Severity, fix: str, problem: str) -> Check:
    """A check on a verdict that prepare_leads worked out per value (True: fine) into `target`."""
    params = (("value_set", (True,)),)
    return Check(name, column, severity, fix, "ExpectColumnValuesToBeInSet", params, problem, target)


def _none_of(
    name: str, column: str, target: str, values: frozenset[str], severity: Severity, fix: str, problem: str
) -> Check:
    params = (("value_set", tuple(sorted(values))),)
    return Check(name, column, severity, fix, "ExpectColumnValuesToNotBeInSet", params, problem, target)


def _readable(column: str, problem: str, fix: str, severity: Severity = "warning") -> Check:
    """A value given but not readable as its type (kept as written, fields.raw_column): a warning, the lead
    routing without it, unless the field is required (checks_for)."""
    return _holds(f"{column}_readable", column, f"{column}_readable", severity, fix, problem)


def _range(name: str, column: str, high: float, fix: str, problem: str) -> Check:
    params = (("min_value", 0), ("max_value", high))
    return Check(name, column, "blocking", fix, "ExpectColumnValuesToBeBetween", params, problem)


def _length(column: str) -> Check:
    """Over-long text: the lead routes, its text cut to the limit in the valid frame (the CRM keeps it all)."""
    limit = TEXT_LIMITS[column]
    fix = f"none needed: the lead routes with {column} cut to {limit:,} characters (the CRM keeps it all)"
    params = (("max_value", limit),)
    problem = f"is over {limit:,} characters"
    name = f"{column}_length"
    return Check(name, column, "warning", fix, "ExpectColumnValuesToBeBetween", params, problem, target=name)


_JUNK_FIX = "check the lead is real: correct it in the CRM, or delete it if it is a test"
_JUNK = "looks like test, placeholder or keyboard-mash input"
SUITE: list[Check] = [
    _present("lead_id_present", "lead_id", "fix the CRM adapter: every lead needs its CRM id"),
    Check(
        "lead_id_unique", "lead_id", "blocking", "remove the duplicate rows or fix the CRM adapter",
        "ExpectColumnValuesToBeUnique", problem="appears more than once in the batch",
    ),
    _present("email_present", "email", "set an email address on the lead in the CRM"),
    _holds("email_format", "email", "email_valid", "blocking", "set a valid email address on the lead in the CRM",
           "is not a valid email address"),
    _none_of("email_not_disposable", "email", "email_domain", DISPOSABLE_DOMAINS, "blocking",
             "ask the lead for an address they keep: this inbox is thrown away", "is at a disposable mail domain"),
    _none_of("email_not_system_mailbox", "email", "email_mailbox", SYSTEM_MAILBOXES, "blocking",
             "ask the lead for their own address: nobody reads this mailbox", "is a no-reply or system mailbox"),
    _present("company_present", "company", "set the company on the lead in the CRM"),
    _present("created_at_present", "created_at", "fix the CRM adapter: leads need a creation time"),
    _readable("created_at", "could not be read as a date and time",
              "correct the creation time in the CRM: a real date and time, such as 2026-02-28T09:30:00Z",
              "blocking"),
    _holds("first_name_plausible", "first_name", "first_name_plausible", "blocking", _JUNK_FIX, _JUNK),
    _holds("last_name_plausible", "last_name", "last_name_plausible", "blocking", _JUNK_FIX, _JUNK),
    _none_of("full_name_plausible", "full_name", "full_name", PLACEHOLDER_FULL_NAMES, "blocking", _JUNK_FIX,
             "is a placeholder person"),
    _holds("company_plausible", "company", "company_plausible", "blocking", _JUNK_FIX, _JUNK),
    _range("employees_in_range", "employees", EMPLOYEES_MAX, "correct the employee count in the CRM",
           f"is not a head count from 0 to {EMPLOYEES_MAX:,}"),
    _range("annual_revenue_in_range", "annual_revenue", REVENUE_MAX, "correct the annual revenue in the CRM",
           f"is not an amount from 0 to {REVENUE_MAX:,.0f}"),
    _readable("employees", "is not a number, so the size is unknown",
              "write the employee count in the CRM as a whole number, such as 250"),
    _readable("annual_revenue", "is not an amount, so the revenue is unknown",
              "write the annual revenue in the CRM as a number, such as 1200000"),
    _none_of("email_not_role_mailbox", "email", "email_mailbox", ROLE_MAILBOXES, "warning",
             "none needed, the lead routes: ask for the person behind the shared inbox", "is a shared team mailbox"),
    _holds("phone_valid", "phone", "phone_valid", "warning",
           "correct the number in the CRM, best with its +country code",
           "is not a valid phone number for the lead's country"),
    Check(
        "country_known", "country", "warning", "set the country by name or ISO code in the CRM",
        "ExpectColumnValuesToBeInSet", (("value_set", tuple(COUNTRY_CODES)),), "is not a country we know",
        target="country_iso",
    ),
    *(_length(column) for column in TEXT_LIMITS),
    _present("title_present", "title", "add the job title on the lead in the CRM", severity="warning"),
]  # fmt: skip


def checks_for(required: Sequence[str], unreadable: Sequence[str] = ()) -> tuple[Check, ...]:
    """SUITE with a blocking presence check for exactly the required fields (config/fields.yaml's `required`,
    plus lead_id and created_at): email and company are dropped when an anonymised or B2C source does not
    require them, and a field required here that SUITE only warns about (title) blocks. `unreadable`: the
    custom fields with a value that could not be read, each checked as SUITE checks employees; a required
    field's unreadable value blocks, as a missing one does."""
    need = dict.fromkeys([*ALWAYS_REQUIRED, *required])
    required_now, out = set(need), []
    extra = [
        _readable(name, "could not be read as its type (config/fields.yaml), so it is unknown",
                  f"correct {name} in the CRM: a value of the type config/fields.yaml gives it")
        for name in unreadable if f"{name}_readable" not in {c.name for c in SUITE}
    ]  # fmt: skip
    for check in [*SUITE, *extra]:
        if check.name == f"{check.column}_readable":  # unreadable is as good as missing where one is needed
            check = replace(check, severity="blocking" if check.column in required_now else "warning")
        elif check.name == f"{check.column}_present":
            if check.column in need:
                check = replace(check, severity="blocking")
                need.pop(check.column)
            elif check.severity == "blocking":
                continue
        out.append(check)
    fix = "set {} on the lead in the CRM (config/fields.yaml requires it)"
    return (*out, *(_present(f"{name}_present", name, fix.format(name)) for name in need))
