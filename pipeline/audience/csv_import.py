"""Import subscribers from a CSV file: check every row, write all good rows at once.

    read_csv ─▶ RowChecker (pure: ImportRow | RowError) ─▶ chunks of 2,000
             ─▶ duplicates dropped ─▶ written, all in one transaction

The file is streamed and written in chunks inside a single transaction, so memory stays
flat and a file that turns out to be broken half-way (another encoding) leaves nothing
behind. Nothing grows with the file: the addresses seen so far (for duplicates in the
file) are kept in a temporary table of the transaction, and the report keeps its first
lines in memory and the rest in a temporary file (``Spool``). Per chunk: addresses seen
earlier in the file are refused with that line; addresses on the suppression list are
skipped (and reported), known addresses are updated in the columns the file has, new ones
inserted; subscriptions are created, pending ones activated, and ones the person ended
stay ended (reported).

``--dry-run`` runs exactly the same and rolls back, so its report is the real one.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

from pipeline.audience.csv_rows import (
    Header,
    ImportRow,
    RowChecker,
    RowError,
    RowNotice,
    UnreadRow,
    parse_header,
    read_csv,
)
from pipeline.audience.spool import Spool
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import AudienceError
from pipeline.store import Store, Unit
from pipeline.store import audience as q

log = logging.getLogger(__name__)

CHUNK = 2000
_BOUND_LIMIT = 10_000


@dataclass(frozen=True)
class Joined:
    """A subscription this import created or activated (for the welcome mail)."""

    subscriber_id: int
    list_name: str


@dataclass
class ImportReport:
    file: str
    lists: tuple[str, ...]
    dry_run: bool
    rows: int = 0  # data rows read (blank lines not counted)
    created: int = 0  # new subscribers
    updated: int = 0  # known subscribers whose data changed
    unchanged: int = 0  # known subscribers the file had nothing new for
    subscribed: int = 0  # subscriptions created or activated
    errors: Spool[RowError] = field(default_factory=lambda: Spool(RowError))
    skipped: Spool[RowNotice] = field(default_factory=lambda: Spool(RowNotice))  # suppressed
    notices: Spool[RowNotice] = field(default_factory=lambda: Spool(RowNotice))  # neutralised
    # the subscriptions created or activated, when asked for (``keep_joined``)
    joined: Spool[Joined] | None = None
    welcomed: int = 0  # welcome mails recorded after the import (``import --welcome``)

    def close(self) -> None:
        """Drop the report lines kept on disk."""
        for spool in (self.errors, self.skipped, self.notices, self.joined):
            if spool is not None:
                spool.close()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self, *, lines: bool = True) -> dict[str, Any]:
        """The report as plain data; ``lines=False`` leaves out the per-row lists (see
        ``lines()``: they may be long)."""
        out: dict[str, Any] = {
            "file": self.file,
            "lists": list(self.lists),
            "dry_run": self.dry_run,
            "ok": self.ok,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "subscribed": self.subscribed,
        }
        if self.joined is not None:
            out["welcomed"] = self.welcomed
        if lines:
            out.update((key, list(items)) for key, items in self.lines())
        return out

    def lines(self) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
        """The per-row lists as plain data, one item at a time (read back from disk)."""
        yield (
            "errors",
            ({"line": e.line, "email": e.email, "reason": e.reason} for e in self.errors),
        )
        yield (
            "skipped",
            ({"line": s.line, "email": s.email, "reason": s.message} for s in self.skipped),
        )
        yield (
            "notices",
            ({"line": n.line, "email": n.email, "notice": n.message} for n in self.notices),
        )


class _DryRun(Exception):
    """Raised to roll the transaction back after a dry run."""


def import_file(
    settings: Settings,
    store: Store,
    path: str | Path,
    *,
    clock: Clock,
    list_name: str | None = None,
    dry_run: bool = False,
    keep_joined: bool = False,
) -> ImportReport:
    """Import ``path``; bad rows are reported with line and reason, good rows imported.

    ``keep_joined``: ``report.joined`` lists the subscriptions the import created or
    activated (kept on disk beyond a thousand, like the report lines)."""
    file = Path(path)
    if list_name is not None:
        settings.list_named(list_name)  # an unknown list stops here (ConfigError)
    rows = read_csv(file)
    # The import allocates a few objects per row and frees them a chunk later, creating
    # no cycles: the cyclic collector would only walk the growing duplicate index again
    # and again (a tenth of the time). It runs as usual once the import is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with store.boundary(f"{file}: the import could not be written"):
            report, writer = _run(
                settings, store, file, rows, clock, list_name, dry_run, keep_joined
            )
    finally:
        rows.close()  # closes the file even when the header was refused
        if collecting:
            gc.enable()
    if not list_name:
        report.lists = tuple(sorted(writer.lists_seen))
    log.info(
        "import finished",
        extra={
            "file": file.name,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "bad": len(report.errors),
            "dry_run": dry_run,
        },
    )
    return report


def _run(
    settings: Settings,
    store: Store,
    file: Path,
    rows: Iterator[tuple[int, list[str] | UnreadRow]],
    clock: Clock,
    list_name: str | None,
    dry_run: bool,
    keep_joined: bool = False,
) -> tuple[ImportReport, _Writer]:
    first = next(rows, None)
    if first is None:
        raise AudienceError(f"{file}: the file is empty (expected a header line)")
    assert not isinstance(first[1], UnreadRow)  # read_csv refuses such a header itself
    header = parse_header(file, first[1], list_given=list_name is not None)
    checker = RowChecker(
        header,
        known_lists=[m.name for m in settings.lists],
        list_name=list_name,
        default_language=settings.organisation.language,
    )
    report = ImportReport(
        file=str(file),
        lists=(list_name,) if list_name else (),
        dry_run=dry_run,
        joined=Spool(Joined) if keep_joined else None,
    )
    writer = _Writer(
        header,
        source=f"import:{file.name}",
        now=clock.now(),
        report=report,
        default_language=settings.organisation.language,
    )
    try:
        with store.begin() as conn:
            seen = _Seen(conn)
            for chunk in _checked_chunks(seen, rows, checker, report):
                if chunk:
                    writer.write(conn, chunk)
            seen.close()
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report, writer


def _checked_chunks(
    seen: _Seen,
    rows: Iterator[tuple[int, list[str] | UnreadRow]],
    checker: RowChecker,
    report: ImportReport,
) -> Iterator[list[ImportRow]]:
    """Chunks of good rows; the bad ones, duplicates and notices go into the report in
    the order of their lines."""
    chunk: list[ImportRow] = []
    errors: list[RowError] = []  # of the chunk's lines
    check, add, bad = checker.check, chunk.append, errors.append
    for line, fields in rows:
        result = check(line, fields) if isinstance(fields, list) else checker.unread(line, fields)
        if type(result) is ImportRow:
            add(result)
            if len(chunk) >= CHUNK:
                yield _first_seen(seen, chunk, errors, checker, report)
                chunk, errors = [], []
                add, bad = chunk.append, errors.append
        elif isinstance(result, RowError):
            bad(result)
            if len(errors) >= CHUNK:  # a file of bad rows only: its report is not held
                yield _first_seen(seen, chunk, errors, checker, report)
                chunk, errors = [], []
                add, bad = chunk.append, errors.append
    if chunk or errors:
        yield _first_seen(seen, chunk, errors, checker, report)


def _first_seen(
    seen: _Seen,
    chunk: list[ImportRow],
    errors: list[RowError],
    checker: RowChecker,
    report: ImportReport,
) -> list[ImportRow]:
    """The rows of ``chunk`` whose address was not seen earlier in the file; the others
    join ``errors`` (all into the report, by line)."""
    firsts = seen.take(chunk)
    report.rows += len(chunk) + len(errors)
    notices = checker.take_notices()
    if not any(firsts):
        report.errors.extend(errors)
        report.notices.extend(notices)
        return chunk
    rows: list[ImportRow] = []
    for row, first in zip(chunk, firsts, strict=True):
        if first:
            errors.append(
                RowError(row.line, f"duplicate address (already on line {first})", row.written)
            )
        else:
            rows.append(row)
    dropped = {row.line for row, first in zip(chunk, firsts, strict=True) if first}
    report.errors.extend(sorted(errors, key=attrgetter("line")))
    report.notices.extend(n for n in notices if n.line not in dropped)
    return rows


class _Seen:
    """The addresses of the rows taken so far, with their lines, without holding them.

    The latest (up to _RECENT) are kept in a dict, the older in a temporary table of the
    transaction (a 1,000,000-row file would hold every address in memory), written in
    batches sorted by key (64 bits of the address's hash): files up to _RECENT rows never
    touch the table. A bit array of fixed size (2 MB, one bit per key) says which keys may
    have been seen: a row whose bit is clear is new for certain, so only the few rows
    whose bit is set (duplicates, and false alarms: under 1 in 16 even after 1,000,000
    addresses) are looked up in the table. Looking up every row cost a sixth of the
    import. A key shared by two addresses (1 in 2^64) keeps the later one in a dict.
    """

    def __init__(self, conn: Unit) -> None:
        self._conn = conn
        self._bits = bytearray(_BITS >> 3)
        self._recent: dict[int, tuple[str, int]] = {}  # key -> address, line
        self._shared: dict[str, int] = {}  # address -> line, for keys taken by another
        self._table = False  # whether the table exists

    def take(self, chunk: Sequence[ImportRow]) -> list[int]:
        """For each row the line its address was seen on before (0: not seen); the
        others are remembered."""
        bits, mask, recent = self._bits, _BITS - 1, self._recent
        # 64 bits of each address's hash as a signed integer (SQLite's and PostgreSQL's)
        keys = [int(row.email_hash[:16], 16) - _HALF for row in chunk]
        hits = []
        for n, key in enumerate(keys):
            byte, bit = (key & mask) >> 3, 1 << (key & 7)
            if bits[byte] & bit:
                hits.append(n)
            else:  # new for certain
                bits[byte] |= bit
                recent[key] = (chunk[n].email, chunk[n].line)
        firsts = [0] * len(chunk)
        if hits:
            self._look_up(chunk, keys, hits, firsts)
        if len(recent) >= _RECENT:
            self._move()
        return firsts

    def _look_up(
        self, chunk: Sequence[ImportRow], keys: list[int], hits: list[int], firsts: list[int]
    ) -> None:
        """Settle the rows ``hits`` (whose bit was set), in order: a row is remembered
        before a later row of the chunk is looked up."""
        recent, shared = self._recent, self._shared
        older = q.seen_among(self._conn, [keys[n] for n in hits]) if self._table else {}
        for n in hits:
            row, key = chunk[n], keys[n]
            line = shared.get(row.email) if shared else None
            if line is not None:
                firsts[n] = line
                continue
            before = recent.get(key) or older.get(key)
            if before is None:  # a false alarm: the bit was set by another key
                recent[key] = (row.email, row.line)
            elif before[0] == row.email:
                firsts[n] = before[1]
            else:  # the key is another address's
                shared[row.email] = row.line

    def _move(self) -> None:
        if not self._table:
            q.start_seen(self._conn)
            self._table = True
        # in key order: the table's index is written page by page, not all over
        q.record_seen(
            self._conn, sorted((key, email, line) for key, (email, line) in self._recent.items())
        )
        self._recent = {}

    def close(self) -> None:
        if self._table:
            q.end_seen(self._conn)


_RECENT = 10_000  # addresses in memory (about 2 MB) before they move to the table
_BITS = 1 << 24  # bits of the filter (2 MB)
_HALF = 1 << 63


class _Writer:
    def __init__(
        self,
        header: Header,
        *,
        source: str,
        now: datetime,
        report: ImportReport,
        default_language: str,
    ):
        self.person_columns = header.person_columns
        self.attribute_names = frozenset(header.attribute_names)
        # A new subscriber's person values: the file's, else "" (the default language).
        defaults = tuple(default_language if c == "language" else "" for c in q.PERSON_COLUMNS)
        width = len(self.person_columns)
        self._full_person = _picker(
            tuple(
                self.person_columns.index(c) if c in self.person_columns else width + n
                for n, c in enumerate(q.PERSON_COLUMNS)
            ),
            defaults,
        )
        self.source = source
        self.now = now
        self.report = report
        self.lists_seen: set[str] = set()
        # attributes as bound for the store, by their items: lists repeat a few outlets,
        # regions and beats thousands of times, and serialising is the costly part
        self._bound: dict[tuple[tuple[str, str], ...], Any] = {}
        # (stored text, file's text) -> (unchanged?, text to store): the same pairs recur
        self._merges: dict[tuple[str, Any], tuple[bool, Any]] = {}

    def _bind(self, bind: Callable[[dict[str, str]], Any], attributes: dict[str, str]) -> Any:
        key = tuple(attributes.items())
        found = self._bound.get(key)
        if found is None:
            if len(self._bound) >= _BOUND_LIMIT:
                self._bound.clear()
            found = self._bound[key] = bind(attributes)
        return found

    def write(self, conn: Unit, chunk: Sequence[ImportRow]) -> None:
        suppressed = q.suppressed_among(conn, [r.email_hash for r in chunk])
        rows: Sequence[ImportRow] = chunk
        if suppressed:
            rows = []
            for row in chunk:
                reason = suppressed.get(row.email_hash)
                if reason:
                    self.report.skipped.append(
                        RowNotice(
                            row.line, row.email, f"suppressed ({reason}): not subscribed again"
                        )
                    )
                else:
                    rows.append(row)
        if not rows:
            return
        wanted = {name for r in rows for name in r.lists}
        self.lists_seen |= wanted
        bind = q.attributes_binder(conn)
        known = q.existing_for_import(
            conn, [r.email for r in rows], self.person_columns, sorted(wanted)
        )
        new = [r for r in rows if r.email not in known]
        ids = self._insert_new(conn, new, bind)
        self._update_known(conn, [r for r in rows if r.email in known], known, bind)
        for email, found in known.items():
            ids[email] = found[0]
        self._subscribe(conn, rows, ids, known)

    def _insert_new(
        self, conn: Unit, rows: Sequence[ImportRow], bind: Callable[[dict[str, str]], Any]
    ) -> dict[str, int]:
        full = self._full_person
        cached = self._bind
        values = [
            (r.email, r.email_hash, *full(r.person), cached(bind, r.attributes)) for r in rows
        ]
        self.report.created += len(values)
        return q.insert_subscribers(conn, values, at=self.now)

    def _update_known(
        self,
        conn: Unit,
        rows: Sequence[ImportRow],
        known: dict[str, tuple[int, tuple[Any, ...], Any, dict[str, str]]],
        bind: Callable[[dict[str, str]], Any],
    ) -> None:
        # Only the columns the file has change: a file without 'title' keeps the titles.
        # Rows that would change nothing are not written (re-imports are mostly those).
        updates = []
        names = self.attribute_names
        merges = self._merges
        for r in rows:
            subscriber_id, current, stored, _lists = known[r.email]
            attributes = self._bind(bind, r.attributes)
            # The same text (SQLite) or dict as stored: the stored attributes hold only
            # the file's own columns, so there is nothing to merge.
            same = attributes == stored
            if not same:
                key = (stored, attributes)
                merge = merges.get(key) if type(stored) is str else None
                if merge is None:
                    old = q.decode_attributes(stored)
                    merged = {k: v for k, v in old.items() if k not in names}
                    merged.update(r.attributes)
                    merge = (True, stored) if merged == old else (False, bind(merged))
                    if type(stored) is str:
                        if len(merges) >= _BOUND_LIMIT:
                            merges.clear()
                        merges[key] = merge
                same, attributes = merge
            if same and current == r.person:
                self.report.unchanged += 1
                continue
            updates.append((*r.person, attributes, subscriber_id))
        q.update_subscribers_columns(conn, updates, [*self.person_columns, "attributes"], self.now)
        self.report.updated += len(updates)

    def _subscribe(
        self,
        conn: Unit,
        rows: Sequence[ImportRow],
        ids: dict[str, int],
        known: dict[str, tuple[int, tuple[Any, ...], Any, dict[str, str]]],
    ) -> None:
        new: list[tuple[int, str]] = []
        activate: list[dict[str, Any]] = []
        none: dict[str, str] = {}
        for r in rows:
            subscriber_id = ids[r.email]
            found = known.get(r.email)
            status = found[3] if found else none
            for name in r.lists:
                current = status.get(name)
                if current is None:
                    new.append((subscriber_id, name))
                elif current == "pending":
                    activate.append(
                        {
                            "b_id": subscriber_id,
                            "b_list": name,
                            "source": self.source,
                            "updated_at": self.now,
                        }
                    )
                elif current == "unsubscribed":
                    self.report.skipped.append(
                        RowNotice(
                            r.line,
                            r.email,
                            f"unsubscribed from {name!r} earlier: not subscribed again",
                        )
                    )
        q.insert_subscriptions(conn, new, status="active", source=self.source, at=self.now)
        q.activate_imported(conn, activate)
        self.report.subscribed += len(new) + len(activate)
        joined = self.report.joined
        if joined is not None:
            joined.extend(Joined(sid, name) for sid, name in new)
            joined.extend(Joined(a["b_id"], a["b_list"]) for a in activate)


def _picker(
    indexes: tuple[int, ...], defaults: tuple[str, ...]
) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    """``values + defaults`` at ``indexes`` (one itemgetter call in C)."""
    get = itemgetter(*indexes)
    return lambda values: get(values + defaults)  # type: ignore[no-any-return]
