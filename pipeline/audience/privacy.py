"""GDPR requests: export everything held on a person (Art. 15, 20) and erase it (Art. 17).

Export gathers the person's data and attributes, every subscription with its consent
evidence, the suppression entry, the delivery history from the outbox and bounce events.

Erase removes the person: the subscriber row and subscriptions (with the evidence IPs)
go, outbox rows keep their status for the mailing's statistics but no longer name the
address, bounce texts (which quote it) are dropped. What stays is one suppression entry
holding only the sha256 of the address, so that a later import or provider event can
never mail it again (the legitimate interest that Art. 17(3) allows).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from pipeline.audience.addresses import AddressError, email_hash, normalise_email
from pipeline.audience.suppression import suppress_in
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import AudienceError
from pipeline.store import Store
from pipeline.store import audience as q
from pipeline.store import system_mail as system_db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EraseReport:
    email_hash: str
    subscriber_erased: bool
    subscriptions: int
    deliveries_scrubbed: int


def _key(email: str) -> str:
    try:
        return normalise_email(email)
    except AddressError as exc:
        raise AudienceError(f"{email!r} is not a valid address: {exc}") from exc


@dataclass(frozen=True)
class PersonHistory:
    """What was sent to one address and what came back, newest first (the person's page)."""

    suppression: dict[str, Any] | None
    deliveries: list[dict[str, Any]]
    bounces: list[dict[str, Any]]


def person_history(store: Store, email: str) -> PersonHistory:
    """The outbox rows, bounce events and suppression entry of ``email``."""
    key = _key(email)
    digest = email_hash(key)
    with store.connect() as conn:
        suppression = q.get_suppression(conn, digest)
        deliveries = q.delivery_history(conn, key)
        bounces = q.bounce_history(conn, digest)
    return PersonHistory(
        suppression=None
        if suppression is None
        else {
            "reason": suppression.reason,
            "detail": suppression.detail,
            "since": suppression.created_at,
        },
        deliveries=deliveries[::-1],  # the queries read in id order
        bounces=bounces[::-1],
    )


def export_person(settings: Settings, store: Store, email: str, *, clock: Clock) -> dict[str, Any]:
    """Everything held on ``email`` as a JSON-ready dict (``AudienceError`` if nothing)."""
    key = _key(email)
    digest = email_hash(key)
    with store.connect() as conn:
        person = q.find_subscriber(conn, key)
        subs = q.subscriptions_of(conn, person.id) if person else []
        suppression = q.get_suppression(conn, digest)
        history = q.delivery_history(conn, key)
        bounces = q.bounce_history(conn, digest)
        system = system_db.of_person(conn, subscriber_id=person.id if person else None, email=key)
    if person is None and suppression is None and not history and not bounces:
        raise AudienceError(f"nothing is held on {key}")
    consent_texts = {settings.audience.consent_version: settings.audience.consent_text}
    return {
        "exported_at": _iso(clock.now()),
        "controller": {
            "name": settings.organisation.name,
            "postal_address": settings.organisation.postal_address,
            "privacy_url": settings.organisation.privacy_url,
        },
        "email": key,
        "subscriber": None
        if person is None
        else {
            "id": person.id,
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "salutation": person.salutation,
            "title": person.title,
            "language": person.language,
            "attributes": person.attributes,
            "created_at": _iso(person.created_at),
            "updated_at": _iso(person.updated_at),
        },
        "subscriptions": [
            {
                "list": s.list_name,
                "status": s.status,
                "consent": {
                    "source": s.source,
                    "consent_version": s.consent_version,
                    "consent_text": consent_texts.get(s.consent_version or ""),
                    "signup_at": _iso(s.signup_at),
                    "signup_ip": s.signup_ip,
                    "confirmation_sent_at": _iso(s.confirm_sent_at),
                    "confirmed_at": _iso(s.confirmed_at),
                    "confirm_ip": s.confirm_ip,
                },
                "unsubscribed_at": _iso(s.unsubscribed_at),
                "created_at": _iso(s.created_at),
            }
            for s in subs
        ],
        "suppression": None
        if suppression is None
        else {
            "reason": suppression.reason,
            "detail": suppression.detail,
            "since": _iso(suppression.created_at),
        },
        "deliveries": [
            {
                "mailing_id": d["mailing_id"],
                "kind": d["kind"],
                "subject": d["subject"],
                "list": d["list_name"],
                "language": d["language"],
                "status": d["status"],
                "attempts": d["attempts"],
                "last_error": d["last_error"],
                "message_id": d["message_id"],
                "sent_at": _iso(d["sent_at"]),
                "queued_at": _iso(d["created_at"]),
            }
            for d in history
        ],
        "bounces": [
            {
                "kind": b["kind"],
                "status_code": b["status_code"],
                "detail": b["detail"],
                "source": b["source"],
                "received_at": _iso(b["received_at"]),
            }
            for b in bounces
        ],
        "system_mail": [
            {
                "kind": m.kind,
                "list": m.list_name,
                "subject": _subject(m.data),
                "status": m.status,
                "message_id": m.message_id,
                "queued_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
            }
            for m in system
        ],
    }


def _subject(data: bytes) -> str:
    # Only the head is parsed (the body may be long); RFC 2047 words decoded.
    head = BytesHeaderParser(policy=policy.default).parsebytes(data)
    return str(head["Subject"] or "")


def erase_person(store: Store, email: str, *, clock: Clock) -> EraseReport:
    """Remove every personal datum on ``email``; keep (or add) a hashed suppression."""
    key = _key(email)
    digest = email_hash(key)
    with store.begin() as conn:
        person = q.find_subscriber(conn, key)
        count = 0
        if person is not None:
            count = len(q.subscriptions_of(conn, person.id))
        # Suppress first (cancels queued deliveries), then strip the address everywhere.
        suppress_in(conn, key, "erased", clock=clock)
        scrubbed = q.scrub_deliveries(conn, key)
        system_db.scrub_person(
            conn, subscriber_id=person.id if person is not None else None, email=key
        )
        q.scrub_bounces(conn, digest)
        q.scrub_suppression(conn, digest, f"erased on request {clock.now():%Y-%m-%d}")
        if person is not None:
            q.delete_subscriber(conn, person.id)
    log.info("person erased", extra={"subscriptions": count, "deliveries": scrubbed})
    return EraseReport(digest, person is not None, count, scrubbed)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
