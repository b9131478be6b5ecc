"""Provider webhook payloads → ``BounceEvent`` values, and Mailgun's signature check (pure).

Postmark (basic auth, checked by the web layer) posts one JSON record per event:
``RecordType`` "Bounce" with ``Type`` (HardBounce, SoftBounce, Transient, …), ``ID``,
``Email``, ``MessageID``, ``Details`` and our ``Metadata.delivery_id``; or
``RecordType`` "SpamComplaint". Mailgun posts ``{"signature": {timestamp, token,
signature}, "event-data": {event, severity, reason, recipient, id, delivery-status,
user-variables, message.headers.message-id}}``; the signature is the HMAC-SHA256 of
timestamp + token under the webhook signing key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from pipeline.bounces.dsn import BounceEvent, BounceKind, status_from_text

POSTMARK_HARD = frozenset({"HardBounce", "BadEmailAddress"})
POSTMARK_SOFT = frozenset({"SoftBounce", "Transient", "DnsError", "Blocked", "Undeliverable"})
POSTMARK_COMPLAINT = frozenset({"SpamComplaint"})
MAILGUN_MAX_AGE = 300.0  # seconds a signed request stays acceptable


def _delivery_id(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _address(value: Any) -> str | None:
    text = str(value or "").strip().strip("<>").lower()
    return text if "@" in text else None


def postmark_events(payload: Any) -> list[BounceEvent]:
    """The events in one Postmark webhook call (empty for deliveries, opens, …)."""
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    record = str(payload.get("RecordType", ""))
    kind_name = str(payload.get("Type", ""))
    if record == "SpamComplaint" or kind_name in POSTMARK_COMPLAINT:
        kind = BounceKind.COMPLAINT
    elif record != "Bounce":
        return []
    elif kind_name in POSTMARK_HARD:
        kind = BounceKind.HARD
    elif kind_name in POSTMARK_SOFT:
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
            recipient=_address(payload.get("Email")),
            status=status,
            diagnostic=f"{kind_name or record}: {details}"[:1000],
            source_id=f"postmark:{record}:{event_id}",
            delivery_id=_delivery_id((metadata or {}).get("delivery_id")),
            provider_message_id=str(payload.get("MessageID") or "") or None,
            source="postmark",
        )
    ]


def mailgun_signature_problem(
    key: str, signature: Any, *, now: float, max_age: float = MAILGUN_MAX_AGE
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
    """The events in one Mailgun webhook call (empty for deliveries, opens, …)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("event-data"), dict):
        raise ValueError("expected a JSON object with event-data")
    data: dict[str, Any] = payload["event-data"]
    event = str(data.get("event", ""))
    severity = str(data.get("severity", ""))
    reason = str(data.get("reason", ""))
    status_block = (
        data.get("delivery-status") if isinstance(data.get("delivery-status"), dict) else {}
    )
    status_block = status_block or {}
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
    variables = data.get("user-variables") if isinstance(data.get("user-variables"), dict) else {}
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    headers = (
        (message or {}).get("headers") if isinstance((message or {}).get("headers"), dict) else {}
    )
    message_id = str((headers or {}).get("message-id") or "").strip().strip("<>")
    return [
        BounceEvent(
            kind=kind,
            recipient=_address(data.get("recipient")),
            status=status,
            diagnostic=f"{event}/{severity or '-'} {reason}: {text}".strip()[:1000],
            source_id=f"mailgun:{event_id}",
            original_message_id=f"<{message_id}>" if message_id else None,
            delivery_id=_delivery_id((variables or {}).get("delivery_id")),
            source="mailgun",
        )
    ]
