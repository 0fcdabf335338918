"""Enrichment: what we can learn about a lead before classifying it. No step can fail the batch."""

from __future__ import annotations

import logging

import pandas as pd

from leadrouter.crm.base import CRM
from leadrouter.enrich.accounts import match_accounts
from leadrouter.enrich.email import email_domain, is_free_mail
from leadrouter.enrich.firmographics import FIRMOGRAPHIC_COLUMNS, Provider, enrich_firmographics
from leadrouter.enrich.geo import country_code, region_of
from leadrouter.enrich.language import language_model, language_of
from leadrouter.enrich.seniority import seniority_of
from leadrouter.enrich.territory import Territories, territory_of, timezone_of

log = logging.getLogger(__name__)
MATCH_COLUMNS = ["account_id", "match_method", "match_score", "match_explanation"]


def enrich_leads(
    frame: pd.DataFrame,
    accounts: pd.DataFrame | None = None,
    provider: Provider | None = None,
    territories: Territories | None = None,
) -> pd.DataFrame:
    """Email domain and free mail; ISO country, region, territory and time zone; seniority from the title;
    the language (from what the lead wrote, else its country's); the matched account (explained) and its firmographics, then the provider's for what is still missing."""
    out = frame.copy(
        deep=False
    )  # copy-on-write: the caller's frame stays as it was, its columns are not copied
    out["email_domain"] = email_domain(out["email"])
    out["is_free_mail"] = is_free_mail(out["email_domain"])
    out["country"] = country_code(out["country"])
    out["region"] = region_of(out["country"])
    out["territory"] = territory_of(out, territories) if territories else out["region"]
    out["timezone"] = timezone_of(out)
    out["seniority"] = seniority_of(out["title"])
    out[["language", "language_confidence"]] = language_of(out)
    out = with_account(out, accounts)
    if provider is None:
        return out.assign(enrichment_failed=False)
    return enrich_firmographics(out, provider)


def warm_up() -> None:
    """Load the language model (about a second), so a long-lived worker's first batch enriches as fast as the
    rest."""
    language_model()


def accounts_for_matching(crm: CRM) -> pd.DataFrame:
    """The CRM's accounts; when the CRM cannot list them, leads still route, just unmatched."""
    try:
        return crm.fetch_accounts()
    except Exception as exc:  # matching is an enrichment: it never blocks routing
        log.warning("accounts unavailable, leads route unmatched: %s", type(exc).__name__)
        return pd.DataFrame()


def with_account(leads: pd.DataFrame, accounts: pd.DataFrame | None) -> pd.DataFrame:
    """The matched account, and its employees, industry and revenue where the lead gave none (the lead's
    own values always win)."""
    if accounts is None or accounts.empty:
        columns = [*MATCH_COLUMNS, "account_owner_id"]
        return leads.assign(**{c: pd.Series(pd.NA, index=leads.index, dtype="string") for c in columns})
    # the email domain enrich_leads derived: matching need not derive it again
    matched = match_accounts(leads.filter(["email", "email_domain", "company", "website"]), accounts)
    out = leads.assign(**{c: matched[c] for c in MATCH_COLUMNS})
    known = accounts.drop_duplicates("account_id").set_index("account_id")
    # the account's owner takes its new leads first (assignment checks they are at work); not an inactive one
    active_owner = known["owner_id"].where(known["owner_active"].fillna(False).astype(bool))
    out["account_owner_id"] = out["account_id"].map(active_owner).astype("string")
    for column in FIRMOGRAPHIC_COLUMNS:
        from_account = out["account_id"].map(known[column]).astype(out[column].dtype)
        out[column] = out[column].fillna(from_account)
    return out
