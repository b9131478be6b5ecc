"""SendGrid's Event Webhook, signed: bounces, drops and spam reports.

Authentication is the Signed Event Webhook: SendGrid signs ``timestamp + raw body``
with ECDSA P-256 / SHA-256 and sends the base64 DER signature in
``X-Twilio-Email-Event-Webhook-Signature`` and the timestamp in
``X-Twilio-Email-Event-Webhook-Timestamp``; the verification key (``[sendgrid]
webhook_public_key``) is the base64 DER public key SendGrid shows when signing is on.
A call without both headers, with a wrong signature, or with a timestamp more than
``webhook_max_age_seconds`` away from now is refused, and so is a signature seen before.

A call is a JSON array of events. Each has ``event``, ``email``, ``timestamp``,
``sg_event_id``, ``sg_message_id`` ("<X-Message-Id>.filter..."), ``smtp-id`` and our
``custom_args`` as top-level keys (``delivery_id``). Understood here:

    bounce, type "bounce"    hard or soft by its ``status`` (5.1.1 hard; 4.x, 5.7.x soft)
    bounce, type "blocked"   soft: the receiver refused for now or by policy
    dropped                  by ``reason``: "Bounced Address", "Invalid" hard; "Spam
                             Reporting Address" a complaint; "Unsubscribed Address" an
                             unsubscribe; any other (spam content, limits) no event
    spamreport               a complaint
    deferred, processed, delivered, open, click, ...   no event

``delivery_id`` with ``sg_message_id`` (or our ``smtp-id``) ties an event to its delivery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from pipeline.bounces import BounceEvent, BounceKind, classify, status_from_text
from pipeline.deliver.providers.sendgrid import SendgridSettings, base_message_id
from pipeline.deliver.providers.webhooks import (
    Refusal,
    SecretLookup,
    WebhookCall,
    address,
    bracketed,
    delivery_id,
    not_configured,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
DROPPED = {
    "bounced address": BounceKind.HARD,
    "invalid": BounceKind.HARD,
    "spam reporting address": BounceKind.COMPLAINT,
    "unsubscribed address": BounceKind.UNSUBSCRIBE,
}


def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """The verification key from SendGrid's base64 DER text; ValueError if it is none."""
    try:
        key = load_der_public_key(base64.b64decode("".join(text.split()), validate=True))
    except (binascii.Error, ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError("not a base64 DER public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an elliptic-curve (ECDSA) public key")
    return key


class SendgridWebhook:
    def __init__(self, config: SendgridSettings, secret: SecretLookup) -> None:
        # the key is public: it is configured in the file, not named by an env var
        self.max_age = config.webhook_max_age_seconds
        self.key: ec.EllipticCurvePublicKey | None = None
        self.key_problem = ""
        if config.webhook_public_key:
            try:
                self.key = load_public_key(config.webhook_public_key)
            except ValueError as exc:
                self.key_problem = f"[sendgrid] webhook_public_key: {exc}"

    def configured(self) -> bool:
        return self.key is not None

    def authenticate(self, call: WebhookCall) -> Refusal | None:
        if self.key is None:
            if self.key_problem:
                log.error("sendgrid webhook key unusable", extra={"error": self.key_problem})
            return not_configured("SendGrid")
        signature = call.header(SIGNATURE_HEADER)
        timestamp = call.header(TIMESTAMP_HEADER).strip()
        if not signature or not timestamp:
            return Refusal(401, "no signature")
        try:
            age = call.now - float(timestamp)
        except ValueError:
            return Refusal(401, "bad timestamp")
        if abs(age) > self.max_age:
            return Refusal(401, "stale timestamp")
        try:
            der = base64.b64decode(signature.strip(), validate=True)
            self.key.verify(der, timestamp.encode() + call.body, ec.ECDSA(hashes.SHA256()))
        except (binascii.Error, ValueError, InvalidSignature):
            return Refusal(401, "wrong signature")
        return None

    def nonce(self, call: WebhookCall) -> str | None:
        return call.header(SIGNATURE_HEADER).strip() or None

    def events(self, call: WebhookCall) -> list[BounceEvent]:
        return sendgrid_events(call.json())


def sendgrid_events(payload: Any) -> list[BounceEvent]:
    """The bounce, drop, complaint and unsubscribe events in one call (in order)."""
    if not isinstance(payload, list):
        raise ValueError("expected a JSON array of events")
    return [e for item in payload if isinstance(item, dict) for e in _event(item)]


def _event(item: dict[str, Any]) -> list[BounceEvent]:
    event = str(item.get("event", ""))
    reason = str(item.get("reason") or "")
    given = str(item.get("status") or "").strip()
    status = given if _ENHANCED.match(given) else status_from_text(reason + " ")
    bounce_type = str(item.get("type") or "bounce")
    if event == "bounce" and bounce_type == "blocked":
        kind, status = BounceKind.SOFT, status or "4.0.0"
    elif event == "bounce":
        status = status or "5.0.0"
        kind = classify(status, reason) or BounceKind.HARD
    elif event == "dropped":
        found = DROPPED.get(reason.strip().lower())
        if found is None:
            return []  # about our message or account (spam content, limits): no event
        kind = found
        status = (status or "5.0.0") if kind == BounceKind.HARD else None
    elif event == "spamreport":
        kind, status = BounceKind.COMPLAINT, None
    else:
        return []  # deferred (still trying), processed, delivered, opens, clicks
    sg_message_id = str(item.get("sg_message_id") or "")
    return [
        BounceEvent(
            kind=kind,
            recipient=address(item.get("email")),
            status=status,
            diagnostic=f"{event}/{bounce_type if event == 'bounce' else '-'}: {reason}"[:1000],
            source_id=f"sendgrid:{item.get('sg_event_id') or _digest(item)}",
            original_message_id=bracketed(item.get("smtp-id")),
            delivery_id=delivery_id(item.get("delivery_id")),
            provider_message_id=base_message_id(sg_message_id) or None,
            source="sendgrid",
        )
    ]


def _digest(item: dict[str, Any]) -> str:
    """A stable id for an event without ``sg_event_id``: a repeat still counts once."""
    return hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()[:32]
