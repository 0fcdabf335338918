"""CRM webhooks, Prefect-free: signature checks, payload → lead ids, and the burst coalescer.

The receiver that turns them into Prefect events is deployments/webhooks.py.
"""

from leadrouter.webhooks.coalesce import Coalescer
from leadrouter.webhooks.payloads import (
    OUTBOUND_MESSAGE_ACK,
    PayloadError,
    hubspot_contact_ids,
    salesforce_flow_lead_ids,
    salesforce_outbound_message,
)
from leadrouter.webhooks.settings import WebhookSettings
from leadrouter.webhooks.signatures import (
    SignatureError,
    hubspot_signature_v3,
    verify_hubspot_v3,
    verify_shared_secret,
)

__all__ = [
    "OUTBOUND_MESSAGE_ACK",
    "Coalescer",
    "PayloadError",
    "SignatureError",
    "WebhookSettings",
    "hubspot_contact_ids",
    "hubspot_signature_v3",
    "salesforce_flow_lead_ids",
    "salesforce_outbound_message",
    "verify_hubspot_v3",
    "verify_shared_secret",
]
