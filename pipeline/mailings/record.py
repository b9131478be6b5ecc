"""The distribution record ("Versandprotokoll") of a mailing: who got it and what came back.

    store.record.record_page ─▶ entry (pure: RecordRow → RecordEntry) ─▶ as_json · write_csv

One line per delivery, whatever its status: the person (name, outlet and beat from the
imported attributes), when it was delivered, our Message-ID and the provider's id, the
worst bounce (hard outweighs soft) and the first complaint. An erased person keeps the
line (counts and dates stay true) without anything that names them. ``entries`` streams
the record in keyset pages, so a mailing of 100,000 recipients never sits in memory.

CSV cells are made safe for spreadsheets (``csv_cell``): text that starts like a formula
gets a leading apostrophe (OWASP "CSV injection"), since outlet, beat and names come
from imported files and web forms.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from itertools import chain
from typing import Any, TextIO

from pipeline.bounces import BounceKind
from pipeline.models import DeliveryStatus
from pipeline.store import Store
from pipeline.store import followups as store_followups
from pipeline.store import record as store_record

PAGE = 1000
ERASED = "[erased]"  # the address of an erased person in the CSV and the CLI table


@dataclass(frozen=True)
class RecordEntry:
    """One recipient of a mailing. Times are UTC (shown in the organisation's zone)."""

    delivery_id: int
    email: str | None  # None: the person was erased
    name: str | None
    outlet: str | None
    beat: str | None
    list_name: str
    language: str
    status: str  # the delivery's: sent | queued | sending | retry | failed | suppressed
    delivered_at: datetime | None
    message_id: str | None
    provider_message_id: str | None
    bounce: str | None  # hard | soft | None: the worst reported
    bounce_status: str | None  # its enhanced status code (5.1.1)
    bounced_at: datetime | None
    complained_at: datetime | None
    error: str | None  # why the last attempt failed (failed, retry)
    # The follow-ups (correction, update, lift, withdrawal) delivered to this person in
    # reply to this copy: their mailing ids, oldest first.
    follow_ups: tuple[int, ...] = ()

    @property
    def erased(self) -> bool:
        return self.email is None


def entries(
    store: Store, mailing_id: int, *, after: int | None = None, limit: int | None = None
) -> Iterator[RecordEntry]:
    """The record of ``mailing_id`` after delivery ``after``: ``limit`` lines, or all."""
    left = limit
    while left is None or left > 0:
        size = PAGE if left is None else min(PAGE, left)
        rows = store_record.record_page(store, mailing_id, after=after, limit=size)
        # one query a page: the follow-ups delivered in reply to these copies
        replies = store_followups.follow_ups_delivered(
            store, [r.message_id for r in rows if r.message_id]
        )
        for row in rows:
            yield entry(row, follow_ups=replies.get(row.message_id or "", ()))
        if len(rows) < size:
            return
        after = rows[-1].delivery_id
        if left is not None:
            left -= len(rows)


def entry(row: store_record.RecordRow, *, follow_ups: Iterable[int] = ()) -> RecordEntry:
    """The line of one delivery (pure); ``follow_ups``: the follow-up mailings delivered
    to this person in reply to this copy."""
    erased = row.email is None
    bounces = [e for e in row.events if e.kind in (BounceKind.HARD, BounceKind.SOFT)]
    worst = next((e for e in bounces if e.kind == BounceKind.HARD), bounces[0] if bounces else None)
    complaint = next((e for e in row.events if e.kind == BounceKind.COMPLAINT), None)
    name = " ".join(p for p in (row.first_name.strip(), row.last_name.strip()) if p)
    return RecordEntry(
        delivery_id=row.delivery_id,
        email=row.email,
        name=None if erased else name or None,
        outlet=None if erased else _attribute(row.attributes, "outlet"),
        beat=None if erased else _attribute(row.attributes, "beat"),
        list_name=row.list_name,
        language=row.language,
        status=row.status,
        delivered_at=row.sent_at if row.status == DeliveryStatus.SENT else None,
        message_id=row.message_id,
        provider_message_id=row.provider_message_id,
        bounce=worst.kind if worst else None,
        bounce_status=worst.status_code if worst else None,
        bounced_at=worst.received_at if worst else None,
        complained_at=complaint.received_at if complaint else None,
        error=None if erased else row.last_error,
        follow_ups=tuple(follow_ups),
    )


def _attribute(attributes: dict[str, Any], name: str) -> str | None:
    value = attributes.get(name)
    if value is None:
        return None
    return str(value).strip() or None


# --- as JSON and CSV -------------------------------------------------------------------


def local_iso(when: datetime | None, tz: tzinfo) -> str | None:
    """An instant in the organisation's zone, ISO 8601 with its offset."""
    return when.astimezone(tz).isoformat() if when is not None else None


def as_json(e: RecordEntry, tz: tzinfo) -> dict[str, Any]:
    """One line for ``mailing log --json`` and the API (times in the zone ``tz``)."""
    return {
        "delivery_id": e.delivery_id,
        "email": e.email,
        "erased": e.erased,
        "name": e.name,
        "outlet": e.outlet,
        "beat": e.beat,
        "list": e.list_name,
        "language": e.language,
        "status": e.status,
        "delivered_at": local_iso(e.delivered_at, tz),
        "message_id": e.message_id,
        "provider_message_id": e.provider_message_id,
        "bounce": (
            {"kind": e.bounce, "status": e.bounce_status, "at": local_iso(e.bounced_at, tz)}
            if e.bounce
            else None
        ),
        "complained_at": local_iso(e.complained_at, tz),
        "error": e.error,
        "follow_ups": list(e.follow_ups),
    }


CSV_COLUMNS = (
    "delivery_id",
    "email",
    "erased",
    "name",
    "outlet",
    "beat",
    "list",
    "language",
    "status",
    "delivered_at",
    "message_id",
    "provider_message_id",
    "bounce",
    "bounce_status",
    "bounced_at",
    "complained_at",
    "error",
    "follow_ups",
)

# What spreadsheets read as the start of a formula (OWASP: also tab and carriage return).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """``text`` as a cell no spreadsheet evaluates: a leading apostrophe before a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_row(e: RecordEntry, tz: tzinfo) -> list[str]:
    values: list[str | int | None] = [
        e.delivery_id,
        ERASED if e.erased else e.email,
        "yes" if e.erased else "",
        e.name,
        e.outlet,
        e.beat,
        e.list_name,
        e.language,
        e.status,
        local_iso(e.delivered_at, tz),
        e.message_id,
        e.provider_message_id,
        e.bounce,
        e.bounce_status,
        local_iso(e.bounced_at, tz),
        local_iso(e.complained_at, tz),
        e.error,
        " ".join(str(i) for i in e.follow_ups),
    ]
    return [str(v) if isinstance(v, int) else csv_cell(v or "") for v in values]


def csv_lines(lines: Iterable[RecordEntry], tz: tzinfo) -> Iterator[str]:
    """The record as CSV text, a line at a time (the header line first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in chain([list(CSV_COLUMNS)], (csv_row(e, tz) for e in lines)):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def write_csv(lines: Iterable[RecordEntry], out: TextIO, tz: tzinfo) -> int:
    """The record as CSV (header line first) into ``out``; returns the lines written."""
    count = -1
    for text in csv_lines(lines, tz):
        out.write(text)
        count += 1
    return count
