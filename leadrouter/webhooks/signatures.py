"""Who sent a webhook: HubSpot's v3 request signature and a shared secret, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

# the percent-escapes HubSpot decodes in the URI before signing it (its "Validating requests" table)
_DECODED_IN_URI = {"3A": ":", "2F": "/", "3F": "?", "40": "@", "21": "!", "24": "$", "27": "'", "28": "(",
                   "29": ")", "2A": "*", "2C": ",", "3B": ";"}  # fmt: skip
_ESCAPE = re.compile("%(" + "|".join(_DECODED_IN_URI) + ")", re.IGNORECASE)


class SignatureError(ValueError):
    """The request is not proven to come from the CRM; the message says why, never the secret or body."""


def hubspot_uri(uri: str) -> str:
    """The URI as HubSpot signs it: the escapes of its table decoded, everything else as sent."""
    return _ESCAPE.sub(lambda match: _DECODED_IN_URI[match.group(1).upper()], uri)


def hubspot_signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """base64(HMAC-SHA256(client secret, method + URI + body + timestamp)), the X-HubSpot-Signature-v3 value."""
    source = method.upper().encode() + hubspot_uri(uri).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_hubspot_v3(
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now_ms: int,
    max_age_s: float = 300.0,
) -> None:
    """Raise SignatureError unless `signature` is HubSpot's v3 signature of this request, made recently."""
    if not signature or not timestamp:
        raise SignatureError("missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp header")
    if not timestamp.isdigit():
        raise SignatureError("X-HubSpot-Request-Timestamp is not milliseconds since the epoch")
    age_ms = now_ms - int(timestamp)
    # older than the window is a replay; far in the future is a forged clock (either way: refuse)
    if abs(age_ms) > max_age_s * 1000:
        raise SignatureError(f"request timestamp is {age_ms / 1000:.0f} s old (limit {max_age_s:.0f} s)")
    expected = hubspot_signature_v3(secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureError("X-HubSpot-Signature-v3 does not match")


def verify_shared_secret(expected: str, given: str | None) -> None:
    """Raise SignatureError unless `given` is the shared secret."""
    if not given:
        raise SignatureError("missing shared secret")
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError("shared secret does not match")
