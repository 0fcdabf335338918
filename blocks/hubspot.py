"""HubSpotConnection: a private app's token, and the HubSpot adapter built from it, paced by a Prefect rate limit."""

from __future__ import annotations

from prefect.blocks.core import Block
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import rate_limit
from prefect.exceptions import ObjectNotFound
from pydantic import Field, SecretStr

from leadrouter.crm.hubspot.client import HubSpotCRM, make_client
from leadrouter.retry import RetryPolicy


class HubSpotConnection(Block):
    """Route HubSpot contacts; every API request takes a slot of a Prefect rate limit shared by all runs."""

    _block_type_name = "HubSpot Connection"
    _description = "Private-app access token, API host and request pacing for leadrouter."

    access_token: SecretStr = Field(
        description="A private app's access token (crm.objects.contacts.*, owners)."
    )
    host: str = Field(default="https://api.hubapi.com")
    requests_per_10s: int = Field(
        default=100,
        gt=0,
        description="Your account's burst limit: 100 (Free/Starter) or 190 (Pro/Enterprise).",
    )
    rate_limit_name: str = Field(
        default="hubspot-api", description="The Prefect global concurrency limit to use."
    )
    searches_per_second: int = Field(
        default=5, gt=0, description="HubSpot's CRM search limit per account (searches have their own limit)."
    )
    lifecycle_stages: list[str] = Field(
        default_factory=lambda: ["subscriber", "lead", "marketingqualifiedlead"],
        description="Contacts in these lifecycle stages are inbound leads to route.",
    )
    write_properties: dict[str, str] = Field(
        default_factory=lambda: {"tier": "lead_tier", "routing_reason": "routing_reason"},
        description="Routing fields written besides the owner: field -> contact property. A property the "
        "portal lacks is left out (the owner is still written).",
    )
    retries: int = Field(default=6, ge=0, description="Retries of a 429 or 5xx (Retry-After is honoured).")
    backoff_s: float = Field(default=0.5, ge=0)

    def ensure_rate_limit(self) -> None:
        """Create the limits on first use: `requests_per_10s` slots freed at a tenth of that per second, and
        `searches_per_second` slots for searches, freed at that rate."""
        limits = {
            self.rate_limit_name: (self.requests_per_10s, self.requests_per_10s / 10),
            f"{self.rate_limit_name}-search": (self.searches_per_second, float(self.searches_per_second)),
        }
        with get_client(sync_client=True) as client:
            for name, (limit, decay) in limits.items():
                try:
                    client.read_global_concurrency_limit_by_name(name)
                except ObjectNotFound:
                    client.create_global_concurrency_limit(
                        GlobalConcurrencyLimitCreate(name=name, limit=limit, slot_decay_per_second=decay)
                    )

    def get_crm(self) -> HubSpotCRM:
        self.ensure_rate_limit()
        retry = RetryPolicy(attempts=self.retries + 1, first_delay_s=self.backoff_s)
        client = make_client(self.access_token.get_secret_value(), self.host, retry)
        name = self.rate_limit_name
        return HubSpotCRM(
            client,
            pace=lambda: rate_limit(name, strict=True),
            search_pace=lambda: rate_limit(f"{name}-search", strict=True),
            lifecycle_stages=self.lifecycle_stages,
            write_properties=self.write_properties,
        )
