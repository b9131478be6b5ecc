"""Deliver: the outbox and the transports that move bytes to SMTP servers and providers.

Public API (the modules behind it are internal; the names below load their module on
first use, so the value types here cost nothing to import):

- value types: ``OutgoingMessage``, ``MessageParts``, ``SendResult``, ``Blame``;
  ``Transport`` (``send(batch) -> results``, ``close()``, a context manager:
  ``ClosedOnExit`` is that half, for implementations to inherit) and
  ``Confirming`` (a transport that can tell whether a provider accepted a message).
- ``transport_from_settings(settings)``: the configured transport (smtp, maildir or a
  provider: ``pipeline.deliver.providers``, its own public sub-package).
- ``send_mailing(settings, store, mailing_id, ...) -> SendReport`` records one delivery
  per eligible recipient, then claims keyset batches and sends them (resumable);
  ``mailings_to_work`` (for ``worker``); ``Progress``, ``ProgressCallback``, ``StopCheck``.
- ``Lease``, ``worker_id``, ``start_sending``, ``active_senders``, ``ended_here``: the
  one lease every sender (``send``, ``worker``, the daemon) holds on a mailing; senders
  on one mailing cooperate, none makes another stop.
- ``check_readiness(settings)``: the production rules (``Finding`` values: a loopback
  ``base_url``, no imprint, no signing secret ...) when the transport reaches people;
  ``readiness_report`` words them (``readiness_json`` for scripts); ``require_ready`` raises ``NotReadyError`` on an
  error (the outbox calls it before every real send, the daemon and ``worker`` at start).
- ``MessageBuilder``: the parts common to all recipients once per mailing, the personal
  parts spliced in per recipient.
- system mail (confirmations, welcome mails, notifications, test copies): ``enqueue`` a
  finished message (``enqueue_once``: a welcome, never recorded twice), ``drain_system_mail`` sends what is due with the deliveries' back-off,
  ``SystemMailWorker`` drains in the background (``TransportFactory`` builds its
  transport); ``single_message`` / ``plain_message`` build one whole, ``send_test``
  records a test copy and drains it at once.

A transport is built from its own part of the configuration, never the whole
``Settings``: ``factory`` picks it by the name in ``[delivery] transport`` (a provider's
through the registry) and hands it its section and the secret it names. A transport may
declare ``batch_hint`` (how many messages it likes per ``send`` call, e.g. Postmark's
500) and ``wants_parts`` (it posts JSON fields instead of MIME, so the builder fills
``OutgoingMessage.parts``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import import_module
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

if TYPE_CHECKING:
    from pipeline.deliver.factory import transport_from_settings
    from pipeline.deliver.lease import Lease, active_senders, ended_here, start_sending, worker_id
    from pipeline.deliver.message import MessageBuilder
    from pipeline.deliver.outbox import (
        Progress,
        ProgressCallback,
        SendReport,
        StopCheck,
        iter_mailings_to_work,
        mailings_to_work,
        send_mailing,
    )
    from pipeline.deliver.readiness import (
        Finding,
        check_readiness,
        readiness_json,
        readiness_report,
        require_ready,
    )
    from pipeline.deliver.single import plain_message, send_test, single_message
    from pipeline.deliver.system import (
        SystemMailWorker,
        TransportFactory,
        drain_system_mail,
        enqueue,
        enqueue_once,
    )


@dataclass(frozen=True)
class Attachment:
    """A file attached to every copy of a mailing (a small press kit file)."""

    name: str  # safe: ``[A-Za-z0-9._-]``
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MessageParts:
    """The same message as fields, for HTTP providers that take JSON instead of MIME.

    ``headers`` holds every header except From, To, Subject, Reply-To, Date, MIME-Version
    and Content-*: Message-ID, List-Id, List-Unsubscribe, List-Unsubscribe-Post,
    Feedback-ID, the test marker. Values are unfolded, decoded text.
    """

    from_name: str
    from_address: str
    to_name: str
    to_address: str
    reply_to: str
    subject: str
    text: str
    html: str
    headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class OutgoingMessage:
    """A finished message: envelope plus the exact bytes (CRLF line ends)."""

    delivery_id: int | None
    envelope_from: str
    recipient: str
    message_id: str
    data: bytes
    # Filled only when the transport says ``wants_parts``; None otherwise.
    parts: MessageParts | None = None
    # Stable per delivery (Brevo's idempotency key, Postmark metadata): "rb-<mailing>-<id>".
    idempotency_key: str = ""


class Blame(StrEnum):
    """What a failed send is about; it decides what the outbox does with the delivery.

    ``RECIPIENT``: this address (SMTP RCPT 4xx/5xx, a provider's per-message refusal).
        Transient ones retry up to ``max_attempts``; permanent ones fail the delivery, and
        only requests whose every recipient was refused permanently, several in a row,
        pause the mailing (the sending itself is then likely broken).
    ``PEER``: the server, the provider or the network, for now (HTTP 5xx and 429, an
        HTML error page, a refused connection or a timeout before anything was sent,
        SMTP 421/451 outside a recipient). Retried with back-off until ``max_retry_hours``;
        never pauses a mailing, never uses up a delivery's attempts.
    ``SENDER``: the sender, the account or the request, not the recipient (login or API
        key refused, MAIL FROM refused, Postmark 412, a whole request rejected). No
        delivery fails or spends an attempt: the outbox puts them back and pauses the
        mailing with the reason; they are sent once the cause is fixed.
    """

    RECIPIENT = "recipient"
    PEER = "peer"
    SENDER = "sender"


@dataclass(frozen=True)
class SendResult:
    delivery_id: int | None
    recipient: str
    ok: bool
    provider_message_id: str | None = None
    error: str | None = None
    permanent: bool = False  # do not retry
    hard_bounce: bool = False  # 5.1.x: suppress the address
    retry_after: float | None = None  # seconds the peer asked us to wait
    blame: Blame = Blame.RECIPIENT
    # The request may have been accepted but its answer never came (a timeout after the
    # body was sent, a connection lost after DATA): neither sent nor failed. The outbox
    # asks the transport (``Confirming``) before sending again, or waits
    # ``delivery.unknown_wait_seconds`` and counts the resend as a possible duplicate.
    # A transport that resends safely (an idempotency key) reports PEER, not unknown.
    unknown: bool = False


class Transport(Protocol):
    """How bytes leave. Implementations: smtp, maildir, and the HTTP providers (Postmark,
    Mailgun, SendGrid, Brevo). Each is a context manager: ``with transport:`` closes its
    connections on the way out, whatever happened inside."""

    name: str

    def send(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        """Send a batch; one result per message, in order. Raise only for a dead transport."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None: ...


class ClosedOnExit:
    """The context-manager half of a ``Transport``: ``with transport:`` calls
    ``close()`` on the way out, whatever happened inside. Transports inherit it so the
    protocol's promise is kept in one place."""

    def close(self) -> None:
        return None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


@runtime_checkable
class Confirming(Protocol):
    """A transport that can tell whether the provider accepted a message.

    Asked about deliveries whose last request went unanswered (``SendResult.unknown``),
    before anything is sent again, with the messages rebuilt exactly as before (same
    Message-ID, same idempotency key, same delivery id in the metadata).
    """

    def confirm(self, batch: Sequence[OutgoingMessage]) -> Mapping[int, str | None]:
        """Per delivery id the provider could tell about: its message id there if it
        accepted the message, ``None`` if it has no such message. A delivery id left out
        means "cannot tell" (search unavailable, not indexed yet, an error)."""
        ...


# The implementation's names, by module: imported when first asked for (PEP 562), because
# the settings (every command) import this package for the provider registry and must
# not load the message builder, the renderer or the store with it.
_LAZY = {
    "factory": ("transport_from_settings",),
    "lease": ("Lease", "active_senders", "ended_here", "start_sending", "worker_id"),
    "message": ("MessageBuilder",),
    "outbox": (
        "Progress",
        "mailings_to_work",
        "ProgressCallback",
        "SendReport",
        "StopCheck",
        "iter_mailings_to_work",
        "send_mailing",
    ),
    "readiness": (
        "Finding",
        "check_readiness",
        "readiness_json",
        "readiness_json",
        "readiness_report",
        "require_ready",
    ),
    "single": ("plain_message", "send_test", "single_message"),
    "system": (
        "SystemMailWorker",
        "TransportFactory",
        "drain_system_mail",
        "enqueue",
        "enqueue_once",
    ),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}

__all__ = [
    "Blame",
    "ClosedOnExit",
    "Confirming",
    "Finding",
    "Lease",
    "MessageBuilder",
    "MessageParts",
    "OutgoingMessage",
    "Progress",
    "ProgressCallback",
    "SendReport",
    "SendResult",
    "StopCheck",
    "SystemMailWorker",
    "Transport",
    "TransportFactory",
    "active_senders",
    "check_readiness",
    "drain_system_mail",
    "ended_here",
    "enqueue",
    "enqueue_once",
    "iter_mailings_to_work",
    "mailings_to_work",
    "plain_message",
    "readiness_json",
    "readiness_report",
    "require_ready",
    "send_mailing",
    "send_test",
    "single_message",
    "start_sending",
    "transport_from_settings",
    "worker_id",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
