"""Notification blocks: a Slack incoming webhook and an SMTP server, each a Prefect NotificationBlock that
also sends leadrouter's owner messages (`send`)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Literal

import httpx
from prefect.blocks.abstract import NotificationBlock
from pydantic import Field, SecretStr

from leadrouter.messages import Message


class SlackIncomingWebhook(NotificationBlock):
    """Post to a Slack channel through an incoming webhook (api.slack.com/messaging/webhooks)."""

    _block_type_name = "Leadrouter Slack Webhook"
    _description = "Owner notifications to a Slack channel through an incoming webhook."

    url: SecretStr = Field(description="The incoming webhook URL (https://hooks.slack.com/services/…).")
    timeout_s: float = Field(default=10.0, gt=0)

    name: str = "slack"

    def notify(self, body: str, subject: str | None = None) -> None:
        self._post({"text": f"*{subject}*\n{body}" if subject else body})

    def send(self, message: Message) -> None:
        self._post({"text": message.slack_text(), "unfurl_links": False})

    def _post(self, payload: dict) -> None:
        reply = httpx.post(self.url.get_secret_value(), json=payload, timeout=self.timeout_s)
        if reply.status_code != 200:  # Slack answers errors as text: invalid_payload, no_service, …
            retry = reply.headers.get("retry-after")
            hint = f", retry after {retry} s" if retry else ""
            raise RuntimeError(f"Slack answered {reply.status_code} {reply.text[:100]!r}{hint}")


class SmtpEmail(NotificationBlock):
    """Send email through an SMTP server (STARTTLS or TLS when configured)."""

    _block_type_name = "Leadrouter SMTP Email"
    _description = "Owner notifications by email through an SMTP server."

    host: str
    port: int = 587
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(description="The From address, e.g. leadrouter@example.com.")
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="starttls, tls or none (none: local relays only, never with a login)."
    )
    to: str | None = Field(default=None, description="Where notify() sends when no rep is named.")
    timeout_s: float = Field(default=15.0, gt=0)

    name: str = "email"

    def notify(self, body: str, subject: str | None = None) -> None:
        if not self.to:
            raise ValueError("set `to` on the block to use notify(); owner messages go to each rep")
        self._send(self.to, subject or "leadrouter", body)

    def send(self, message: Message) -> None:
        if not message.email:
            raise ValueError(f"no email address for {message.recipient}")
        self._send(message.email, message.subject, message.text())

    def _send(self, to: str, subject: str, body: str) -> None:
        email = EmailMessage()  # refuses line breaks in headers: no header injection through lead text
        email["From"], email["To"], email["Subject"] = self.sender, to, subject
        email.set_content(body)
        context = ssl.create_default_context()
        client = smtplib.SMTP_SSL if self.security == "tls" else smtplib.SMTP
        kwargs = {"context": context} if self.security == "tls" else {}
        with client(self.host, self.port, timeout=self.timeout_s, **kwargs) as smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username and self.password:
                if self.security == "none":
                    raise ValueError("refusing to send the SMTP password without TLS: set security")
                smtp.login(self.username, self.password.get_secret_value())
            smtp.send_message(email)
