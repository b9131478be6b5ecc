"""Mailgun's webhook: every call signed, one event per call.

A call is ``{"signature": {timestamp, token, signature}, "event-data": {event,
severity, reason, recipient, id, delivery-status, user-variables,
message.headers.message-id}}``; the signature is the HMAC-SHA256 of timestamp + token
under the webhook signing key (``[mailgun] webhook_signing_key_env``). Calls older than
five minutes are refused, and so is a token seen before (``nonce``).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from pipeline.bounces import BounceEvent, BounceKind, status_from_text
from pipeline.deliver.providers.mailgun import MailgunSettings
from pipeline.deliver.providers.webhooks import (
    Refusal,
    SecretLookup,
    WebhookCall,
    address,
    delivery_id,
    not_configured,
)

MAX_AGE = 300.0  # seconds a signed request stays acceptable


class MailgunWebhook:
    max_age = MAX_AGE

    def __init__(self, config: MailgunSettings, secret: SecretLookup) -> None:
        self.key = secret(config.webhook_signing_key_env, "mailgun.webhook_signing_key_env")

    def configured(self) -> bool:
        return bool(self.key)

    def authenticate(self, call: WebhookCall) -> Refusal | None:
        if not self.key:
            return not_configured("Mailgun")
        payload = _json_or_none(call)
        signature = payload.get("signature") if isinstance(payload, dict) else None
        problem = signature_problem(self.key, signature, now=call.now)
        return Refusal(401, problem) if problem else None

    def nonce(self, call: WebhookCall) -> str | None:
        payload = _json_or_none(call)
        signature = payload.get("signature") if isinstance(payload, dict) else None
        if not isinstance(signature, dict):
            return None
        return str(signature.get("token", "")) or None

    def events(self, call: WebhookCall) -> list[BounceEvent]:
        return mailgun_events(call.json())


def _json_or_none(call: WebhookCall) -> Any:
    try:
        return call.json()
    except ValueError:
        return None


def signature_problem(
    key: str, signature: Any, *, now: float, max_age: float = MAX_AGE
) -> str | None:
    """Why a Mailgun signature block is not acceptable, or None when it is."""
    if not isinstance(signature, dict):
        return "no signature"
    timestamp = str(signature.get("timestamp", ""))
    token = str(signature.get("token", ""))
    given = str(signature.get("signature", ""))
    if not (timestamp and token and given):
        return "incomplete signature"
    try:
        age = now - float(timestamp)
    except ValueError:
        return "bad timestamp"
    if abs(age) > max_age:
        return "stale timestamp"
    expected = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        return "wrong signature"
    return None


def mailgun_events(payload: Any) -> list[BounceEvent]:
    """The events in one Mailgun webhook call (empty for deliveries, opens, ...)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("event-data"), dict):
        raise ValueError("expected a JSON object with event-data")
    data: dict[str, Any] = payload["event-data"]
    event = str(data.get("event", ""))
    severity = str(data.get("severity", ""))
    reason = str(data.get("reason", ""))
    status_block = _dict(data.get("delivery-status"))
    text = " ".join(
        str(status_block.get(k) or "") for k in ("code", "message", "description")
    ).strip()
    if event == "complained" or reason == "suppress-complaint":
        kind, status = BounceKind.COMPLAINT, None
    elif event == "failed" and severity == "permanent":
        if reason == "suppress-unsubscribe":
            return []  # Mailgun's own unsubscribe list: not a bounce
        kind = BounceKind.HARD
        status = status_from_text(text + " ") or "5.0.0"
    elif event == "failed" and severity == "temporary":
        kind = BounceKind.SOFT
        status = status_from_text(text + " ") or "4.0.0"
    else:
        return []
    if kind == BounceKind.HARD and status and status.startswith(("4", "5.7", "5.2.2")):
        kind = BounceKind.SOFT  # e.g. a policy block or a full mailbox given up on
    event_id = data.get("id")
    if not event_id:
        raise ValueError("event-data has no id")
    variables = _dict(data.get("user-variables"))
    headers = _dict(_dict(data.get("message")).get("headers"))
    message_id = str(headers.get("message-id") or "").strip().strip("<>")
    return [
        BounceEvent(
            kind=kind,
            recipient=address(data.get("recipient")),
            status=status,
            diagnostic=f"{event}/{severity or '-'} {reason}: {text}".strip()[:1000],
            source_id=f"mailgun:{event_id}",
            original_message_id=f"<{message_id}>" if message_id else None,
            delivery_id=delivery_id(variables.get("delivery_id")),
            source="mailgun",
        )
    ]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
