"""SalesforceConnection: a connected app's credentials, and the Salesforce adapter built from them."""

from __future__ import annotations

from urllib.request import getproxies

import requests
from prefect.blocks.core import Block
from pydantic import Field, SecretStr
from simple_salesforce import Salesforce

from leadrouter.crm.salesforce.client import SalesforceCRM
from leadrouter.crm.salesforce.session import API_VERSION, client_credentials_login
from leadrouter.retry import RetryPolicy


class SalesforceConnection(Block):
    """Log in with the OAuth 2.0 client-credentials flow of a connected app and route the org's Leads."""

    _block_type_name = "Salesforce Connection"
    _description = "Connected-app credentials (client credentials flow) and field mapping for leadrouter."

    instance_url: str = Field(description="Your My Domain URL, e.g. https://acme.my.salesforce.com")
    client_id: SecretStr = Field(description="The connected app's consumer key.")
    client_secret: SecretStr = Field(description="The connected app's consumer secret.")
    api_version: str = Field(default=API_VERSION, description="REST API version, e.g. 59.0")
    lead_fields: dict[str, str] = Field(
        default_factory=dict,
        description="Lead column -> Lead field overrides for the pull, e.g. {'message': 'Inquiry__c'}.",
    )
    write_fields: dict[str, str] = Field(
        default_factory=dict,
        description="Decision column -> Lead field written back; custom fields the org lacks are skipped.",
    )
    ca_bundle: str | None = Field(
        default=None,
        description="A CA bundle to trust (a TLS-inspecting proxy); the environment's is ignored then.",
    )
    timeout_s: float = Field(default=60.0, gt=0)
    retries: int = Field(default=6, ge=0, description="Retries of a 5xx, REQUEST_LIMIT_EXCEEDED or timeout.")
    backoff_s: float = Field(default=0.5, ge=0, description="First retry delay; it doubles each time.")

    def session(self) -> requests.Session:
        session = requests.Session()
        if self.ca_bundle:
            # requests lets REQUESTS_CA_BUNDLE override session.verify unless the environment is ignored;
            # the proxies the environment names are kept
            session.verify, session.trust_env = self.ca_bundle, False
            session.proxies = {k: v for k, v in getproxies().items() if k != "no"}
        return session

    def get_crm(self) -> SalesforceCRM:
        session = self.session()

        def connect() -> Salesforce:  # a closure, not a partial: its repr must not show the secret
            return client_credentials_login(
                self.instance_url,
                self.client_id.get_secret_value(),
                self.client_secret.get_secret_value(),
                session=session,
                version=self.api_version,
                timeout_s=self.timeout_s,
            )

        retry = RetryPolicy(attempts=self.retries + 1, first_delay_s=self.backoff_s)
        return SalesforceCRM(connect, self.lead_fields, self.write_fields, retry, self.timeout_s)
