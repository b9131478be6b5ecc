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
The event value and the hard/soft rule live in ``status`` (re-exported here); the
plain-text heuristics in ``textbounce``; the MIME helpers in ``mime``.
"""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message
from email.utils import getaddresses

from pipeline.bounces.mime import (
    STATUS_TYPES,
    blocks,
    field_value,
    find,
    normal,
    original,
    original_headers,
    report_addresses,
    report_id,
    strip_angle,
    unique,
    walk,
)
from pipeline.bounces.status import BounceEvent, BounceKind, classify, status_from_text
from pipeline.bounces.textbounce import parse_text

__all__ = ["BounceEvent", "BounceKind", "classify", "parse_report", "status_from_text"]

_COMPLAINT_TYPES = frozenset({"abuse", "fraud", "other"})


def parse_report(data: bytes) -> list[BounceEvent]:
    """Every bounce or complaint event in one received message (pure; no I/O)."""
    # compat32 (the email package's default policy): header objects of policy.default
    # cost ~10 ms per report, and only the Subject needs decoding (mime.decoded).
    message = message_from_bytes(data)
    rid = report_id(message, data)
    addresses = report_addresses(message)
    if message.get_content_type() == "multipart/report":
        report_type = str(message.get_param("report-type", "")).lower()
        if report_type == "feedback-report":
            return _parse_arf(message, rid, addresses)
        if report_type == "delivery-status" or find(message, *STATUS_TYPES):
            events = _parse_dsn(message, rid, addresses)
            if events or _has_delivery_status(message):
                return events
    return parse_text(message, rid, addresses)


# --- RFC 3464 --------------------------------------------------------------------------


def _parse_dsn(message: Message, report_id: str, addresses: tuple[str, ...]) -> list[BounceEvent]:
    original_id, original_paths = original(message)
    events = []
    for part in walk(message, *STATUS_TYPES):
        found = blocks(part)
        for block in found[1:] if len(found) > 1 else found:
            action = str(block.get("Action", "")).strip().lower()
            diagnostic = field_value(block.get("Diagnostic-Code", ""))
            status = str(block.get("Status", "")).strip() or None
            if status and status.endswith(".0.0") and diagnostic:
                status = status_from_text(diagnostic) or status
            if action and action != "failed":
                continue  # delayed, delivered, relayed, expanded: no bounce
            kind = classify(status, diagnostic)
            if kind is None:
                continue
            first = normal(field_value(block.get("Original-Recipient", "")))
            recipient = normal(field_value(block.get("Final-Recipient", ""))) or first
            events.append(
                BounceEvent(
                    kind=kind,
                    recipient=recipient,
                    status=status,
                    diagnostic=diagnostic[:1000],
                    source_id=f"{report_id}:{recipient or '-'}",
                    original_message_id=original_id,
                    original_recipient=first if first != recipient else None,
                    report_addresses=unique(addresses + original_paths),
                    source="dsn",
                )
            )
    return events


def _has_delivery_status(message: Message) -> bool:
    return any(True for _ in walk(message, *STATUS_TYPES))


# --- RFC 5965 --------------------------------------------------------------------------


def _parse_arf(message: Message, report_id: str, addresses: tuple[str, ...]) -> list[BounceEvent]:
    fields: Message | None = None
    for part in walk(message, "message/feedback-report"):
        found = blocks(part)
        fields = found[0] if found else None
        break
    if fields is None:
        return []
    feedback_type = str(fields.get("Feedback-Type", "")).strip().lower()
    if feedback_type not in _COMPLAINT_TYPES:
        return []
    original_id, original_paths = original(message)
    mail_from = normal(strip_angle(str(fields.get("Original-Mail-From", ""))))
    recipients = [normal(strip_angle(str(v))) for v in fields.get_all("Original-Rcpt-To", []) or []]
    if not recipients:
        returned = original_headers(message)
        to = returned.get("To", "") if returned is not None else ""
        recipients = [normal(a) for _, a in getaddresses([str(to)]) if a] or [None]
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
            report_addresses=unique(paths),
            source="arf",
        )
        for recipient in recipients
    ]
