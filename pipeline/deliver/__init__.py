"""Deliver: the outbox and the transports that move bytes to SMTP servers and providers.

Public API (contract shared with cli, web, audience, schedule):

- ``Transport``: ``send(batch) -> results`` and ``close()``; one module per transport.
- ``transport_from_settings(settings)`` builds the configured one.
- ``send_mailing(settings, store, mailing_id, ...)`` records one delivery per eligible
  recipient, then claims keyset batches and sends them; resumable after a crash.
- ``send_single(...)``: one message outside the outbox (test copies, opt-in mails,
  operator notifications).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    """A finished message: envelope plus the exact bytes (CRLF line ends)."""

    delivery_id: int | None
    envelope_from: str
    recipient: str
    message_id: str
    data: bytes


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


class Transport(Protocol):
    """How bytes leave. Implementations: smtp, maildir, postmark, mailgun, sendgrid, brevo."""

    name: str

    def send(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        """Send a batch; one result per message, in order. Raise only for a dead transport."""
        ...

    def close(self) -> None: ...
