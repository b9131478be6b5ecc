"""SendGrid v3: one ``POST /v3/mail/send`` per message with a bearer key.

SendGrid takes JSON: one personalization (the recipient, with the delivery id as a
custom argument that comes back in its event webhooks), the sender, the subject, the
plain text then the HTML content, and our list headers. Click, open and subscription
tracking are switched off: we send our own List-Unsubscribe and track nothing without
consent. Success is ``202 Accepted`` with the id in the ``X-Message-Id`` header.

SendGrid's v3 "Errors" page: a 400 carries ``{"errors": [{"message", "field"}]}``; one
whose fields are all the recipient's (``personalizations.N.to``) is the RECIPIENT's,
permanent; any other 400 or 413 is about the sender or the request itself: SENDER.
401 and 403 (key, unverified sender identity) are a dead transport; 429 and 5xx PEER.

``confirm`` uses the Email Activity API (``GET /v3/messages`` with a query on
``to_email`` and our ``delivery_id`` custom argument). It needs SendGrid's paid
activity-history add-on; without it SendGrid answers 403 and we cannot tell.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from email.utils import getaddresses
from typing import Any

import requests

from pipeline.deliver import OutgoingMessage, SendResult
from pipeline.deliver.providers.http import (
    HttpClient,
    HttpTransport,
    error_text,
    failed,
    json_body,
    message_parts,
    ok,
    refused_sender,
    send_each,
)
from pipeline.deliver.providers.sendgrid import SendgridSettings, base_message_id

# "personalizations.0.to" or "personalizations.0.to.0.email": the recipient's address
RECIPIENT_FIELD = re.compile(r"personalizations\.\d+\.to(\.|$)")
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


class SendgridTransport(HttpTransport):
    wants_parts = True
    name = "sendgrid"
    # "The total size of your email, including attachments, must be less than 30MB"
    # (SendGrid's v3 Mail Send limitations).
    max_message_bytes = 30_000_000

    def __init__(
        self, config: SendgridSettings, api_key: str, *, session: requests.Session | None = None
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
    def from_section(
        cls, config: SendgridSettings, api_key: str, *, sender_domain: str
    ) -> SendgridTransport:
        """Built by ``deliver.factory`` from the ``[sendgrid]`` section and its API key."""
        return cls(config, api_key)

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
        if parts.attachments:
            body["attachments"] = [
                {
                    "content": base64.b64encode(a.data).decode("ascii"),
                    "type": a.content_type,
                    "filename": a.name,
                    "disposition": "attachment",
                }
                for a in parts.attachments
            ]
        if parts.reply_to:
            name, address = getaddresses([parts.reply_to])[0]
            body["reply_to"] = {"email": address, **({"name": name} if name else {})}
        return body

    def _send_one(self, message: OutgoingMessage) -> SendResult:
        response = self.client.post("/v3/mail/send", json=self._payload(message))
        if response.status_code in (200, 202):
            return ok(message, response.headers.get("X-Message-Id"))
        reason = f"sendgrid: HTTP {response.status_code}: {error_text(response)}"
        if response.status_code == 400 and _about_recipient(json_body(response)):
            return failed(message, reason, permanent=True)
        return refused_sender([message], reason)[0]

    def confirm(self, batch: Sequence[OutgoingMessage]) -> Mapping[int, str | None]:
        """Per delivery: SendGrid's message id if Email Activity lists it, None if not;
        nothing at all when the activity API is not available (403 without the add-on)."""
        found: dict[int, str | None] = {}
        for message in batch:
            if message.delivery_id is None:
                continue
            query = (
                f'to_email="{message.recipient}" AND '
                f"unique_args['delivery_id']=\"{message.delivery_id}\""
            )
            answer = self.client.get("/v3/messages", params={"query": query, "limit": 10})
            listed = answer.get("messages") if isinstance(answer, dict) else None
            if not isinstance(listed, list):
                break  # not available (no add-on, no permission) or failing: cannot tell
            match = next(
                (
                    m
                    for m in listed
                    if isinstance(m, dict)
                    and m.get("msg_id")
                    and str(m.get("to_email", message.recipient)).lower()
                    == message.recipient.lower()
                ),
                None,
            )
            # msg_id is the X-Message-Id we would have got, plus ".filter…" routing parts
            found[message.delivery_id] = base_message_id(str(match["msg_id"])) if match else None
        return found


def _about_recipient(body: Any) -> bool:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return False
    fields = [str(e.get("field") or "") if isinstance(e, dict) else "" for e in errors]
    return all(RECIPIENT_FIELD.match(f) for f in fields)
