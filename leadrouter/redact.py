"""Secrets out of log records that HTTP libraries write on their own.

httpx logs every request's URL at INFO ("HTTP Request: POST https://hooks.slack.com/services/…"), urllib3 its
path at DEBUG, and a Slack incoming webhook's URL is its credential: whoever turns logging up would copy it into
every log sink. A filter on those libraries' loggers replaces each registered secret before any handler sees it.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

REDACTED = "[redacted]"
HTTP_LOGGERS = ("httpx", "httpcore", "urllib3.connectionpool")


class SecretFilter(logging.Filter):
    """Rewrites records whose message holds a registered secret (raw or URL-encoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, secret: str) -> None:
        if len(secret) >= 8:  # a short value would redact ordinary words
            self.secrets |= {secret, quote(secret, safe=""), quote(secret)}

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        hidden = message
        for secret in sorted(self.secrets, key=len, reverse=True):
            hidden = hidden.replace(secret, REDACTED)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


_FILTER = SecretFilter()


def hide_in_logs(*secrets: str) -> None:
    """Keep these values out of the HTTP libraries' log records from now on (idempotent)."""
    for secret in secrets:
        _FILTER.add(secret)
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
