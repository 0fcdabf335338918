"""Domains that identify a company: the registrable domain of an email, host or URL (tldextract's bundled
public-suffix list, never the network), never free mail, never a profile page on a social site."""

from __future__ import annotations

from functools import cache

import pandas as pd
import tldextract

from leadrouter.enrich.email import FREE_MAIL_DOMAINS

# social and review sites: a website there with a path is a profile page, not the company's own domain
PROFILE_SITES = frozenset(
    "facebook.com linkedin.com instagram.com twitter.com x.com youtube.com tiktok.com yelp.com google.com "
    "crunchbase.com".split()
)
# an optional scheme, an optional user-info or email local part, then the host
_HOST = r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^/?#]*@)?([^/?#:\s\\]+)"
_WITH_PATH = r"^(?:[a-z][\w+.-]*://)?[^/]+/[^/?#\s]"


@cache
def _suffix_extractor() -> tldextract.TLDExtract:
    # the bundled public-suffix snapshot only: no download, no disk cache; private suffixes on, so that
    # shops on myshopify.com or blogs on blogspot.com are not all one company
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def registrable_domain(hosts_or_emails: pd.Series) -> pd.Series:
    """The registrable domain of each email, host or URL (jo@eu.acme.co.uk -> acme.co.uk), or <NA>."""
    codes, uniques = pd.factorize(hosts_or_emails.astype("string"))
    domains = registrable(hosts(pd.Series(uniques, dtype="string"))).array
    return pd.Series(domains.take(codes, allow_fill=True), index=hosts_or_emails.index, name="domain")


def hosts(texts: pd.Series) -> pd.Series:
    return texts.str.strip().str.lower().str.extract(_HOST, expand=False).str.strip(".")


def registrable(hosts: pd.Series) -> pd.Series:
    extract = _suffix_extractor()  # once per distinct host: tldextract is the slow step
    domain_of = {
        host: extract(host).top_domain_under_public_suffix or None for host in hosts.dropna().unique()
    }
    return hosts.map(domain_of).astype("string")


def company_domains(domains: pd.Series, websites: pd.Series) -> pd.Series:
    """Domains that can identify a company: never free mail, never a profile page on a social site."""
    profile_page = domains.isin(PROFILE_SITES) & websites.str.contains(_WITH_PATH).fillna(False).astype(bool)
    return domains.where(~domains.isin(FREE_MAIL_DOMAINS) & ~profile_page)


def ends_in(host: str, domains: set[str]) -> bool:
    """Whether the host is one of `domains` or a subdomain of one."""
    while True:
        if host in domains:
            return True
        _, dot, host = host.partition(".")
        if not dot:
            return False
