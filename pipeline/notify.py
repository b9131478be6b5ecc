"""Operator notifications: one plain mail per event, never the same event twice.

An event has a key (``feed-failing:artikel:2026-11-20T08:00``, ``missed:17``,
``sent:17`` …). The key is recorded in ``notifications`` (unique) before the mail goes
out, so a job running every minute, or in two daemons, tells the operator once. A mail
that could not be sent stays unsent in the table and ``flush`` tries again later
(for a day), so a transport outage does not swallow the message.

Mail goes to ``[sender] operator`` through the configured transport
(``pipeline.deliver.single.send_plain``); without an operator address the event is
only recorded and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import Transport
from pipeline.errors import RundbriefError
from pipeline.store import Store
from pipeline.store import schedule as q

log = logging.getLogger(__name__)

TransportFactory = Callable[[], Transport]
RETRY_FOR = timedelta(days=1)
# A notification younger than this may still be on its first way out (a slow SMTP
# server): ``flush`` leaves it alone rather than mail it twice.
RETRY_AFTER = timedelta(minutes=5)


def _default_factory(settings: Settings) -> TransportFactory:
    def make() -> Transport:
        from pipeline.deliver.factory import transport_from_settings

        return transport_from_settings(settings)

    return make


def _mail(
    settings: Settings,
    make_transport: TransportFactory,
    *,
    to: str,
    subject: str,
    body: str,
    clock: Clock,
) -> bool:
    from pipeline.deliver.single import send_plain

    try:
        transport = make_transport()
    except RundbriefError as exc:
        log.warning("notification not sent: no transport", extra={"error": str(exc)})
        return False
    try:
        result = send_plain(settings, transport, to=to, subject=subject, text=body, clock=clock)
    except RundbriefError as exc:
        log.warning("notification not sent", extra={"to": to, "error": str(exc)})
        return False
    finally:
        transport.close()
    if not result.ok:
        log.warning("notification refused", extra={"to": to, "error": result.error or "?"})
    return result.ok


def notify(
    settings: Settings,
    store: Store,
    *,
    key: str,
    subject: str,
    body: str,
    clock: Clock,
    to: str | None = None,
    transport_factory: TransportFactory | None = None,
) -> bool:
    """Tell the operator (or ``to``) about an event once; False if it was told before."""
    if q.notification_exists(store, key):  # the common case, checked without a write lock
        return False
    prefixed = f"[{settings.organisation.name}] {subject}"
    notification_id = q.add_notification(
        store, key=key, subject=prefixed, body=body, now=clock.now()
    )
    if notification_id is None:
        return False
    log.warning("notification", extra={"key": key, "subject": subject})
    address = to if to is not None else settings.sender.operator
    if not address:
        log.info("no [sender] operator address: notification only recorded", extra={"key": key})
        return True
    make = transport_factory or _default_factory(settings)
    if _mail(settings, make, to=address, subject=prefixed, body=body, clock=clock):
        q.mark_notification_sent(store, notification_id, now=clock.now())
    return True


def flush(
    settings: Settings,
    store: Store,
    *,
    clock: Clock,
    transport_factory: TransportFactory | None = None,
) -> int:
    """Retry operator mails that failed to go out (younger than a day); return the sent."""
    address = settings.sender.operator
    if not address:
        return 0
    now = clock.now()
    pending = q.list_notifications(store, unsent_only=True, since=now - RETRY_FOR)
    sent = 0
    make = transport_factory or _default_factory(settings)
    for item in reversed(pending):
        if item.key.startswith("editors:") or now - item.created_at < RETRY_AFTER:
            continue  # editors' notes are not worth repeating; young ones may be under way
        if not q.claim_notification(store, item.id, now=now):
            continue  # another daemon is retrying it
        if _mail(settings, make, to=address, subject=item.subject, body=item.body, clock=clock):
            sent += 1
        else:
            q.unclaim_notification(store, item.id)
            break  # the transport is still down; try again next time
    return sent
