"""One message outside the outbox: an editor's test copy, an opt-in mail, a notification.

None of these change any state: a test copy of a mailing is marked as a test (subject
prefix and ``X-Rundbrief-Test`` header) and carries the first list's unsubscribe headers
for a sample subscriber, so the editor sees exactly what recipients will get.
"""

from __future__ import annotations

import binascii
from email.utils import format_datetime

from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import OutgoingMessage, SendResult, Transport
from pipeline.deliver.headers import check_address, fold, mailbox, unstructured
from pipeline.deliver.message import MessageBuilder, message_id_for
from pipeline.errors import DeliveryError
from pipeline.models import Recipient
from pipeline.render import Personalisation, RenderedMailing
from pipeline.store import Store


def _secret(settings: Settings) -> str:
    return settings.secret(settings.web.secret_env, key="web.secret_env")


def _send_one(transport: Transport, message: OutgoingMessage) -> SendResult:
    results = transport.send([message])
    if len(results) != 1:
        raise DeliveryError(f"transport {transport.name} returned {len(results)} results for 1")
    return results[0]


def send_test(
    settings: Settings,
    store: Store,
    mailing_id: int,
    to: str,
    *,
    clock: Clock,
    transport: Transport | None = None,
    language: str | None = None,
) -> SendResult:
    """Send one copy of a mailing to ``to``, marked as a test; no state changes.

    It sends the stored render (the workflow renders a draft first)."""
    from pipeline.store.outbox import mailing_state
    from pipeline.store.renders import load_render

    state = mailing_state(store, mailing_id)
    if state is None:
        raise DeliveryError(f"unknown mailing {mailing_id}")
    languages = state.languages or (settings.organisation.language,)
    wanted = language or languages[0]
    rendered = load_render(store, mailing_id, wanted)
    if rendered is None:
        raise DeliveryError(f"mailing {mailing_id} has no {wanted} version; render it first")
    list_name = state.lists[0] if state.lists else None
    recipient = _test_recipient(store, to, list_name or "", wanted)
    own = transport is None
    if transport is None:
        from pipeline.deliver.factory import transport_from_settings

        transport = transport_from_settings(settings)
    try:
        builder = MessageBuilder(
            settings,
            rendered,
            list_name=list_name,
            secret=_secret(settings),
            clock=clock,
            wants_parts=bool(getattr(transport, "wants_parts", False)),
        )
        return _send_one(transport, builder.build(recipient, delivery_id=None, test=True))
    finally:
        if own:
            transport.close()


def _test_recipient(store: Store, to: str, list_name: str, language: str) -> Recipient:
    """The subscriber with this address if there is one (their name fills the copy)."""
    from pipeline.store.audience import find_subscriber

    address = check_address(to)
    with store.connect() as conn:
        found = find_subscriber(conn, address.lower())
    if found is None:
        return Recipient(subscriber_id=0, email=address, list_name=list_name, language=language)
    return Recipient(
        subscriber_id=found.id,
        email=address,
        list_name=list_name,
        first_name=found.first_name,
        last_name=found.last_name,
        salutation=found.salutation,
        title=found.title,
        language=language,
    )


def send_single(
    settings: Settings,
    transport: Transport,
    *,
    to: str | Recipient,
    rendered: RenderedMailing,
    personal: Personalisation,
    clock: Clock,
    list_name: str | None = None,
    test: bool = False,
) -> SendResult:
    """Send ``rendered`` filled with ``personal`` to one address (e.g. the opt-in mail)."""
    if isinstance(to, Recipient):
        email = to.email
        name = " ".join(p for p in (to.first_name, to.last_name) if p)
    else:
        email, name = to, ""
    builder = MessageBuilder(
        settings,
        rendered,
        list_name=list_name,
        secret=_secret(settings),
        clock=clock,
        wants_parts=bool(getattr(transport, "wants_parts", False)),
    )
    return _send_one(
        transport, builder.build_personal(email, name, personal, delivery_id=None, test=test)
    )


def send_plain(
    settings: Settings,
    transport: Transport,
    *,
    to: str,
    subject: str,
    text: str,
    clock: Clock,
) -> SendResult:
    """A plain-text message to the operator or an editor (failure notices, reports)."""
    sender = settings.sender
    address = check_address(to)
    from_address = check_address(sender.from_address)
    message_id = message_id_for("", None, None, sender.message_domain)
    body = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    if not body.endswith("\r\n"):
        body += "\r\n"
    head = "".join(
        (
            fold("Date", [format_datetime(clock.now())]),
            fold("From", mailbox(sender.from_name, from_address)),
            fold("To", [address]),
            fold("Subject", unstructured(subject)),
            fold("Message-ID", [message_id]),
            fold("Auto-Submitted", ["auto-generated"]),
            "MIME-Version: 1.0\r\n",
            'Content-Type: text/plain; charset="utf-8"\r\n',
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
        )
    )
    data = head.encode("ascii") + binascii.b2a_qp(body.encode("utf-8"), istext=True)
    parts = None
    if getattr(transport, "wants_parts", False):
        from pipeline.deliver import MessageParts

        parts = MessageParts(
            from_name=sender.from_name,
            from_address=from_address,
            to_name="",
            to_address=address,
            reply_to=sender.reply_to,
            subject=" ".join(subject.split()),
            text=text,
            html="",
            headers=(("Message-ID", message_id), ("Auto-Submitted", "auto-generated")),
        )
    message = OutgoingMessage(None, from_address, address, message_id, data, parts=parts)
    return _send_one(transport, message)
