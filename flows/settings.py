"""Settings for a flow run: a RouterSettings block when named, else LEADROUTER_* environment variables."""

from __future__ import annotations

from blocks.router_settings import RouterSettings
from leadrouter.config import Settings
from leadrouter.crm.base import CRM


def load_settings(block_name: str | None) -> Settings:
    return RouterSettings.load(block_name).get_settings() if block_name else Settings()


def load_crm(settings: Settings) -> CRM | None:
    """The CRM adapter from its connection block; None for the sandbox, which needs no credentials."""
    if settings.crm == "sandbox":
        return None
    if not settings.crm_block:
        raise ValueError(f"crm is {settings.crm!r}: set crm_block to the name of its connection block")
    if settings.crm == "salesforce":
        from blocks.salesforce import SalesforceConnection as Connection
    else:
        from blocks.hubspot import HubSpotConnection as Connection
    return Connection.load(settings.crm_block).get_crm()
