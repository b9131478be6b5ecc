"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives.

Faults can be injected per RCPT address or per message number to exercise the
transports' error handling against a real protocol peer.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """aiosmtpd's Controller refuses port 0: ask the kernel for a free one first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class MailSink:
    """What the server received; ``rcpt_reply``/``data_reply`` inject faults."""

    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # sender address -> SMTP reply line, e.g. "550 5.7.1 Sender not allowed"
    mail_reply: Callable[[str], str | None] = lambda _addr: None
    # address -> SMTP reply line, e.g. "550 5.1.1 No such user"
    rcpt_reply: Callable[[str], str | None] = lambda _addr: None
    # A relay's limit of messages per connection: the MAIL after that many gets 421 and
    # the connection is closed (0: no limit).
    per_connection_limit: int = 0
    # message number (1-based, counting attempts) -> reply line, e.g. "421 4.3.2 Try later"
    data_reply: Callable[[int], str | None] = lambda _n: None
    # message number -> True: close the connection after the data arrived, without a
    # reply and without keeping the message (a server that died at the worst moment)
    drop_after_data: Callable[[int], bool] = lambda _n: False
    data_attempts: int = 0
    # Advertise RFC 2920 PIPELINING (aiosmtpd handles pipelined commands in order anyway).
    pipelining: bool = False
    # Seconds each message takes to be accepted (per connection; may change while sending):
    # a slow relay, so a send lasts until other senders have joined it.
    delay: float = 0.0

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        done = getattr(session, "rundbrief_delivered", 0)
        if self.per_connection_limit and done >= self.per_connection_limit:
            if server.transport is not None:
                # after the reply below is written (it is written before the next turn)
                asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.7.0 Too many messages on this connection, closing"
        reply = self.mail_reply(address)
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        reply = self.rcpt_reply(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.data_attempts += 1
            number = self.data_attempts
        if self.drop_after_data(number):
            if server.transport is not None:
                server.transport.close()
            return "421 4.4.2 connection dropped"
        reply = self.data_reply(number)
        if reply:
            return reply
        content = envelope.original_content or b""
        session.rundbrief_delivered = getattr(session, "rundbrief_delivered", 0) + 1  # type: ignore[attr-defined]
        with self.lock:
            self.messages.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content))
            )
        return "250 2.0.0 Message accepted"

    def recipients(self) -> list[str]:
        with self.lock:
            return [r for m in self.messages for r in m.rcpt_tos]


class SilentServer:
    """A port that takes connections and never answers: an SMTP server that hangs."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(16)  # connections wait in the backlog, never greeted

    def stop(self) -> None:
        self._sock.close()


class SmtpServer:
    def __init__(
        self, sink: MailSink | None = None, *, port: int | None = None, **smtp_kwargs: Any
    ) -> None:
        self.sink = sink or MailSink()
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self._controller = Controller(self.sink, hostname=self.host, port=self.port, **smtp_kwargs)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[Received]:
        return self.sink.messages


def loopback_smtp(server: SmtpServer) -> dict[str, dict[str, Any]]:
    """The settings sections that send through ``server`` (plain SMTP on loopback, no
    rate limit to speak of): ``settings_factory(**loopback_smtp(server), press=…)``."""
    return {
        "delivery": {"transport": "smtp", "per_second": 1000},
        "smtp": {"host": server.host, "port": server.port, "security": "none"},
    }
