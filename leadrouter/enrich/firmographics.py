"""Firmographics (size, industry, revenue) for a lead's company, from a provider keyed by email domain."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd
import requests

log = logging.getLogger(__name__)

FIRMOGRAPHIC_COLUMNS = ["employees", "industry", "annual_revenue"]
FIRMOGRAPHIC_DTYPES: dict[str, str] = {
    "domain": "string",
    "employees": "Int64",
    "industry": "string",
    "annual_revenue": "Float64",
}


class ProviderError(RuntimeError):
    """A provider call failed; the message names the provider and the cause, never a secret or lead text."""


class Provider(Protocol):
    def lookup(self, domains: Sequence[str]) -> pd.DataFrame:
        """One row per known domain: domain, employees, industry, annual_revenue; unknown ones are absent."""
        ...


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The provider frame shape: exactly the firmographic columns, typed, domains lower-case and unique."""
    out = frame.reindex(columns=list(FIRMOGRAPHIC_DTYPES))
    out["employees"] = pd.to_numeric(out["employees"], errors="coerce").round()
    out = out.astype(FIRMOGRAPHIC_DTYPES)
    out["domain"] = out["domain"].str.strip().str.lower()
    return out.dropna(subset=["domain"]).drop_duplicates("domain").reset_index(drop=True)


class TableProvider:
    """Answers from a frame of accounts, e.g. the sandbox CRM's own accounts (SandboxCRM.firmographics)."""

    def __init__(self, accounts: pd.DataFrame) -> None:
        self.accounts = _typed(accounts).set_index("domain", drop=False)

    def lookup(self, domains: Sequence[str]) -> pd.DataFrame:
        wanted = pd.Index(domains, dtype="string").str.lower()
        return self.accounts[self.accounts.index.isin(wanted)].reset_index(drop=True)


class HttpProvider:
    """A JSON API: POST {"domains": [...]} -> {"companies": [...]}, in batches, each domain cached for a TTL.

    Misses are cached too, so an unknown domain is not asked again on every run. Any failure raises
    ProviderError; batches answered before it stay cached.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        timeout_s: float = 2.0,
        cache_ttl_s: float = 86400,
        batch_size: int = 100,
        session: requests.Session | None = None,
    ) -> None:
        self.url, self.timeout_s, self.cache_ttl_s = url, timeout_s, cache_ttl_s
        self.batch_size = max(1, batch_size)
        self.session = session or requests.Session()
        self._api_key = api_key
        self._cache: dict[
            str, tuple[float, dict[str, Any] | None]
        ] = {}  # domain -> (expires, record or miss)
        self.requests_made = 0

    def __repr__(self) -> str:  # never show the key
        return self._redact(f"HttpProvider(url={self.url!r})")

    def lookup(self, domains: Sequence[str]) -> pd.DataFrame:
        now = time.monotonic()
        wanted = list(dict.fromkeys(d.strip().lower() for d in domains if d))
        stale = [d for d in wanted if d not in self._cache or self._cache[d][0] <= now]
        for start in range(0, len(stale), self.batch_size):
            self._fetch(stale[start : start + self.batch_size])
        records = [record for d in wanted if (record := self._cache[d][1]) is not None]
        return _typed(pd.DataFrame(records, columns=list(FIRMOGRAPHIC_DTYPES)))

    def _fetch(self, batch: list[str]) -> None:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        self.requests_made += 1
        try:
            response = self.session.post(
                self.url, json={"domains": batch}, headers=headers, timeout=self.timeout_s
            )
            response.raise_for_status()
            companies = response.json()["companies"]
            found = {str(c["domain"]).strip().lower(): c for c in companies if c.get("domain")}
        except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError) as exc:
            # from None: the chained exception holds the request, whose headers carry the key
            message = f"firmographics provider {self.url} failed: {type(exc).__name__}: {exc}"[:400]
            raise ProviderError(self._redact(message)) from None
        expires = time.monotonic() + self.cache_ttl_s
        for domain in batch:
            self._cache[domain] = (expires, found.get(domain))

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text


def enrich_firmographics(leads: pd.DataFrame, provider: Provider) -> pd.DataFrame:
    """Fill missing employees / industry / annual_revenue from `provider` by the lead's email domain.

    Adds enrichment_failed (the provider was needed and raised) and firmographics_source ("provider" when
    it filled any field, "lead" when only the lead's own values are present, else <NA>). Values the lead
    gave are never overwritten, free-mail domains are never looked up, and a failing provider never fails
    the batch.
    """
    out = leads.copy(deep=False)  # copy-on-write: the caller's frame stays as it was, its columns uncopied
    for column in FIRMOGRAPHIC_COLUMNS:
        dtype = FIRMOGRAPHIC_DTYPES[column]
        out[column] = out[column].astype(dtype) if column in out else pd.Series(pd.NA, out.index, dtype)
    domain = out["email_domain"].astype("string").str.lower()
    free = out["is_free_mail"].astype("boolean").fillna(False) if "is_free_mail" in out else False
    own_values = out[FIRMOGRAPHIC_COLUMNS].notna()
    needed = ~own_values.all(axis=1) & domain.notna() & ~free

    filled = pd.Series(False, index=out.index)
    failed = False
    if needed.any():
        try:
            found = _typed(provider.lookup(domain[needed].unique().tolist())).set_index("domain")
        except Exception as exc:  # any provider bug or outage: route without firmographics
            failed = True
            reason = str(exc) if isinstance(exc, ProviderError) else type(exc).__name__
            log.warning("firmographics lookup failed for %d leads: %s", int(needed.sum()), reason)
        else:
            at = found.index.get_indexer(domain.where(needed))  # each lead's row in `found` once, or -1
            for column in FIRMOGRAPHIC_COLUMNS:
                value = pd.Series(found[column].array.take(at, allow_fill=True), index=out.index)
                gap = out[column].isna() & value.notna()
                out[column] = out[column].mask(gap, value)
                filled |= gap

    out["enrichment_failed"] = (needed & failed).astype("boolean")
    source = pd.Series(pd.NA, index=out.index, dtype="string")
    source[own_values.any(axis=1)] = "lead"
    source[filled] = "provider"
    out["firmographics_source"] = source
    return out
