"""The one place blocks are loaded: settings, the CRM, Claude and the notification channels, for flows and
commands alike. Settings come from a RouterSettings block when one is named, else LEADROUTER_* variables."""

from __future__ import annotations

from collections.abc import Callable

from blocks.router_settings import RouterSettings
from leadrouter.classify.model import Model
from leadrouter.config import Settings
from leadrouter.crm.base import CRM
from leadrouter.notify import Channel
from leadrouter.router import open_crm
from leadrouter.store import Store


def load_settings(block_name: str | None) -> Settings:
    return RouterSettings.load(block_name).get_settings() if block_name else Settings()


def load_crm(settings: Settings) -> CRM:
    """The configured CRM: Salesforce or HubSpot from its connection block, else the sandbox."""
    if settings.crm == "sandbox":
        return open_crm(settings)
    if not settings.crm_block:
        raise ValueError(f"crm is {settings.crm!r}: set crm_block to the name of its connection block")
    if settings.crm == "salesforce":
        from blocks.salesforce import SalesforceConnection as Connection
    else:
        from blocks.hubspot import HubSpotConnection as Connection
    return Connection.load(settings.crm_block).get_crm()


def load_remote_model(settings: Settings) -> Callable[[Store], Model] | None:
    """Claude from its connection block when settings choose it; None for the local model alone."""
    if settings.model != "claude":
        return None
    if not settings.claude_block:
        raise ValueError("model is 'claude': set claude_block to the name of its ClaudeConnection block")
    from blocks.claude import ClaudeConnection

    connection = ClaudeConnection.load(settings.claude_block)
    return connection.get_model


def load_channels(settings: Settings) -> dict[str, Channel]:
    """The notification channels the settings name (Slack webhook, SMTP email); none configured: none."""
    from blocks.notify import SlackIncomingWebhook, SmtpEmail

    channels: dict[str, Channel] = {}
    if settings.notify_slack_block:
        channels["slack"] = SlackIncomingWebhook.load(settings.notify_slack_block)
    if settings.notify_email_block:
        channels["email"] = SmtpEmail.load(settings.notify_email_block)
    return channels


def load_ack_channel(settings: Settings) -> dict[str, Channel]:
    """The off-hours acknowledgement's channel (email to the lead); empty, and so off, unless configured."""
    from blocks.notify import SmtpEmail

    return {"email": SmtpEmail.load(settings.ack_block)} if settings.ack_block else {}
