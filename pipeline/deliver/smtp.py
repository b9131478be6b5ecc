"""SMTP transport: a pool of persistent connections, one per worker thread.

Each message goes MAIL FROM, RCPT TO, DATA on its own so every reply is seen where it
happens, and each failure says what it is about (``Blame``):

    MAIL 5xx                       the sender: no delivery fails, the mailing pauses
    RCPT 5xx (5.1.x: hard bounce)  the recipient, permanent
    RCPT 4xx (4.2.x: mailbox)      the recipient, retried later
    RCPT 4.3.x/4.4.x, MAIL 4xx,    the server, for now: retried later, never a pause
    DATA 4xx, 421, no connection
    DATA 5xx                       the recipient (content refused); a pause only when
                                   every recipient of several sends is refused

A refused recipient does not cost the connection. 421 means the server is closing it:
at the start of a transaction on a connection that already delivered, that is a relay's
limit of messages per connection, so the message goes again at once on a new one;
anywhere else the server is busy, and the rate limiter is told to back off.

A connection that died while idle is only noticed on the next command. If that happens
before DATA, nothing was handed over, so the message is sent again at once on a fresh
connection; if it happens during DATA the server may have taken it: the outcome is
unknown, and the outbox waits before sending it again (then counted as a possible
duplicate; at most this one message can arrive twice).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import smtplib
import ssl
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from pipeline.config import Smtp
from pipeline.deliver import Blame, ClosedOnExit, OutgoingMessage, SendResult
from pipeline.errors import DeliveryError

log = logging.getLogger(__name__)

# Seconds to pause the whole transport after a reply that means "you are too fast /
# I am busy"; the rate limiter takes the largest pending pause.
BACKOFF = {421: 30.0, 451: 5.0, 454: 30.0}

Security = Literal["none", "starttls", "tls"]


class _Dropped(Exception):
    """The connection is gone; ``handed_over`` tells whether DATA had started."""

    def __init__(self, message: str, *, handed_over: bool) -> None:
        super().__init__(message)
        self.handed_over = handed_over


class SmtpTransport(ClosedOnExit):
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: Security = "none",
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        connections: int = 4,
        local_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_message_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        # The largest message when the server's EHLO names no SIZE (RFC 1870).
        self.max_message_bytes = max_message_bytes
        self.announced_size: int | None = None
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.connections = connections
        self.local_hostname = local_hostname
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.batch_hint = max(32, 16 * connections)
        self._local = threading.local()
        self._open: dict[int, smtplib.SMTP] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=connections, thread_name_prefix="smtp")

    # -- connections ---------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        try:
            conn: smtplib.SMTP
            if self.security == "tls":
                conn = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    local_hostname=self.local_hostname,
                    context=self.ssl_context,
                )
            else:
                conn = smtplib.SMTP(
                    self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname
                )
            conn.ehlo()
            if self.security == "starttls":
                conn.starttls(context=self.ssl_context)
                conn.ehlo()
            if self.username:
                self._login(conn)
            self._note_size(conn)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"SMTP {self.host}:{self.port} refused the login of {self.username!r}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc}") from exc
        with self._lock:
            self._open[threading.get_ident()] = conn
        return conn

    def _note_size(self, conn: smtplib.SMTP) -> None:
        size = conn.esmtp_features.get("size", "").strip()
        # "SIZE 0" (or none given) means the server states no fixed limit.
        if size.isdigit() and int(size) > 0:
            self.announced_size = int(size)

    def message_limit(self) -> int:
        """The largest message this server takes: its EHLO SIZE, else the configured one.
        Asked before the first send, it connects once (that connection is kept for
        sending by the pool thread that opened it)."""
        if self.announced_size is None and not self._open:
            with contextlib.suppress(DeliveryError, OSError, smtplib.SMTPException):
                self._pool.submit(self._current).result()
        return self.announced_size or self.max_message_bytes

    def _login(self, conn: smtplib.SMTP) -> None:
        """AUTH PLAIN with UTF-8 (RFC 4616) where offered: smtplib encodes ASCII only."""
        offered = conn.esmtp_features.get("auth", "").upper().split()
        if "PLAIN" in offered:
            token = b"\0" + self.username.encode() + b"\0" + self.password.encode()
            code, reply = conn.docmd("AUTH", "PLAIN " + base64.b64encode(token).decode())
            if code != 235:
                raise smtplib.SMTPAuthenticationError(code, reply)
            return
        try:
            conn.login(self.username, self.password)
        except UnicodeEncodeError as exc:
            raise DeliveryError(
                f"SMTP {self.host}:{self.port} offers no AUTH PLAIN and smtplib cannot send "
                "a password with non-ASCII characters"
            ) from exc

    def _current(self) -> tuple[smtplib.SMTP, bool]:
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, False
        conn = self._connect()
        self._local.conn = conn
        self._local.delivered = 0
        return conn, True

    def _drop(self) -> None:
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        self._local.conn = None
        self._local.primed = None
        with self._lock:
            self._open.pop(threading.get_ident(), None)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    # -- sending -------------------------------------------------------------------------

    def send(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        if not batch:
            return []
        # One task per connection, each taking the next message from a shared queue: a
        # thread hand-off per connection, not per message (the hand-offs cost more CPU
        # than the SMTP dialogue itself), and no connection idles while another one still
        # has a backlog (the batch is done when the slowest connection is).
        queue = _Queue(batch)
        results: list[SendResult | None] = [None] * len(batch)
        n = min(self.connections, len(batch))
        for future in [self._pool.submit(self._send_many, queue, results) for _ in range(n)]:
            future.result()
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:
            raise AssertionError(f"smtp: no result for messages {missing}")
        return [r for r in results if r is not None]

    def _send_many(self, queue: _Queue, results: list[SendResult | None]) -> None:
        item = queue.take()
        while item is not None:
            index, message = item
            # Taken now so its envelope can follow this message's data in one write.
            item = queue.take()
            results[index] = self._send_one(message, item[1] if item else None)

    def _send_one(self, message: OutgoingMessage, following: OutgoingMessage | None) -> SendResult:
        for attempt in (1, 2):
            try:
                conn, fresh = self._current()
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                return _transient(message, f"cannot connect to {self.host}:{self.port}: {exc}")
            try:
                result = self._transaction(conn, message, following)
            except _Dropped as exc:
                self._drop()
                if exc.handed_over:
                    return _transient(message, str(exc), unknown=True)
                if fresh or attempt == 2:
                    return _transient(message, str(exc))
                log.debug("smtp connection closed (idle, or its message limit); reconnecting")
                continue
            if result.ok:
                self._local.delivered = getattr(self._local, "delivered", 0) + 1
            return result
        raise AssertionError("unreachable")

    def _transaction(
        self, conn: smtplib.SMTP, message: OutgoingMessage, following: OutgoingMessage | None
    ) -> SendResult:
        stage = "MAIL"
        try:
            if conn.has_extn("pipelining"):
                # RFC 2920: MAIL, RCPT and DATA in one write, then their three replies;
                # the envelope of the next message goes in the same write as this
                # message's data (see ``_data``), so a message costs one round trip.
                if getattr(self._local, "primed", None) is not message:
                    conn.send(_envelope(message))
                self._local.primed = None
                replies = [conn.getreply()]
                self._closing_after_limit(replies[0][0])
                for next_stage in ("RCPT", "DATA"):
                    if replies[-1][0] == 421:
                        break  # the server closes now; the other replies never come
                    stage = next_stage
                    replies.append(conn.getreply())
                for (code, reply), (step, wanted) in zip(
                    replies,
                    (("MAIL", (250,)), ("RCPT", (250, 251)), ("DATA", (354,))),
                    strict=False,
                ):
                    if code not in wanted:
                        return self._refused(conn, message, code, reply, step)
                stage = "DATA"
                follow = _envelope(following) if following is not None else b""
                code, reply = self._data(conn, message.data, follow, following)
                if code != 250:
                    return self._refused(conn, message, code, reply, stage, after_data=True)
            else:
                code, reply = conn.mail(message.envelope_from)
                self._closing_after_limit(code)
                if code != 250:
                    return self._refused(conn, message, code, reply, stage)
                stage = "RCPT"
                code, reply = conn.rcpt(message.recipient)
                if code not in (250, 251):
                    return self._refused(conn, message, code, reply, stage)
                stage = "DATA"
                # Not ``conn.data``: smtplib's regex dot-stuffing is slow (see _dot_stuff).
                code, reply = conn.docmd("DATA")
                if code != 354:
                    return self._refused(conn, message, code, reply, stage)
                code, reply = self._data(conn, message.data, b"", None)
        except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
            return self._refused(conn, message, exc.smtp_code, exc.smtp_error, stage)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Dropped(
                f"connection to {self.host}:{self.port} dropped during {stage}: {exc}",
                handed_over=stage == "DATA",
            ) from exc
        if code != 250:
            return self._refused(conn, message, code, reply, stage)
        return SendResult(
            message.delivery_id, message.recipient, True, provider_message_id=_queue_id(reply)
        )

    def _closing_after_limit(self, code: int) -> None:
        """421 to MAIL on a connection that delivered: its limit, not a busy server."""
        if code == 421 and getattr(self._local, "delivered", 0) > 0:
            raise _Dropped(
                f"{self.host}:{self.port} closed the connection after "
                f"{self._local.delivered} messages (421)",
                handed_over=False,
            )

    def _data(
        self, conn: smtplib.SMTP, data: bytes, follow: bytes, following: OutgoingMessage | None
    ) -> tuple[int, bytes]:
        """The message after a 354: dot-stuffed, CRLF-terminated, then the final reply.

        ``follow`` (the next message's pipelined envelope) goes in the same write; its
        replies are read by the next transaction on this connection.
        """
        stuffed = _dot_stuff(data)
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        conn.send(stuffed + b".\r\n" + follow)
        if following is not None:
            self._local.primed = following
        return conn.getreply()

    def _refused(
        self,
        conn: smtplib.SMTP,
        message: OutgoingMessage,
        code: int,
        reply: bytes | str,
        stage: str,
        *,
        after_data: bool = False,
    ) -> SendResult:
        text = f"{stage} {code} {_text(reply)}"
        if code == 421 or code < 0:
            self._drop()  # the server closes after 421; do not reuse the socket
        elif after_data:
            pass  # the reply to the data ends the transaction; a pipelined MAIL may follow
        else:
            try:
                conn.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()
        enhanced = _text(reply)[:4]
        if 400 <= code < 500 or code < 0:
            return SendResult(
                message.delivery_id,
                message.recipient,
                False,
                error=text,
                retry_after=BACKOFF.get(code),
                blame=_transient_blame(code, stage, enhanced),
            )
        if stage == "MAIL":
            # The sender is refused (not allowed to relay, unknown, blocked): every
            # message would meet the same answer; none of the recipients is at fault.
            return SendResult(
                message.delivery_id, message.recipient, False, error=text, blame=Blame.SENDER
            )
        return SendResult(
            message.delivery_id,
            message.recipient,
            False,
            error=text,
            permanent=True,
            hard_bounce=stage == "RCPT" and enhanced.startswith("5.1."),
        )

    def close(self) -> None:
        def quit_one(conn: smtplib.SMTP) -> None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                with contextlib.suppress(OSError):
                    conn.close()

        with self._lock:
            conns = list(self._open.values())
            self._open.clear()
        for conn in conns:
            quit_one(conn)
        self._pool.shutdown(wait=True)


def _dot_stuff(data: bytes) -> bytes:
    """SMTP transparency (RFC 5321 4.5.2): a line starting with "." gets a second one.

    ``bytes.replace`` instead of a multiline regex: MJML's HTML has CSS rules at the
    start of lines, so nearly every newsletter needs stuffing, and the regex took longer
    than building the message.
    """
    stuffed = data.replace(b"\n.", b"\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


class _Queue:
    """The messages of one batch, handed out one at a time to the connections' threads."""

    def __init__(self, batch: Sequence[OutgoingMessage]) -> None:
        self._items = iter(enumerate(batch))
        self._lock = threading.Lock()

    def take(self) -> tuple[int, OutgoingMessage] | None:
        with self._lock:
            return next(self._items, None)


def _envelope(message: OutgoingMessage) -> bytes:
    return (
        f"MAIL FROM:<{message.envelope_from}>\r\nRCPT TO:<{message.recipient}>\r\nDATA\r\n".encode(
            "ascii"
        )
    )


def _transient(message: OutgoingMessage, error: str, *, unknown: bool = False) -> SendResult:
    """The connection failed or was lost: the server's trouble, not the recipient's."""
    return SendResult(
        message.delivery_id,
        message.recipient,
        False,
        error=error,
        blame=Blame.PEER,
        unknown=unknown,
    )


def _transient_blame(code: int, stage: str, enhanced: str) -> Blame:
    """A 4xx at RCPT is the recipient's (a full mailbox, greylisting) unless it says the
    server (4.3.x system, 4.4.x network) or closes; everything else 4xx is the server's."""
    if stage == "RCPT" and code != 421 and not enhanced.startswith(("4.3.", "4.4.")):
        return Blame.RECIPIENT
    return Blame.PEER


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]


def _queue_id(reply: bytes | str) -> str | None:
    # "250 2.0.0 Ok: queued as 4Xyz" (Postfix) or any other text: keep it short.
    text = _text(reply)
    marker = "queued as "
    if marker in text:
        return text.split(marker, 1)[1].split()[0] if text.split(marker, 1)[1] else None
    return text[:100] or None


def from_section(cfg: Smtp, password: str = "") -> SmtpTransport:
    """The transport of an ``[smtp]`` section; ``password`` is the secret its
    ``password_env`` names (resolved by ``deliver.factory``; unused without a username)."""
    return SmtpTransport(
        host=cfg.host,
        port=cfg.port,
        security=cfg.security,
        username=cfg.username,
        password=password,
        timeout=cfg.timeout,
        connections=cfg.connections,
        max_message_bytes=cfg.max_message_bytes,
    )


__all__ = ["BACKOFF", "SmtpTransport", "from_section"]
