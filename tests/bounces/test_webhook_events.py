"""Provider payloads to bounce events, and Mailgun's signature rule (pure functions)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from pipeline.bounces.dsn import BounceKind
from pipeline.deliver.providers.mailgun.webhook import mailgun_events
from pipeline.deliver.providers.mailgun.webhook import (
    signature_problem as mailgun_signature_problem,
)
from pipeline.deliver.providers.postmark.webhook import postmark_events


def postmark(type_: str, details: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "RecordType": "Bounce",
        "ID": 7,
        "Type": type_,
        "Email": "Anna.Schroeder@Example.org",
        "MessageID": "pm-1",
        "Details": details,
        "Metadata": {"delivery_id": "101"},
        **extra,
    }


@pytest.mark.parametrize(
    ("type_", "details", "kind", "status"),
    [
        ("HardBounce", "smtp;550 5.1.1 user unknown", BounceKind.HARD, "5.1.1"),
        ("HardBounce", "", BounceKind.HARD, "5.0.0"),
        ("BadEmailAddress", "", BounceKind.HARD, "5.0.0"),
        ("SoftBounce", "452 4.2.2 Mailbox full", BounceKind.SOFT, "4.2.2"),
        ("Transient", "", BounceKind.SOFT, "4.0.0"),
        ("SpamComplaint", "", BounceKind.COMPLAINT, None),
    ],
)
def test_postmark_types(type_: str, details: str, kind: BounceKind, status: str | None) -> None:
    (event,) = postmark_events(postmark(type_, details))
    assert (event.kind, event.status) == (kind, status)
    assert event.recipient == "anna.schroeder@example.org"
    assert event.delivery_id == 101
    assert event.provider_message_id == "pm-1"
    assert event.source_id == "postmark:Bounce:7"


@pytest.mark.parametrize("type_", ["AutoResponder", "Subscribe", "ChallengeVerification"])
def test_postmark_non_bounces_are_ignored(type_: str) -> None:
    assert postmark_events(postmark(type_)) == []


def test_postmark_bad_metadata_is_ignored_not_trusted() -> None:
    (event,) = postmark_events(postmark("HardBounce", Metadata={"delivery_id": "x; drop"}))
    assert event.delivery_id is None


@pytest.mark.parametrize(
    "payload", [None, [], "text", {"RecordType": "Bounce", "Type": "HardBounce"}]
)
def test_postmark_malformed(payload: Any) -> None:
    with pytest.raises(ValueError):
        postmark_events(payload)


def mailgun(event: str, severity: str = "", reason: str = "", message: str = "") -> dict[str, Any]:
    return {
        "event-data": {
            "event": event,
            "severity": severity,
            "reason": reason,
            "id": "ev-1",
            "recipient": "zoe.celik@example.com",
            "delivery-status": {"code": 550, "message": message},
            "user-variables": {"delivery_id": "104"},
            "message": {"headers": {"message-id": "rb-7-104@junge-buergermeister.example"}},
        }
    }


@pytest.mark.parametrize(
    ("payload", "kind", "status"),
    [
        (mailgun("failed", "permanent", "bounce", "5.1.1 No such user"), BounceKind.HARD, "5.1.1"),
        (
            mailgun("failed", "permanent", "bounce", "5.7.1 Blocked by policy"),
            BounceKind.SOFT,
            "5.7.1",
        ),
        (mailgun("failed", "temporary", "generic", "4.2.2 Mailbox full"), BounceKind.SOFT, "4.2.2"),
        (mailgun("failed", "permanent", "suppress-bounce"), BounceKind.HARD, "5.0.0"),
        (mailgun("complained"), BounceKind.COMPLAINT, None),
    ],
)
def test_mailgun_events(payload: dict[str, Any], kind: BounceKind, status: str | None) -> None:
    (event,) = mailgun_events(payload)
    assert (event.kind, event.status) == (kind, status)
    assert event.delivery_id == 104
    assert event.original_message_id == "<rb-7-104@junge-buergermeister.example>"
    assert event.source_id == "mailgun:ev-1"


@pytest.mark.parametrize(
    "payload",
    [
        mailgun("delivered"),
        mailgun("opened"),
        mailgun("failed", "permanent", "suppress-unsubscribe"),
    ],
)
def test_mailgun_non_bounces_are_ignored(payload: dict[str, Any]) -> None:
    assert mailgun_events(payload) == []


def sign(key: str, timestamp: str, token: str) -> str:
    return hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


def test_mailgun_signature_rules() -> None:
    key, token, now = "key-abc", "t" * 50, 1_781_856_000.0
    good = {
        "timestamp": str(int(now)),
        "token": token,
        "signature": sign(key, str(int(now)), token),
    }
    assert mailgun_signature_problem(key, good, now=now) is None
    assert mailgun_signature_problem(key, good, now=now + 299) is None
    assert mailgun_signature_problem(key, good, now=now + 301) == "stale timestamp"
    assert mailgun_signature_problem(key, good, now=now - 301) == "stale timestamp"
    assert mailgun_signature_problem("key-other", good, now=now) == "wrong signature"
    tampered = {**good, "token": "u" * 50}
    assert mailgun_signature_problem(key, tampered, now=now) == "wrong signature"
    assert (
        mailgun_signature_problem(key, {**good, "timestamp": "gestern"}, now=now) == "bad timestamp"
    )
    assert mailgun_signature_problem(key, {"token": token}, now=now) == "incomplete signature"
    assert mailgun_signature_problem(key, None, now=now) == "no signature"


# --- SendGrid and Brevo: what each documented event becomes --------------------------------


@pytest.mark.parametrize(
    ("fields", "kind", "status"),
    [
        ({"event": "bounce", "type": "bounce", "status": "5.1.1"}, BounceKind.HARD, "5.1.1"),
        ({"event": "bounce", "type": "bounce", "status": "5.7.1"}, BounceKind.SOFT, "5.7.1"),
        (
            {"event": "bounce", "status": "", "reason": "550 5.1.1 no such user"},
            BounceKind.HARD,
            "5.1.1",
        ),
        ({"event": "bounce", "type": "blocked", "status": "5.0.0"}, BounceKind.SOFT, "5.0.0"),
        ({"event": "dropped", "reason": "Bounced Address"}, BounceKind.HARD, "5.0.0"),
        ({"event": "dropped", "reason": "Invalid"}, BounceKind.HARD, "5.0.0"),
        ({"event": "dropped", "reason": "Spam Reporting Address"}, BounceKind.COMPLAINT, None),
        ({"event": "dropped", "reason": "Unsubscribed Address"}, BounceKind.UNSUBSCRIBE, None),
        ({"event": "spamreport"}, BounceKind.COMPLAINT, None),
        ({"event": "dropped", "reason": "Spam Content (if spam checker app enabled)"}, None, None),
        ({"event": "deferred", "response": "400 try again later"}, None, None),
        ({"event": "delivered"}, None, None),
    ],
)
def test_sendgrid_events(
    fields: dict[str, Any], kind: BounceKind | None, status: str | None
) -> None:
    from pipeline.deliver.providers.sendgrid.webhook import sendgrid_events

    item = {
        "email": "Anna.Schroeder@Example.org",
        "sg_event_id": "ZXZlbnQ",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "smtp-id": "<rb-7-101@junge-buergermeister.example>",
        "delivery_id": "101",
        **fields,
    }
    events = sendgrid_events([item])
    if kind is None:
        assert events == []
        return
    (event,) = events
    assert (event.kind, event.status) == (kind, status)
    assert event.recipient == "anna.schroeder@example.org"
    assert (event.delivery_id, event.provider_message_id) == (101, "14c5d75ce93.dfd.64b469")
    assert event.original_message_id == "<rb-7-101@junge-buergermeister.example>"


@pytest.mark.parametrize(
    ("name", "reason", "kind", "status"),
    [
        ("hard_bounce", "550 5.1.1 user unknown", BounceKind.HARD, "5.1.1"),
        ("hard_bounce", "550 5.7.1 rejected by policy", BounceKind.SOFT, "5.7.1"),
        ("invalid_email", "", BounceKind.HARD, "5.1.3"),
        ("soft_bounce", "", BounceKind.SOFT, "4.0.0"),
        ("blocked", "blocked : due to blacklist user", BounceKind.SOFT, "4.0.0"),
        ("spam", "", BounceKind.COMPLAINT, None),
        ("unsubscribed", "", BounceKind.UNSUBSCRIBE, None),
        ("deferred", "", None, None),
        ("delivered", "", None, None),
    ],
)
def test_brevo_events(name: str, reason: str, kind: BounceKind | None, status: str | None) -> None:
    from pipeline.deliver.providers.brevo import custom_header
    from pipeline.deliver.providers.brevo.webhook import brevo_events

    payload = {
        "event": name,
        "email": "Anna.Schroeder@Example.org",
        "id": 1217735,
        "message-id": "<202606191028.1@smtp-relay.mailin.fr>",
        "ts_event": 1781857690,
        "reason": reason,
        "X-Mailin-custom": custom_header(101),
    }
    events = brevo_events(payload)
    if kind is None:
        assert events == []
        return
    (event,) = events
    assert (event.kind, event.status, event.delivery_id) == (kind, status, 101)
    assert event.provider_message_id == "<202606191028.1@smtp-relay.mailin.fr>"
    # the webhook's id is not the event's: two events of one webhook differ
    other = brevo_events({**payload, "ts_event": 1781857691})[0]
    assert other.source_id != event.source_id


def test_brevo_custom_header_of_someone_else_names_no_delivery() -> None:
    from pipeline.deliver.providers.brevo import delivery_of_custom

    assert delivery_of_custom("rundbrief-delivery:42") == 42
    assert delivery_of_custom("order-4711") is None
    assert delivery_of_custom("rundbrief-delivery:-1") is None
    assert delivery_of_custom(None) is None
