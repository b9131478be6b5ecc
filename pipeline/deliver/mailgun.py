"""Mailgun: our finished MIME bytes to ``POST /v3/<domain>/messages.mime``, one per message.

Mailgun takes the message as it is (headers, both parts, our DKIM signature untouched)
as a multipart form: ``to`` is the envelope recipient, ``message`` the MIME file. Basic
auth is ``api:<key>``. The delivery id travels as the user variable ``delivery_id``, so
Mailgun's bounce webhooks name the delivery; tracking is switched off (no consent).
A 200 answer carries ``{"id": "<message id>", "message": "Queued. Thank you."}``; a 400
rejects that one message.
"""

from __future__ import annotations

from collections.abc import Sequence

import requests

from pipeline.config import Provider, Settings
from pipeline.deliver import OutgoingMessage, SendResult
from pipeline.deliver.http import HttpClient, error_text, failed, ok, send_each
from pipeline.errors import ConfigError


class MailgunTransport:
    name = "mailgun"

    def __init__(
        self,
        config: Provider,
        api_key: str,
        *,
        domain: str = "",
        session: requests.Session | None = None,
    ) -> None:
        domain = config.domain or domain
        if not domain:
            raise ConfigError("[mailgun] domain: the sending domain is required")
        self.path = f"/v3/{domain}/messages.mime"
        self.client = HttpClient(
            "mailgun",
            config.base_url,
            timeout=config.timeout,
            connections=config.connections,
            auth=("api", api_key),
            session=session,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> MailgunTransport:
        key = settings.secret(settings.mailgun.api_key_env, key="mailgun.api_key_env")
        return cls(settings.mailgun, key, domain=settings.sender.message_domain)

    def send(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        return send_each(self.client, batch, self._send_one)

    def _send_one(self, message: OutgoingMessage) -> SendResult:
        fields = {"to": message.recipient, "o:tracking": "no"}
        if message.delivery_id is not None:
            fields["v:delivery_id"] = str(message.delivery_id)
        files = {"message": ("message.mime", message.data, "message/rfc822")}
        response = self.client.post(self.path, data=fields, files=files)
        if response.status_code == 200:
            try:
                provider_id = response.json().get("id")
            except (ValueError, AttributeError):
                provider_id = None
            return ok(message, provider_id)
        reason = f"mailgun: HTTP {response.status_code}: {error_text(response)}"
        return failed(message, reason, permanent=True)

    def close(self) -> None:
        self.client.close()
