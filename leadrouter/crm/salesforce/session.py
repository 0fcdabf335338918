"""A Salesforce session: the OAuth client-credentials login, the hook that makes a 429 carry its Retry-After,
and which failures of a call are worth another try (an expired session after logging in again)."""

from __future__ import annotations

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from leadrouter.crm.errors import LoginRefused, LoginUnavailable
from leadrouter.retry import retry_after

API_VERSION = "59.0"


class RateLimited(requests.HTTPError):
    """A 429: raised by the session's response hook so its Retry-After reaches the retry policy (simple-salesforce
    keeps no headers on its own exceptions)."""


def refuse_429(response: requests.Response, *_: object, **__: object) -> None:
    """A requests response hook: a 429 becomes RateLimited, carrying the response and so its headers."""
    if response.status_code == 429:
        raise RateLimited(
            f"Salesforce answered 429 for {response.request.method} {response.url}", response=response
        )


def client_credentials_login(
    instance_url: str,
    client_id: str,
    client_secret: str,
    session: requests.Session | None = None,
    version: str = API_VERSION,
    timeout_s: float = 30.0,
) -> Salesforce:
    """A Salesforce client from the OAuth 2.0 client-credentials flow of a connected app (My Domain URL)."""
    session = session or requests.Session()
    if refuse_429 not in session.hooks["response"]:
        session.hooks["response"].append(refuse_429)
    response = session.post(
        f"{instance_url.rstrip('/')}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
        timeout=timeout_s,
    )
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code == 429 or response.status_code >= 500:  # the login service is busy: retry
        raise LoginUnavailable(f"Salesforce login unavailable ({response.status_code})")
    if response.status_code != 200:
        # the error names the problem, never the secret
        raise LoginRefused(
            f"Salesforce login failed ({response.status_code}): {body.get('error')}: {body.get('error_description')}"
        )
    return Salesforce(
        instance_url=body.get("instance_url") or instance_url,
        session_id=body["access_token"],
        session=session,
        version=version,
    )


def is_transient(exc: Exception) -> bool:
    """A failure worth retrying: server errors, the org's API limit, timeouts, dropped connections, a busy login
    service and an expired session (logged in again first)."""
    if isinstance(
        exc,
        requests.ConnectionError
        | requests.Timeout
        | LoginUnavailable
        | SalesforceExpiredSession
        | RateLimited,
    ):
        return True
    if isinstance(exc, SalesforceRefusedRequest):
        return "REQUEST_LIMIT_EXCEEDED" in str(exc.content)
    return isinstance(exc, SalesforceGeneralError) and exc.status >= 500


def pause_for(exc: Exception) -> float | None:
    """An expired session is tried again at once (after logging in); other failures wait as the policy says."""
    return 0.0 if isinstance(exc, SalesforceExpiredSession) else retry_after(exc)
