"""Reading the parts of a received report: returned original, addresses, header blocks.

Shared by the RFC 3464 / RFC 5965 parser (``dsn``) and the plain-text heuristics
(``textbounce``); pure functions over ``email`` messages.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")


def blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status or feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list) and part.get_content_type() == "message/global-delivery-status":
        # Python parses this RFC 6533 type as one message: its "body" holds the
        # per-recipient blocks, so take the whole text apart ourselves.
        payload = "".join(m.as_string() for m in payload if isinstance(m, Message))
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


def decoded(value: object) -> str:
    """A header value with its RFC 2047 encoded words decoded (best effort)."""
    text = str(value or "")
    try:
        return str(make_header(decode_header(text)))
    except (UnicodeError, LookupError, ValueError):
        return text


def walk(message: Message, *content_types: str) -> Iterable[Message]:
    for part in message.walk():
        if part.get_content_type() in content_types:
            yield part


def find(message: Message, *content_types: str) -> Message | None:
    return next(iter(walk(message, *content_types)), None)


def original_headers(message: Message) -> Message | None:
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


def original(message: Message) -> tuple[str | None, tuple[str, ...]]:
    """The original Message-ID and the envelope sender it carried (a VERP address)."""
    original = original_headers(message)
    if original is None:
        return None, ()
    message_id = str(original.get("Message-ID", "")).strip() or None
    paths = tuple(
        strip_angle(str(v)) for v in original.get_all("Return-Path", []) or [] if str(v).strip()
    )
    return message_id, paths


def report_addresses(message: Message) -> tuple[str, ...]:
    values: list[str] = []
    for header in ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To"):
        values.extend(str(v) for v in message.get_all(header, []) or [])
    found = [a.lower() for _, a in getaddresses(values) if a]
    return tuple(dict.fromkeys(found))


def report_id(message: Message, data: bytes) -> str:
    message_id = str(message.get("Message-ID", "")).strip()
    return message_id or "sha256:" + hashlib.sha256(data).hexdigest()[:32]


def text_of(message: Message) -> str:
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


def field_value(value: object) -> str:
    """``rfc822; anna@example.org`` → ``anna@example.org``; ``smtp; 550 …`` → ``550 …``."""
    text = " ".join(str(value).split())
    _kind, semi, rest = text.partition(";")
    return rest.strip() if semi else text


def unique(addresses: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.lower() for a in addresses if a))


def strip_angle(value: str) -> str:
    return value.strip().strip("<>").strip()


def normal(address: str | None) -> str | None:
    if not address:
        return None
    address = strip_angle(address).lower()
    return address if _ADDRESS.fullmatch(address) else None
