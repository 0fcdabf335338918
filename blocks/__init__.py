"""Prefect blocks: credentials and settings that build core objects. Register with `prefect block register -m blocks`."""

from blocks.claude import ClaudeConnection
from blocks.hubspot import HubSpotConnection
from blocks.notify import SlackIncomingWebhook, SmtpEmail
from blocks.router_settings import RouterSettings
from blocks.salesforce import SalesforceConnection

__all__ = [
    "ClaudeConnection",
    "HubSpotConnection",
    "RouterSettings",
    "SalesforceConnection",
    "SlackIncomingWebhook",
    "SmtpEmail",
]
