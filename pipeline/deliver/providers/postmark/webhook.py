"""Postmark's bounce and spam-complaint webhook: basic auth, one JSON record per call.

Postmark authenticates with the user and password in the webhook URL
(``https://USER:PASSWORD@host/webhooks/postmark``; ``[postmark] webhook_user_env`` /
``webhook_password_env`` name where they are kept). A call is one record: ``RecordType``
"Bounce" with ``Type`` (HardBounce, SoftBounce, Transient, ...), ``ID``, ``Email``,
``MessageID``, ``Details`` and the ``Metadata.delivery_id`` our transport sent; or
``RecordType`` "SpamComplaint". Deliveries, opens and the like give no event.
"""

from __future__ import annotations

from typing import Any

from pipeline.bounces import BounceEvent, BounceKind, status_from_text
from pipeline.deliver.providers.postmark import PostmarkSettings
from pipeline.deliver.providers.webhooks import (
    Refusal,
    SecretLookup,
    WebhookCall,
    address,
    basic_auth_refusal,
    delivery_id,
    not_configured,
)

HARD = frozenset({"HardBounce", "BadEmailAddress"})
SOFT = frozenset({"SoftBounce", "Transient", "DnsError", "Blocked", "Undeliverable"})
COMPLAINT = frozenset({"SpamComplaint"})


class PostmarkWebhook:
    def __init__(self, config: PostmarkSettings, secret: SecretLookup) -> None:
        self.user = secret(config.webhook_user_env, "postmark.webhook_user_env")
        self.password = secret(config.webhook_password_env, "postmark.webhook_password_env")

    def configured(self) -> bool:
        return bool(self.user and self.password)

    def authenticate(self, call: WebhookCall) -> Refusal | None:
        if not self.user or not self.password:
            return not_configured("Postmark")
        return basic_auth_refusal(call, self.user, self.password)

    def nonce(self, call: WebhookCall) -> str | None:
        return None  # no per-call value; the record's ID makes a repeat count once

    def events(self, call: WebhookCall) -> list[BounceEvent]:
        return postmark_events(call.json())


def postmark_events(payload: Any) -> list[BounceEvent]:
    """The events in one Postmark webhook call (empty for deliveries, opens, ...)."""
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    record = str(payload.get("RecordType", ""))
    kind_name = str(payload.get("Type", ""))
    if record == "SpamComplaint" or kind_name in COMPLAINT:
        kind = BounceKind.COMPLAINT
    elif record != "Bounce":
        return []
    elif kind_name in HARD:
        kind = BounceKind.HARD
    elif kind_name in SOFT:
        kind = BounceKind.SOFT
    else:
        return []  # auto-responders, subscribe requests, challenge mails
    details = str(payload.get("Details") or payload.get("Description") or "")
    status = None
    if kind != BounceKind.COMPLAINT:
        status = status_from_text(details) or ("5.0.0" if kind == BounceKind.HARD else "4.0.0")
    event_id = payload.get("ID") or payload.get("MessageID")
    if not event_id:
        raise ValueError("the record has no ID")
    metadata = payload.get("Metadata") if isinstance(payload.get("Metadata"), dict) else {}
    return [
        BounceEvent(
            kind=kind,
            recipient=address(payload.get("Email")),
            status=status,
            diagnostic=f"{kind_name or record}: {details}"[:1000],
            source_id=f"postmark:{record}:{event_id}",
            delivery_id=delivery_id((metadata or {}).get("delivery_id")),
            provider_message_id=str(payload.get("MessageID") or "") or None,
            source="postmark",
        )
    ]
