"""Enrichment: what we can learn about a lead before classifying it."""

from __future__ import annotations

import pandas as pd

from leadrouter.enrich.email import email_domain, is_free_mail
from leadrouter.enrich.geo import country_code, region_of


def enrich_leads(frame: pd.DataFrame) -> pd.DataFrame:
    """Add email_domain, is_free_mail and region, and normalise country to ISO alpha-2 where we can."""
    out = frame.copy()
    out["email_domain"] = email_domain(out["email"])
    out["is_free_mail"] = is_free_mail(out["email_domain"])
    out["country"] = country_code(out["country"])
    out["region"] = region_of(out["country"])
    return out
