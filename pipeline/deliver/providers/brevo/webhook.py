"""Brevo's transactional webhook: bounces, blocks, spam reports and unsubscribes.

Brevo does not sign its calls; a webhook is secured when it is created, by one of
(Brevo's "Secure webhook calls"): user and password in its URL
(``https://USER:PASSWORD@host/webhooks/brevo``, sent as HTTP basic auth), or a bearer
token (its ``auth`` option, ``{"type": "bearer", "token": ...}``; or the same token as
``?token=...`` in the URL you configure). ``[brevo] webhook_user_env`` /
``webhook_password_env`` and ``webhook_token_env`` name where ours are kept; a call must
carry one configured credential, and with none configured the webhook answers 503.

A call is one JSON event: ``event``, ``email``, ``message-id`` (the ``messageId`` the
API answered), ``X-Mailin-custom`` (the header our transport sets to the delivery id),
``reason``, ``ts_event``, ``tags``. Understood here:

    hard_bounce, invalid_email    hard (a status in ``reason`` may make it soft: 5.7.x)
    soft_bounce, blocked          soft (``blocked``: Brevo would not send to it now)
    spam                          a complaint
    unsubscribed                  an unsubscribe
    request, delivered, deferred, opened, click, ...   no event
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.bounces import BounceEvent, BounceKind, status_from_text
from pipeline.deliver.providers.brevo import BrevoSettings, delivery_of_custom
from pipeline.deliver.providers.webhooks import (
    Refusal,
    SecretLookup,
    WebhookCall,
    address,
    basic_auth_refusal,
    bracketed,
    not_configured,
    same_secret,
)

KINDS = {
    "hard_bounce": BounceKind.HARD,
    "invalid_email": BounceKind.HARD,
    "soft_bounce": BounceKind.SOFT,
    "blocked": BounceKind.SOFT,
    "spam": BounceKind.COMPLAINT,
    "unsubscribed": BounceKind.UNSUBSCRIBE,
}
_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


class BrevoWebhook:
    def __init__(self, config: BrevoSettings, secret: SecretLookup) -> None:
        self.user = secret(config.webhook_user_env, "brevo.webhook_user_env")
        self.password = secret(config.webhook_password_env, "brevo.webhook_password_env")
        self.token = secret(config.webhook_token_env, "brevo.webhook_token_env")

    def configured(self) -> bool:
        return bool(self.user and self.password) or bool(self.token)

    def authenticate(self, call: WebhookCall) -> Refusal | None:
        basic = bool(self.user and self.password)
        if not self.configured():
            return not_configured("Brevo")
        if self.token:
            bearer = _BEARER.match(call.header("Authorization"))
            given = bearer.group(1) if bearer else call.query.get("token", "")
            if given and same_secret(given, self.token):
                return None
        if basic and self.user and self.password:
            return basic_auth_refusal(call, self.user, self.password)
        return Refusal(401, "authentication required")

    def nonce(self, call: WebhookCall) -> str | None:
        return None  # unsigned: a repeat is caught by the event's own identity

    def events(self, call: WebhookCall) -> list[BounceEvent]:
        return brevo_events(call.json())


def brevo_events(payload: Any) -> list[BounceEvent]:
    """The event in one Brevo call (empty for sends, deliveries, opens, ...)."""
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    event = str(payload.get("event", ""))
    kind = KINDS.get(event)
    if kind is None:
        return []
    reason = str(payload.get("reason") or "")
    status = None
    if kind == BounceKind.HARD:
        status = status_from_text(reason + " ") or (
            "5.1.3" if event == "invalid_email" else "5.0.0"
        )
        if status.startswith(("4", "5.7", "5.2.2")):
            kind = BounceKind.SOFT  # a policy block or a full mailbox, whatever Brevo says
    elif kind == BounceKind.SOFT:
        status = status_from_text(reason + " ") or "4.0.0"
    message_id = bracketed(payload.get("message-id"))
    recipient = address(payload.get("email"))
    when = payload.get("ts_event") or payload.get("ts_epoch") or payload.get("ts") or ""
    if not message_id and not when:
        raise ValueError("the event has neither message-id nor a time")
    # Brevo's "id" is the webhook's, not the event's: the event is its message, its
    # recipient, its kind and its time
    identity = f"{message_id or '-'}:{recipient or '-'}:{event}:{when}"
    return [
        BounceEvent(
            kind=kind,
            recipient=recipient,
            status=status,
            diagnostic=f"{event}: {reason}".strip()[:1000],
            source_id=f"brevo:{identity}"[:250],
            original_message_id=message_id,
            delivery_id=delivery_of_custom(payload.get("X-Mailin-custom")),
            provider_message_id=message_id,
            source="brevo",
        )
    ]
