"""The webhook receiver's settings: every field can be set by a LEADROUTER_WEBHOOK_* environment variable."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    """Where the receiver listens, the CRMs' secrets, and how long a burst is merged into one event."""

    model_config = SettingsConfigDict(env_prefix="LEADROUTER_WEBHOOK_")

    host: str = "127.0.0.1"
    port: int = 8787
    # the public URL HubSpot calls (https://hooks.example.com); the v3 signature covers the full URI HubSpot
    # used, which a reverse proxy hides. Unset: the URL of the request as it reached us.
    public_url: str | None = None
    hubspot_client_secret: SecretStr | None = None  # the HubSpot app's client secret
    hubspot_secret_block: str | None = None  # or a Prefect Secret block holding it
    salesforce_secret: SecretStr | None = None  # the shared secret a Flow callout / Outbound Message sends
    salesforce_secret_block: str | None = None
    salesforce_org_id: str | None = None  # Outbound Messages from any other org are refused
    max_age_s: float = 300.0  # HubSpot: refuse a request timestamp older than 5 minutes
    # at most one event per CRM per window; the route-inbound trigger's `within` is the same window. Short:
    # a lead announced inside it waits for the window's end (a running run lingers and routes it sooner)
    coalesce_s: float = 1.0
    max_body_bytes: int = 1_000_000
