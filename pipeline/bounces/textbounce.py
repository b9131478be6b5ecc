"""The common non-standard bounces, minimally: Exim's ``X-Failed-Recipients``, indented or
``<address>:`` recipient lines (Exim, qmail), and a status code found in the text.

Only messages that look like bounces (from MAILER-DAEMON or postmaster, a bounce-like
subject, or ``X-Failed-Recipients``) are read; the returned copy of our message that
follows the human part is searched for our Message-ID only (a ``Message-ID:`` header
line quoted in the body: without one, nothing ties the bounce to a delivery of ours).
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses

from pipeline.bounces.mime import decoded, normal, original, text_of, unique
from pipeline.bounces.status import BASIC_CODE, BounceEvent, classify, status_from_text

# a Message-ID header line of the quoted original, also indented or quoted with ">"
_MESSAGE_ID = re.compile(r"^[ \t>]*Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
_RECIPIENT_LINE = re.compile(r"^(?:\s+|<)(\S+@[^\s>]+)>?:?\s*$", re.MULTILINE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status notification|failure|has failed)|returned mail|"
    r"failure notice|mail delivery (failed|failure|system)|unzustellbar|nicht zugestellt",
    re.IGNORECASE,
)


def parse_text(message: Message, report_id: str, addresses: tuple[str, ...]) -> list[BounceEvent]:
    sender = str(message.get("From", "")).lower()
    subject = decoded(message.get("Subject", ""))
    failed_header = str(message.get("X-Failed-Recipients", ""))
    if not (
        failed_header
        or "mailer-daemon" in sender
        or "postmaster" in sender
        or _BOUNCE_SUBJECT.search(subject)
    ):
        return []
    text = text_of(message)
    recipients = [normal(a) for _, a in getaddresses([failed_header]) if a]
    if not recipients:
        own = {a.lower() for a in addresses} | {normal(a) for _, a in getaddresses([sender])}
        found = [normal(m) for m in _RECIPIENT_LINE.findall(_before_original(text))]
        recipients = [r for r in dict.fromkeys(found) if r and r not in own]
    if not recipients:
        return []
    status = status_from_text(_before_original(text))
    if status is None and re.search(r"permanent(ly)? (error|failure|fatal)", text, re.I):
        status = "5.0.0"
    kind = classify(status, text)
    if kind is None:
        return []
    # The copy of our message, when the bounce marks where it starts; else the whole text
    # (some MTAs quote the original's headers without a marker line).
    ids = _MESSAGE_ID.findall(_after_original(text) or text)
    original_id, original_paths = original(message)
    diagnostic = _diagnostic_line(text, status)
    return [
        BounceEvent(
            kind=kind,
            recipient=recipient,
            status=status,
            diagnostic=diagnostic,
            source_id=f"{report_id}:{recipient}",
            original_message_id=original_id or (ids[0] if ids else None),
            report_addresses=unique(addresses + original_paths),
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
        if (status and status in line) or BASIC_CODE.search(line + " "):
            return line.strip()[:1000]
    return (status or "")[:1000]
