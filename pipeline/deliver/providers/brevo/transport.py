"""Brevo: one ``POST /v3/smtp/email`` per message, authenticated by the ``api-key`` header.

Brevo takes JSON: sender, to, replyTo, subject, htmlContent, textContent and custom
headers; ``X-Mailin-custom`` carries the delivery id, which Brevo's webhooks echo. Its idempotency key (``idempotencyKey`` inside ``headers``, a UUID) makes a
request that is retried after a timeout count once: the key is derived from the
delivery id and our Message-ID, so every retry of the same delivery carries the same key
while different deliveries never share one. Brevo's changelog ("Email API now supports
idempotency") and its batch guide name the key ``idempotencyKey`` inside ``headers``,
processed once within a TTL (15 minutes in the changelog, 30 in the batch guide). So a
request left unanswered (a read timeout, a dropped connection) is a plain PEER retry,
never "unknown"; a retry after the TTL could still be a second copy.

Success is ``201`` with ``{"messageId": "<...>"}``; a 400 ``{"code": ..., "message": ...}``
naming the ``to`` address is the RECIPIENT's (permanent); any other 4xx (sender
invalid, ``not_enough_credits``, account under validation) is SENDER's.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from email.utils import getaddresses
from typing import Any

import requests

from pipeline.deliver import OutgoingMessage, SendResult
from pipeline.deliver.providers.brevo import BrevoSettings, custom_header
from pipeline.deliver.providers.http import (
    HttpClient,
    HttpTransport,
    error_text,
    failed,
    message_parts,
    names_recipient,
    ok,
    refused_sender,
    send_each,
)

_NAMESPACE = uuid.UUID("6f1f2a8e-5b0c-4f55-9a51-3c1f4d2b7e10")


def idempotency_key(message: OutgoingMessage) -> str:
    """The same UUID for every attempt of one delivery, a different one for any other.

    Brevo wants a UUID; the builder's key ("rb-<mailing>-<delivery>") is turned into one.
    """
    seed = message.idempotency_key or f"{message.delivery_id}|{message.message_id}"
    return str(uuid.uuid5(_NAMESPACE, seed))


class BrevoTransport(HttpTransport):
    wants_parts = True
    name = "brevo"
    # "The size limit for transactional emails is 20MB, including attachments and email
    # content" (Brevo's help centre on attachments of transactional emails).
    max_message_bytes = 20_000_000

    def __init__(
        self, config: BrevoSettings, api_key: str, *, session: requests.Session | None = None
    ) -> None:
        self.client = HttpClient(
            "brevo",
            config.base_url,
            timeout=config.timeout,
            connections=config.connections,
            headers={"api-key": api_key, "Content-Type": "application/json"},
            session=session,
            idempotent=True,
        )

    @classmethod
    def from_section(
        cls, config: BrevoSettings, api_key: str, *, sender_domain: str
    ) -> BrevoTransport:
        """Built by ``deliver.factory`` from the ``[brevo]`` section and its API key."""
        return cls(config, api_key)

    def send(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        return send_each(self.client, batch, self._send_one)

    def _payload(self, message: OutgoingMessage) -> dict[str, Any]:
        parts = message_parts(message)
        to: dict[str, str] = {"email": message.recipient}
        if parts.to_name:
            to["name"] = parts.to_name
        sender: dict[str, str] = {"email": parts.from_address}
        if parts.from_name:
            sender["name"] = parts.from_name
        headers = dict(parts.headers)
        headers["idempotencyKey"] = idempotency_key(message)
        if message.delivery_id is not None:
            # echoed as "X-Mailin-custom" in every webhook call about this message
            headers["X-Mailin-custom"] = custom_header(message.delivery_id)
        body: dict[str, Any] = {
            "sender": sender,
            "to": [to],
            "subject": parts.subject,
            "textContent": parts.text,
            "headers": headers,
        }
        if parts.html:
            body["htmlContent"] = parts.html
        if parts.attachments:
            body["attachment"] = [
                {"content": base64.b64encode(a.data).decode("ascii"), "name": a.name}
                for a in parts.attachments
            ]
        if parts.reply_to:
            name, address = getaddresses([parts.reply_to])[0]
            body["replyTo"] = {"email": address, **({"name": name} if name else {})}
        return body

    def _send_one(self, message: OutgoingMessage) -> SendResult:
        response = self.client.post("/v3/smtp/email", json=self._payload(message))
        if response.status_code in (200, 201, 202):
            try:
                provider_id = response.json().get("messageId")
            except (ValueError, AttributeError):
                provider_id = None
            return ok(message, provider_id)
        text = error_text(response)
        reason = f"brevo: HTTP {response.status_code}: {text}"
        if response.status_code == 400 and names_recipient(text, message, "in to", "recipient"):
            return failed(message, reason, permanent=True)
        return refused_sender([message], reason)[0]
