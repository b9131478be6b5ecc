"""Double opt-in: a sign-up creates a pending subscription and mails a confirmation link;
the link activates it. The evidence German courts ask for is kept on the subscription:
when and from which IP the sign-up came, from which form or URL, which version of the
consent text was shown, when and from which IP it was confirmed.

Whatever the address (new, pending, active, unsubscribed, suppressed), a sign-up gives
the caller the same answer, so the form cannot be used to find out who is subscribed;
what differs happens behind it (a mail or none). Sign-ups are limited per IP address and
hour (``audience.signups_per_ip_per_hour``); the IPs of the ``signups`` table are kept
one day only.

Who may sign up for what: only lists with ``double_opt_in = true``; the others (the
members list) are fed by imports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.audience.addresses import Normaliser, email_hash
from pipeline.audience.links import read_link
from pipeline.audience.suppression import lift_for_optin, may_optin
from pipeline.audience.tokens import TokenError
from pipeline.clock import Clock
from pipeline.config import MailingList, Settings
from pipeline.errors import AudienceError
from pipeline.store import Store
from pipeline.store import audience as q
from pipeline.store import system_mail as system_db

log = logging.getLogger(__name__)

LANGUAGES = ("de", "en")
_KEEP_SIGNUPS = timedelta(days=1)


class RateLimited(AudienceError):
    """Too many sign-ups from one IP address; ``retry_after`` in seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Signup:
    email: str  # as typed
    list_name: str
    ip: str
    source: str  # the form or page URL it came from
    first_name: str = ""
    last_name: str = ""
    language: str = ""


@dataclass(frozen=True)
class SignupOutcome:
    """What happened (for logs and tests; the person is told the same in every case)."""

    email: str
    list_name: str
    action: str  # recorded | queued (the confirmation) | already_active | not_mailed_suppressed
    subscriber_id: int | None = None


@dataclass(frozen=True)
class Confirmed:
    email: str
    list_name: str
    already: bool  # the link had been used before
    mailable: bool  # False when an operator's suppression still stands


def public_lists(settings: Settings) -> list[MailingList]:
    """The lists a person may sign up for (double opt-in ones)."""
    return [m for m in settings.lists if m.double_opt_in]


@dataclass(frozen=True)
class ConfirmationTask:
    """A confirmation mail that is due (the sign-up is recorded)."""

    email: str
    subscriber_id: int
    mailing_list: MailingList
    language: str


def record_signup(
    settings: Settings, store: Store, request: Signup, *, clock: Clock
) -> tuple[SignupOutcome, ConfirmationTask | None]:
    """Record a sign-up (pending, with evidence): the outcome, and the mail due (if any).

    Raises ``RateLimited``, ``AddressError`` (the address is not valid or not one the
    policy accepts) or ``AudienceError`` (unknown list, list without sign-up); never
    because the address exists or not. The confirmation mail itself is rendered and
    recorded in the system mail outbox above this package (``pipeline.signup``).
    """
    now = clock.now()
    _rate_limit(settings, store, request.ip, now)
    mailing_list = _public_list(settings, request.list_name)
    email = Normaliser().accept(request.email)
    language = request.language if request.language in LANGUAGES else settings.organisation.language
    with store.begin() as conn:
        suppression = q.get_suppression(conn, email_hash(email))
        if suppression is not None and not may_optin(suppression.reason):
            log.info("sign-up of a suppressed address ignored", extra={"list": mailing_list.name})
            return SignupOutcome(email, mailing_list.name, "not_mailed_suppressed"), None
        person = q.find_subscriber(conn, email)
        if person is None:
            subscriber_id = q.create_subscriber(
                conn,
                {
                    "email": email,
                    "email_hash": email_hash(email),
                    "first_name": _clean(request.first_name),
                    "last_name": _clean(request.last_name),
                    "language": language,
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                },
            )
        else:
            # An unconfirmed form never changes a known person's data.
            subscriber_id = person.id
            language = person.language
        existing = q.get_subscription(conn, subscriber_id, mailing_list.name)
        if existing is not None and existing.status == "active":
            return SignupOutcome(email, mailing_list.name, "already_active", subscriber_id), None
        q.upsert_subscription(
            conn,
            subscriber_id,
            mailing_list.name,
            {
                "status": "pending",
                "source": f"form:{request.source}"[:2000],
                "consent_version": settings.audience.consent_version,
                "signup_at": now,
                "signup_ip": request.ip,
                "confirm_sent_at": None,
                "confirmed_at": None,
                "confirm_ip": None,
                "created_at": existing.created_at if existing else now,
                "updated_at": now,
            },
        )
    # The mail is recorded after the commit: a crash in between leaves a pending sign-up
    # the person can repeat, never a mail pointing at nothing.
    task = ConfirmationTask(email, subscriber_id, mailing_list, language)
    return SignupOutcome(email, mailing_list.name, "recorded", subscriber_id), task


def resend_task(
    settings: Settings, store: Store, email: str, list_name: str, *, now: datetime
) -> ConfirmationTask:
    """The confirmation mail to send again to the pending sign-up of ``email`` on
    ``list_name`` (an admin's request). Raises ``AudienceError`` naming what is wrong (no
    such subscriber, no pending sign-up on that list, a suppression that stands) and
    ``RateLimited`` when the last confirmation of that sign-up is younger than
    ``audience.resend_confirmation_minutes``."""
    mailing_list = _public_list(settings, list_name)
    key = Normaliser().accept(email)
    with store.connect() as conn:
        person = q.find_subscriber(conn, key)
        if person is None:
            raise AudienceError(f"no subscriber with the address {key}")
        current = q.get_subscription(conn, person.id, mailing_list.name)
        suppression = q.get_suppression(conn, email_hash(key))
    if current is None or current.status != "pending":
        status = current.status if current is not None else "not signed up"
        raise AudienceError(
            f"{key} has no pending sign-up on the list {mailing_list.name!r} ({status})"
        )
    if suppression is not None and not may_optin(suppression.reason):
        raise AudienceError(f"{key} is suppressed ({suppression.reason}): no mail goes to it")
    window = timedelta(minutes=settings.audience.resend_confirmation_minutes)
    last = system_db.last_recorded(
        store, kind="confirmation", subscriber_id=person.id, list_name=mailing_list.name
    )
    if last is not None and now < last + window:
        wait = max(1, int((last + window - now).total_seconds()))
        raise RateLimited(
            f"a confirmation went to {key} for {mailing_list.name!r} less than "
            f"{settings.audience.resend_confirmation_minutes} minutes ago; "
            f"try again in {(wait + 59) // 60} minutes",
            retry_after=wait,
        )
    return ConfirmationTask(key, person.id, mailing_list, person.language)


def note_confirmation_sent(
    store: Store, subscriber_id: int, list_name: str, *, at: datetime
) -> None:
    """The confirmation mail of a sign-up went out (called by the system mail outbox).
    Nothing when the sign-up is gone: the person was erased while the mail was sent."""
    with store.begin() as conn:
        if q.get_subscription(conn, subscriber_id, list_name) is None:
            return
        q.upsert_subscription(conn, subscriber_id, list_name, {"confirm_sent_at": at})
    log.info("confirmation mailed", extra={"list": list_name, "subscriber": subscriber_id})


def confirm(
    settings: Settings, store: Store, token: str, *, ip: str, clock: Clock, secret: str
) -> Confirmed:
    """Activate the subscription a confirmation link names; ``TokenError`` when the link is
    altered, expired or no longer matches a pending or active subscription."""
    found = read_link(store, secret, token, purpose="confirm")
    now = clock.now()
    assert found.issued_at is not None
    if now > found.issued_at + timedelta(days=settings.audience.confirm_days):
        raise TokenError("confirmation link expired")
    if now < found.issued_at - timedelta(minutes=5):
        raise TokenError("confirmation link from the future")
    with store.begin() as conn:
        person = q.get_subscriber(conn, found.subscriber_id)
        current = q.get_subscription(conn, found.subscriber_id, found.list_name)
        if person is None or current is None or current.status == "unsubscribed":
            raise TokenError("confirmation link no longer valid")
        if current.signup_at and found.issued_at < _seconds(current.signup_at):
            raise TokenError("confirmation link older than the sign-up")
        if current.status == "active":
            return Confirmed(person.email, found.list_name, True, True)
        q.upsert_subscription(
            conn,
            found.subscriber_id,
            found.list_name,
            {"status": "active", "confirmed_at": now, "confirm_ip": ip, "updated_at": now},
        )
        mailable = lift_for_optin(conn, person.email)
    log.info(
        "sign-up confirmed", extra={"list": found.list_name, "subscriber": found.subscriber_id}
    )
    return Confirmed(person.email, found.list_name, False, mailable)


def pending_for(
    settings: Settings, store: Store, token: str, *, clock: Clock, secret: str
) -> tuple[str, str]:
    """(list title, status) a confirmation link points at, without changing anything."""
    found = read_link(store, secret, token, purpose="confirm")
    assert found.issued_at is not None
    if clock.now() > found.issued_at + timedelta(days=settings.audience.confirm_days):
        raise TokenError("confirmation link expired")
    with store.connect() as conn:
        current = q.get_subscription(conn, found.subscriber_id, found.list_name)
    if current is None or current.status == "unsubscribed":
        raise TokenError("confirmation link no longer valid")
    title = next((m.title for m in settings.lists if m.name == found.list_name), found.list_name)
    return title, current.status


def _rate_limit(settings: Settings, store: Store, ip: str, now: datetime) -> None:
    limit = settings.audience.signups_per_ip_per_hour
    since = now - timedelta(hours=1)
    with store.begin() as conn:
        q.purge_signups(conn, now - _KEEP_SIGNUPS)
        if q.count_signups(conn, ip, since) >= limit:
            oldest = q.oldest_signup(conn, ip, since) or now
            wait = max(1, int((oldest + timedelta(hours=1) - now).total_seconds()) + 1)
            raise RateLimited(
                f"too many sign-ups from {ip} (limit {limit} an hour)", retry_after=wait
            )
        q.record_signup(conn, ip, now)


def _public_list(settings: Settings, name: str) -> MailingList:
    for mailing_list in public_lists(settings):
        if mailing_list.name == name:
            return mailing_list
    raise AudienceError(f"the list {name!r} does not take sign-ups")


def _clean(value: str) -> str:
    # Names end up in headers and spreadsheets: no control characters, bounded length.
    text = "".join(ch for ch in value if ch.isprintable()).strip()[:200]
    return "'" + text if text.startswith(("=", "+", "-", "@")) else text


def _seconds(at: datetime) -> datetime:
    return at.replace(microsecond=0)
