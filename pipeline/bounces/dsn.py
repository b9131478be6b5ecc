"""Reading bounce and complaint reports: pure functions from bytes to ``BounceEvent`` values.

    parse_report(bytes) -> list[BounceEvent]     (empty: not a bounce, or only a delay)

Understood formats:

- RFC 3464 delivery status notifications (``multipart/report;
  report-type=delivery-status``): one event per recipient block whose ``Action`` is
  ``failed``, with ``Status``, ``Final-Recipient``, ``Original-Recipient`` and
  ``Diagnostic-Code``; the returned message (``message/rfc822`` or
  ``text/rfc822-headers``) gives the original Message-ID and Return-Path.
- RFC 5965 ARF complaints (``report-type=feedback-report``): ``Feedback-Type`` abuse,
  fraud or other, ``Original-Rcpt-To`` and ``Original-Mail-From`` (our VERP address).
- The common non-standard bounces, minimally: ``X-Failed-Recipients`` (Exim), indented
  or ``<address>:`` recipient lines (Exim, qmail) and a status code found in the text.

``Action: delayed`` reports are warnings (the message is still queued) and give no event.
Classification (``classify``): 4.x.x is soft; 5.x.x is hard except 5.2.2 (mailbox full)
and 5.7.x (policy: a block of our server, not a dead address), which count as soft.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import getaddresses
from enum import StrEnum


class BounceKind(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class BounceEvent:
    """One recipient that bounced or complained, as far as the report says."""

    kind: BounceKind
    # the address that failed, lower case; None when the report hides it (some ARF)
    recipient: str | None
    status: str | None  # enhanced status code "5.1.1"
    diagnostic: str
    # unique per report and recipient: processing a report twice counts once
    source_id: str
    original_message_id: str | None = None
    # the addresses the report was sent to (where a VERP token lives)
    report_addresses: tuple[str, ...] = ()
    delivery_id: int | None = None  # known already (a webhook's metadata)
    provider_message_id: str | None = None
    source: str = "dsn"  # dsn | arf | text | postmark | mailgun


_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_BASIC = re.compile(r"(?<![\d.])([45]\d\d)(?:[ -])")
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
_RECIPIENT_LINE = re.compile(r"^(?:\s+|<)(\S+@[^\s>]+)>?:?\s*$", re.MULTILINE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status notification|failure|has failed)|returned mail|"
    r"failure notice|mail delivery (failed|failure|system)|unzustellbar|nicht zugestellt",
    re.IGNORECASE,
)
_HARD_WORDS = re.compile(
    r"user unknown|unknown user|no such user|does not exist|doesn't exist|"
    r"mailbox unavailable|address rejected|invalid recipient|recipient not found",
    re.IGNORECASE,
)
_FULL_WORDS = re.compile(
    r"mailbox (is )?full|over ?quota|quota exceeded|insufficient storage", re.I
)
_COMPLAINT_TYPES = frozenset({"abuse", "fraud", "other"})


def classify(status: str | None, diagnostic: str = "") -> BounceKind | None:
    """Hard, soft or nothing (a success or delay code) for an enhanced status code."""
    if not status:
        return None
    klass, subject, detail = ([*status.split("."), "0", "0"])[:3]
    if klass == "4":
        return BounceKind.SOFT
    if klass != "5":
        return None
    if (subject, detail) == ("2", "2") or subject == "7":
        return BounceKind.SOFT
    if (subject, detail) == ("0", "0") and _FULL_WORDS.search(diagnostic):
        return BounceKind.SOFT
    return BounceKind.HARD


def status_from_text(text: str) -> str | None:
    """The most telling status code in free text: an enhanced code, else a basic one."""
    enhanced = [".".join(m.groups()) for m in _ENHANCED.finditer(text)]
    specific = [code for code in enhanced if not code.endswith(".0.0")]
    if specific:
        return specific[0]
    basic = _BASIC.search(text)
    if basic:
        code = basic.group(1)
        if code[0] == "5" and _HARD_WORDS.search(text):
            return "5.1.1"
        if _FULL_WORDS.search(text):
            return f"{code[0]}.2.2"
        return f"{code[0]}.0.0"
    if enhanced:
        return enhanced[0]
    return None


def parse_report(data: bytes) -> list[BounceEvent]:
    """Every bounce or complaint event in one received message (pure; no I/O)."""
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    report_id = _report_id(message, data)
    addresses = _report_addresses(message)
    if message.get_content_type() == "multipart/report":
        report_type = str(message.get_param("report-type", "")).lower()
        if report_type == "feedback-report":
            return _parse_arf(message, report_id, addresses)
        if report_type == "delivery-status" or _find(message, "message/delivery-status"):
            events = _parse_dsn(message, report_id, addresses)
            if events or _has_delivery_status(message):
                return events
    return _parse_text(message, report_id, addresses)


# --- RFC 3464 --------------------------------------------------------------------------


def _parse_dsn(
    message: EmailMessage, report_id: str, addresses: tuple[str, ...]
) -> list[BounceEvent]:
    original_id, original_paths = _original(message)
    events = []
    for part in _walk(message, "message/delivery-status"):
        blocks = _blocks(part)
        for block in blocks[1:] if len(blocks) > 1 else blocks:
            action = str(block.get("Action", "")).strip().lower()
            diagnostic = _field_value(block.get("Diagnostic-Code", ""))
            status = str(block.get("Status", "")).strip() or None
            if status and status.endswith(".0.0") and diagnostic:
                status = status_from_text(diagnostic) or status
            if action and action != "failed":
                continue  # delayed, delivered, relayed, expanded: no bounce
            kind = classify(status, diagnostic)
            if kind is None:
                continue
            recipient = _normal(
                _field_value(block.get("Final-Recipient", ""))
                or _field_value(block.get("Original-Recipient", ""))
            )
            events.append(
                BounceEvent(
                    kind=kind,
                    recipient=recipient,
                    status=status,
                    diagnostic=diagnostic[:1000],
                    source_id=f"{report_id}:{recipient or '-'}",
                    original_message_id=original_id,
                    report_addresses=_unique(addresses + original_paths),
                    source="dsn",
                )
            )
    return events


def _has_delivery_status(message: EmailMessage) -> bool:
    return any(True for _ in _walk(message, "message/delivery-status"))


def _blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [b for b in payload if isinstance(b, Message)]
    # Some senders label the part oddly; parse the text as header blocks ourselves.
    text = payload if isinstance(payload, str) else ""
    parser = HeaderParser()
    return [
        parser.parsestr(chunk.strip() + "\n")
        for chunk in re.split(r"\n\s*\n", text)
        if chunk.strip()
    ]


# --- RFC 5965 --------------------------------------------------------------------------


def _parse_arf(
    message: EmailMessage, report_id: str, addresses: tuple[str, ...]
) -> list[BounceEvent]:
    fields: Message | None = None
    for part in _walk(message, "message/feedback-report"):
        blocks = _blocks(part)
        fields = blocks[0] if blocks else None
        break
    if fields is None:
        return []
    feedback_type = str(fields.get("Feedback-Type", "")).strip().lower()
    if feedback_type not in _COMPLAINT_TYPES:
        return []
    original_id, original_paths = _original(message)
    mail_from = _normal(_strip_angle(str(fields.get("Original-Mail-From", ""))))
    recipients = [
        _normal(_strip_angle(str(v))) for v in fields.get_all("Original-Rcpt-To", []) or []
    ]
    if not recipients:
        original = _original_headers(message)
        to = original.get("To", "") if original is not None else ""
        recipients = [_normal(a) for _, a in getaddresses([str(to)]) if a] or [None]
    paths = addresses + original_paths + ((mail_from,) if mail_from else ())
    return [
        BounceEvent(
            kind=BounceKind.COMPLAINT,
            recipient=recipient,
            status=None,
            diagnostic=f"feedback-type {feedback_type}"
            + (f" from {fields.get('User-Agent')}" if fields.get("User-Agent") else ""),
            source_id=f"{report_id}:{recipient or '-'}",
            original_message_id=original_id,
            report_addresses=_unique(paths),
            source="arf",
        )
        for recipient in recipients
    ]


# --- non-standard bounces --------------------------------------------------------------


def _parse_text(
    message: EmailMessage, report_id: str, addresses: tuple[str, ...]
) -> list[BounceEvent]:
    sender = str(message.get("From", "")).lower()
    subject = str(message.get("Subject", ""))
    failed_header = str(message.get("X-Failed-Recipients", ""))
    if not (
        failed_header
        or "mailer-daemon" in sender
        or "postmaster" in sender
        or _BOUNCE_SUBJECT.search(subject)
    ):
        return []
    text = _text_of(message)
    recipients = [_normal(a) for _, a in getaddresses([failed_header]) if a]
    if not recipients:
        own = {a.lower() for a in addresses} | {_normal(a) for _, a in getaddresses([sender])}
        found = [_normal(m) for m in _RECIPIENT_LINE.findall(_before_original(text))]
        recipients = [r for r in dict.fromkeys(found) if r and r not in own]
    if not recipients:
        return []
    status = status_from_text(_before_original(text))
    if status is None and re.search(r"permanent(ly)? (error|failure|fatal)", text, re.I):
        status = "5.0.0"
    kind = classify(status, text)
    if kind is None:
        return []
    ids = _MESSAGE_ID.findall(_after_original(text))
    original_id, original_paths = _original(message)
    diagnostic = _diagnostic_line(text, status)
    return [
        BounceEvent(
            kind=kind,
            recipient=recipient,
            status=status,
            diagnostic=diagnostic,
            source_id=f"{report_id}:{recipient}",
            original_message_id=original_id or (ids[0] if ids else None),
            report_addresses=_unique(addresses + original_paths),
            source="text",
        )
        for recipient in recipients
    ]


def _before_original(text: str) -> str:
    """The human part of a bounce, without the returned message that may follow."""
    marker = re.search(
        r"^-+ ?(This is a copy of the message|Original message|Below this line)|^Return-Path:",
        text,
        re.IGNORECASE | re.MULTILINE,
    )
    return text[: marker.start()] if marker else text


def _after_original(text: str) -> str:
    return text[len(_before_original(text)) :]


def _diagnostic_line(text: str, status: str | None) -> str:
    for line in _before_original(text).splitlines():
        if (status and status in line) or _BASIC.search(line + " "):
            return line.strip()[:1000]
    return (status or "")[:1000]


# --- shared helpers --------------------------------------------------------------------


def _walk(message: Message, content_type: str) -> Iterable[Message]:
    for part in message.walk():
        if part.get_content_type() == content_type:
            yield part


def _find(message: Message, content_type: str) -> Message | None:
    return next(iter(_walk(message, content_type)), None)


def _original_headers(message: EmailMessage) -> Message | None:
    """The headers of the returned original message, when the report includes them."""
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if ctype in ("text/rfc822-headers", "text/global-headers"):
            raw = part.get_payload(decode=True)
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            return HeaderParser().parsestr(text)
    return None


def _original(message: EmailMessage) -> tuple[str | None, tuple[str, ...]]:
    """The original Message-ID and the envelope sender it carried (a VERP address)."""
    original = _original_headers(message)
    if original is None:
        return None, ()
    message_id = str(original.get("Message-ID", "")).strip() or None
    paths = tuple(
        _strip_angle(str(v)) for v in original.get_all("Return-Path", []) or [] if str(v).strip()
    )
    return message_id, paths


def _report_addresses(message: EmailMessage) -> tuple[str, ...]:
    values: list[str] = []
    for header in ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To"):
        values.extend(str(v) for v in message.get_all(header, []) or [])
    found = [a.lower() for _, a in getaddresses(values) if a]
    return tuple(dict.fromkeys(found))


def _report_id(message: EmailMessage, data: bytes) -> str:
    message_id = str(message.get("Message-ID", "")).strip()
    return message_id or "sha256:" + hashlib.sha256(data).hexdigest()[:32]


def _text_of(message: EmailMessage) -> str:
    parts = []
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                charset = part.get_content_charset() or "utf-8"
                try:
                    parts.append(raw.decode(charset, "replace"))
                except LookupError:
                    parts.append(raw.decode("utf-8", "replace"))
    return "\n".join(parts)


def _field_value(value: object) -> str:
    """``rfc822; anna@example.org`` → ``anna@example.org``; ``smtp; 550 …`` → ``550 …``."""
    text = " ".join(str(value).split())
    _kind, semi, rest = text.partition(";")
    return rest.strip() if semi else text


def _unique(addresses: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.lower() for a in addresses if a))


def _strip_angle(value: str) -> str:
    return value.strip().strip("<>").strip()


def _normal(address: str | None) -> str | None:
    if not address:
        return None
    address = _strip_angle(address).lower()
    return address if _ADDRESS.fullmatch(address) else None
