"""SendGrid v3: one ``POST /v3/mail/send`` per message with a bearer key.

SendGrid takes JSON: one personalization (the recipient, with the delivery id as a
custom argument that comes back in its event webhooks), the sender, the subject, the
plain text then the HTML content, and our list headers. Click, open and subscription
tracking are switched off: we send our own List-Unsubscribe and track nothing without
consent. Success is ``202 Accepted`` with the id in the ``X-Message-Id`` header; a 400
carries ``{"errors": [{"message": ..., "field": ...}]}`` and rejects that message.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import getaddresses
from typing import Any

import requests

from pipeline.config import Provider, Settings
from pipeline.deliver import OutgoingMessage, SendResult
from pipeline.deliver.http import HttpClient, error_text, failed, message_parts, ok, send_each

# SendGrid refuses these in "headers": it builds them from its own fields.
RESERVED = frozenset(
    {
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "content-type",
        "content-transfer-encoding",
        "to",
        "from",
        "subject",
        "reply-to",
        "cc",
        "bcc",
    }
)


class SendgridTransport:
    wants_parts = True
    name = "sendgrid"

    def __init__(
        self, config: Provider, api_key: str, *, session: requests.Session | None = None
    ) -> None:
        self.client = HttpClient(
            "sendgrid",
            config.base_url,
            timeout=config.timeout,
            connections=config.connections,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            session=session,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> SendgridTransport:
        key = settings.secret(settings.sendgrid.api_key_env, key="sendgrid.api_key_env")
        return cls(settings.sendgrid, key)

    def send(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        return send_each(self.client, batch, self._send_one)

    def _payload(self, message: OutgoingMessage) -> dict[str, Any]:
        parts = message_parts(message)
        to: dict[str, str] = {"email": message.recipient}
        if parts.to_name:
            to["name"] = parts.to_name
        personalization: dict[str, Any] = {"to": [to]}
        if message.delivery_id is not None:
            personalization["custom_args"] = {"delivery_id": str(message.delivery_id)}
        sender: dict[str, str] = {"email": parts.from_address}
        if parts.from_name:
            sender["name"] = parts.from_name
        content = [{"type": "text/plain", "value": parts.text or " "}]
        if parts.html:
            content.append({"type": "text/html", "value": parts.html})
        body: dict[str, Any] = {
            "personalizations": [personalization],
            "from": sender,
            "subject": parts.subject,
            "content": content,
            "tracking_settings": {
                "click_tracking": {"enable": False},
                "open_tracking": {"enable": False},
                "subscription_tracking": {"enable": False},
            },
        }
        headers = {n: v for n, v in parts.headers if n.lower() not in RESERVED}
        if headers:
            body["headers"] = headers
        if parts.reply_to:
            name, address = getaddresses([parts.reply_to])[0]
            body["reply_to"] = {"email": address, **({"name": name} if name else {})}
        return body

    def _send_one(self, message: OutgoingMessage) -> SendResult:
        response = self.client.post("/v3/mail/send", json=self._payload(message))
        if response.status_code in (200, 202):
            return ok(message, response.headers.get("X-Message-Id"))
        reason = f"sendgrid: HTTP {response.status_code}: {error_text(response)}"
        return failed(message, reason, permanent=True)

    def close(self) -> None:
        self.client.close()
