"""Mailgun: our finished MIME bytes to ``POST /v3/<domain>/messages.mime``, one per message.

Mailgun takes the message as it is (headers, both parts, our DKIM signature untouched)
as a multipart form: ``to`` is the envelope recipient, ``message`` the MIME file. Basic
auth is ``api:<key>``. The delivery id travels as the user variable ``delivery_id``, so
Mailgun's bounce webhooks name the delivery; tracking is switched off (no consent).
A 200 answer carries ``{"id": "<message id>", "message": "Queued. Thank you."}``.

Mailgun's "API Response Codes" page: 400 carries a JSON ``message`` (a refusal of the
``to`` address is the RECIPIENT's, permanent; any other 400, 402 or 413 is about the
domain, the account or the message itself: SENDER), 403 is an auth error (a dead
transport), 429 and 5xx are to be retried (PEER; ``http``).

``confirm`` asks the events API (``GET /v3/<domain>/events``, "Events": filter by
``recipient``; event types accepted, rejected, delivered, failed, ...) for events of this
delivery, matched by our ``delivery_id`` user variable or our Message-ID: any event but
``rejected`` means Mailgun took the message; none means it did not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import requests

from pipeline.deliver import OutgoingMessage, SendResult
from pipeline.deliver.providers.http import (
    HttpClient,
    HttpTransport,
    error_text,
    failed,
    look_up,
    names_recipient,
    ok,
    refused_sender,
    send_each,
)
from pipeline.deliver.providers.mailgun import MailgunSettings
from pipeline.errors import ConfigError


class MailgunTransport(HttpTransport):
    name = "mailgun"
    # "The maximum message size Mailgun supports is 25MB" (Mailgun's sending docs); the
    # MIME we post carries the attachments.
    max_message_bytes = 25_000_000

    def __init__(
        self,
        config: MailgunSettings,
        api_key: str,
        *,
        domain: str = "",
        session: requests.Session | None = None,
    ) -> None:
        domain = config.domain or domain
        if not domain:
            raise ConfigError("[mailgun] domain: the sending domain is required")
        self.path = f"/v3/{domain}/messages.mime"
        self.events_path = f"/v3/{domain}/events"
        self.client = HttpClient(
            "mailgun",
            config.base_url,
            timeout=config.timeout,
            connections=config.connections,
            auth=("api", api_key),
            session=session,
        )

    @classmethod
    def from_section(
        cls, config: MailgunSettings, api_key: str, *, sender_domain: str
    ) -> MailgunTransport:
        """Built by ``deliver.factory`` from the ``[mailgun]`` section and its API key."""
        return cls(config, api_key, domain=sender_domain)

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
        text = error_text(response)
        reason = f"mailgun: HTTP {response.status_code}: {text}"
        if response.status_code == 400 and names_recipient(text, message, "to parameter", "'to'"):
            return failed(message, reason, permanent=True)
        return refused_sender([message], reason)[0]

    def confirm(self, batch: Sequence[OutgoingMessage]) -> Mapping[int, str | None]:
        """Per delivery: Mailgun's id for it if an event shows Mailgun took it, None if
        none does; left out when the events API did not answer (cannot tell)."""
        return look_up(self.client, batch, self._ask)

    def _ask(self, message: OutgoingMessage) -> tuple[bool, str | None]:
        answer = self.client.get(
            self.events_path,
            params={"recipient": message.recipient, "ascending": "no", "limit": 300},
        )
        items = answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            return False, None
        return True, _accepted_id(message, items)


def _accepted_id(message: OutgoingMessage, items: list[Any]) -> str | None:
    """Our message's id among the recipient's events, if any event says it was taken."""
    ours = message.message_id.strip("<>")
    for item in items:
        if not isinstance(item, dict) or item.get("event") == "rejected":
            continue
        variables = item.get("user-variables") or {}
        headers = (item.get("message") or {}).get("headers") or {}
        event_id = str(headers.get("message-id", "")).strip("<>")
        if str(variables.get("delivery_id", "")) == str(message.delivery_id) or (
            ours and event_id == ours
        ):
            return f"<{event_id or ours}>"
    return None
