"""Single messages: an editor's test copy, an opt-in mail, a notification.

Each is built here completely (``single_message``, ``plain_message``) and goes through
the system mail outbox (``pipeline.deliver.system``): recorded first, then sent, and
retried when the transport fails. ``send_test`` records a test copy and drains it at
once, so the editor sees the result; if the transport is down the copy stays queued and
goes out later. A test copy changes no mailing state: it is marked as a test (subject
prefix and ``X-Rundbrief-Test`` header) and is the copy of one ``person`` (the sample
person of the preview or a real subscriber: the same greeting and name), sent to the
editor's address. Its unsubscribe and preferences links, in the body and in
``List-Unsubscribe``, carry a ``test`` token: they open a page saying it was a test and
change nothing, whoever's copy it is.
"""

from __future__ import annotations

import binascii
from dataclasses import replace
from email.utils import format_datetime

import pipeline.store.system_mail as system_db
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import MessageParts, OutgoingMessage, SendResult, Transport
from pipeline.deliver.attachments import attachments_for
from pipeline.deliver.headers import check_address, fold, mailbox, unstructured
from pipeline.deliver.links import test_link_pair
from pipeline.deliver.message import MessageBuilder, message_id_for
from pipeline.deliver.system import TransportFactory, drain_system_mail, enqueue
from pipeline.errors import DeliveryError
from pipeline.models import Recipient
from pipeline.render import Personalisation, RenderedMailing
from pipeline.store import Store, press_files
from pipeline.store.audience import find_subscriber
from pipeline.store.outbox import mailing_state
from pipeline.store.renders import load_render


def _secret(settings: Settings) -> str:
    return settings.secret(settings.web.secret_env, key="web.secret_env")


def send_test(
    settings: Settings,
    store: Store,
    mailing_id: int,
    to: str,
    *,
    clock: Clock,
    transport: Transport | None = None,
    language: str | None = None,
    transport_factory: TransportFactory | None = None,
    person: Recipient | None = None,
) -> SendResult:
    """Record one copy of a mailing to ``to``, marked as a test, and send it at once.

    ``person``: whose copy it is (default: the subscriber with the address ``to``, if
    any); its links are test links whatever it is.

    It sends the stored render (the workflow renders a draft first). ``transport``
    (kept open) or ``transport_factory`` (default: the configured one). Not ``ok`` with
    ``permanent`` when refused for good; not ``ok`` otherwise when the copy waits in the
    system mail outbox for its next try (the error says so).
    """
    state = mailing_state(store, mailing_id)
    if state is None:
        raise DeliveryError(f"unknown mailing {mailing_id}")
    languages = state.languages or (settings.organisation.language,)
    wanted = language or languages[0]
    rendered = load_render(store, mailing_id, wanted)
    if rendered is None:
        raise DeliveryError(f"mailing {mailing_id} has no {wanted} version; render it first")
    list_name = state.lists[0] if state.lists else None
    if person is None:
        person = _test_recipient(store, to, list_name or "", wanted)
    address = check_address(to)
    # A press kit's small files are attached as they will be for recipients (within the
    # limit of the transport at hand, else the configured one); its links are plain:
    # a test copy's reader is an editor, who may always download.
    attachments = attachments_for(
        settings, press_files.list_files(store, mailing_id), [rendered], transport
    )
    builder = MessageBuilder(
        settings,
        rendered,
        list_name=list_name,
        secret=_secret(settings),
        clock=clock,
        wants_parts=True,  # the transport that drains it is only known then
        attachments=attachments,
    )
    personal = builder.personalisation(person)
    unsubscribe, preferences = test_link_pair(
        settings, _secret(settings), person.subscriber_id, person.list_name, wanted
    )
    personal = replace(personal, unsubscribe_url=unsubscribe, preferences_url=preferences)
    name = " ".join(p for p in (person.first_name, person.last_name) if p)
    message = builder.build_personal(address, name, personal, delivery_id=None, test=True)
    mail_id = enqueue(store, kind="test_copy", message=message, clock=clock)
    report = drain_system_mail(
        store, settings, transport_factory, clock, ids=[mail_id], transport=transport
    )
    return _result_of(store, mail_id, message, report.results.get(mail_id))


def _result_of(
    store: Store, mail_id: int, message: OutgoingMessage, result: SendResult | None
) -> SendResult:
    """The attempt's result, saying when the copy waits for another try."""
    found = system_db.get(store, mail_id)
    if found is None or found.status == "sent":
        return result or SendResult(None, message.recipient, True)
    if found.status == "failed":
        error = (result.error if result else None) or found.last_error or "refused"
        return SendResult(None, message.recipient, False, error=error, permanent=True)
    reason = (result.error if result else None) or found.last_error or "not sent yet"
    return SendResult(
        None,
        message.recipient,
        False,
        error=f"{reason} (the copy is queued and sent again automatically)",
    )


def _test_recipient(store: Store, to: str, list_name: str, language: str) -> Recipient:
    """The subscriber with this address if there is one (their name fills the copy)."""
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


def single_message(
    settings: Settings,
    *,
    to: str | Recipient,
    rendered: RenderedMailing,
    personal: Personalisation,
    clock: Clock,
    list_name: str | None = None,
    test: bool = False,
    auto_submitted: bool = True,
) -> OutgoingMessage:
    """``rendered`` filled with ``personal`` for one address (e.g. the opt-in mail),
    with the fields for HTTP providers, ready for ``system.enqueue``. Such a mail is
    made by the system, not written to this person: ``Auto-Submitted: auto-generated``."""
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
        wants_parts=True,
        auto_submitted=auto_submitted,
    )
    return builder.build_personal(email, name, personal, delivery_id=None, test=test)


def plain_message(
    settings: Settings,
    *,
    to: str,
    subject: str,
    text: str,
    clock: Clock,
) -> OutgoingMessage:
    """A plain-text message to the operator or an editor (failure notices, reports),
    with the fields for HTTP providers, ready for ``system.enqueue``."""
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
    return OutgoingMessage(None, from_address, address, message_id, data, parts=parts)
