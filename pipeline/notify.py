"""Operator notifications: one plain mail per event, never the same event twice.

An event has a key (``feed-failing:artikel:2026-11-20T08:00``, ``missed:17``,
``sent:17`` …). The key is recorded in ``notifications`` (unique) before the mail is
built, so a job running every minute, or in two daemons, tells the operator once. The
mail itself goes through the system mail outbox (``pipeline.deliver.enqueue``): recorded,
then sent at once; when the transport is down it stays queued and the daemon's ``mail``
job (or ``rundbrief mail drain``) sends it later with the deliveries' back-off.

Mail goes to ``[sender] operator`` (or the ``to`` given); without an address the event
is only recorded and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import Transport, drain_system_mail, enqueue, plain_message
from pipeline.errors import DeliveryError
from pipeline.store import Store
from pipeline.store import schedule as q

log = logging.getLogger(__name__)

TransportFactory = Callable[[], Transport]


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
    try:
        message = plain_message(settings, to=address, subject=prefixed, text=body, clock=clock)
    except DeliveryError as exc:  # an unusable address: nothing to queue
        log.warning("notification not mailed", extra={"key": key, "error": str(exc)})
        return True
    mail_id = enqueue(store, kind="notification", message=message, clock=clock)
    report = drain_system_mail(store, settings, transport_factory, clock, ids=[mail_id])
    if report.sent:
        q.mark_notification_sent(store, notification_id, now=clock.now())
    else:
        log.warning("notification queued for a later try", extra={"key": key})
    return True
