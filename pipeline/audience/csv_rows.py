"""Reading and checking subscriber CSV files: pure, no store.

``read_csv(path)`` streams ``(line, fields)`` pairs: UTF-8 with or without BOM, a
delimiter of comma, semicolon (what German spreadsheets write) or tab found from the
header, quoted values that span lines numbered by the line they start on. A file in
another encoding stops with an error naming the line of the first byte that is not UTF-8.
A row over ``ROW_LIMIT`` characters (or one the csv module refuses) is followed to its
end without being held and comes as an ``UnreadRow``; reading goes on after it.

``RowChecker`` turns each row into a frozen ``ImportRow`` or a ``RowError`` (line and
reason). Values that would hurt later are refused (line breaks and other control
characters: header injection) or neutralised (a leading ``= + - @`` makes a spreadsheet
run a formula when the data is exported and opened; such values get a leading ``'``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO, NamedTuple

from pipeline.audience.addresses import AddressError, Normaliser, email_hash
from pipeline.errors import AudienceError

LANGUAGES = ("de", "en")
SALUTATIONS = {"frau": "Frau", "herr": "Herr", "neutral": "neutral", "divers": "neutral"}
KNOWN = ("email", "first_name", "last_name", "salutation", "title", "language", "lists")
PERSON = ("first_name", "last_name", "salutation", "title", "language")
# Headers people write for the known columns (German spreadsheets, other tools' exports).
ALIASES = {
    "e-mail": "email",
    "e_mail": "email",
    "mail": "email",
    "email_address": "email",
    "e-mail-adresse": "email",
    "firstname": "first_name",
    "vorname": "first_name",
    "lastname": "last_name",
    "nachname": "last_name",
    "anrede": "salutation",
    "titel": "title",
    "sprache": "language",
    "list": "lists",
    "listen": "lists",
}
FORMULA_PREFIXES = ("=", "+", "-", "@")
MAX_VALUE = 500
# A row (all its lines) longer than this is refused without being read in whole: no good
# row comes near it (values are at most MAX_VALUE), and a 1 GB value never fills memory.
ROW_LIMIT = 131_072  # characters, as the csv module's own limit for one value
_LONG_LINE = 4 * ROW_LIMIT + 4  # bytes: a line this long has over ROW_LIMIT characters
_BLOCK = 1 << 20  # bytes read and decoded at once
_SCAN = 1 << 16  # bytes read at once while skipping a long row
_KEEP = 4 * (MAX_VALUE + 1)  # bytes kept of each value of a skipped row
_KEPT_VALUES = 64  # values kept of a skipped row (to name the address in the report)
_NOT_CONTINUATION = bytes(b for b in range(256) if not 0x80 <= b < 0xC0)
# the csv module's states (Modules/_csv.c) as far as a skipped row needs them
_START_FIELD, _IN_FIELD, _IN_QUOTED, _QUOTE_IN_QUOTED, _EAT_CRNL, _SKIP_LINE = range(6)
_QUOTE, _LF, _CR = ord('"'), ord("\n"), ord("\r")
# Line breaks (header injection), tabs (a formula trigger) and other control characters.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_FORMULA = frozenset(FORMULA_PREFIXES)
_LIST_SPLIT = re.compile(r"[,;|\s]+")


class ImportRow(NamedTuple):
    """A checked row (immutable; a tuple because a file has 100,000 of them)."""

    line: int
    email: str  # normalised
    email_hash: str
    person: tuple[str, ...]  # values of Header.person_columns, in that order
    attributes: dict[str, str]  # the other columns, by their header; empty cells left out
    lists: tuple[str, ...]
    written: str  # the address as written in the file (for the report)


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    email: str = ""  # as written in the file


@dataclass(frozen=True)
class RowNotice:
    line: int
    email: str
    message: str


@dataclass(frozen=True)
class Header:
    columns: tuple[str, ...]  # canonical names of the known columns, else as written
    email_index: int
    has_lists: bool
    attribute_names: tuple[str, ...] = field(default=())
    person_columns: tuple[str, ...] = field(default=())  # those of PERSON in the file


def read_csv(path: Path) -> Generator[tuple[int, list[str] | UnreadRow], None, None]:
    """``(line number, fields)`` for every row of the file, the header first; a row the
    reader refused to take in (over ``ROW_LIMIT`` characters, or not CSV) comes as an
    ``UnreadRow`` instead of its fields, and reading goes on after it."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise AudienceError(f"{path}: cannot read: {exc.strerror}") from exc
    with handle:
        first = _first_line(path, handle)
        if first is None:
            raise AudienceError(f"{path}: the file is empty (expected a header line)")
        delimiter = _delimiter(first)
        lines = _Lines(path, handle, first)
        held = lines.held
        start = 1  # the line the next row starts on
        while True:
            before = start - 1  # lines read before this reader's first
            # Lines are split at LF only, as the bytes are: a CR inside a value stays there
            # (and is refused with its column) instead of splitting the row.
            reader = csv.reader(lines.feed(), delimiter=delimiter, strict=False)
            try:
                for fields in reader:
                    held.clear()  # the next row starts here
                    yield start, fields
                    start = before + reader.line_num + 1
                return
            except (_Overlong, csv.Error) as exc:
                # The csv module drops the rest of the line it was in and would take the
                # next line as a new row, even inside a quoted value: follow the row to
                # its real end instead, without holding it.
                unread, spanned = lines.skip_row(delimiter, start)
                if isinstance(exc, csv.Error) and not unread.error:
                    unread = replace(unread, error=f"cannot be read as CSV: {exc}")
                if start == 1:
                    raise AudienceError(
                        f"{path}: line 1: the header "
                        + (unread.error or f"is longer than {ROW_LIMIT:,} characters")
                    ) from None
                yield start, unread
                start += spanned


@dataclass(frozen=True)
class UnreadRow:
    """A row the reader skipped without taking it in: what it saw of it on the way."""

    fields: tuple[str, ...]  # its first values, each cut after MAX_VALUE + 1 characters
    length: int  # characters in the row, as written
    longest: int  # index of its longest value
    longest_length: int  # characters in that value
    error: str = ""  # why, when it is not the length


class _Overlong(Exception):
    """The row being read is longer than ROW_LIMIT."""


class _Lines:
    """The file's lines for the csv module, with the current row's lines held (at most
    ROW_LIMIT characters and a line) so that a row can be skipped from its start.

    Bytes are read and decoded in blocks of whole lines (the lines are then read from it
    in C, not one Python step per line); a line too long to be part of an acceptable row
    is never read whole.
    """

    def __init__(self, path: Path, handle: BinaryIO, first: str) -> None:
        self._path = path
        self._handle = handle
        self._block = io.StringIO(first, newline="\n")
        self._back = b""  # bytes read but given back (after a skipped row)
        self._before = 1  # lines in the blocks decoded so far (the first line is one)
        self._overlong = False  # the next line is over the limit: it was not decoded
        self.held: list[str] = []

    def feed(self) -> Iterator[str]:
        """The lines from here on; raises ``_Overlong`` (and is then done: make another
        after ``skip_row``) when the row being read gets longer than ROW_LIMIT."""
        held = self.held
        size = 0
        while True:
            for line in self._block:
                size = size + len(line) if held else len(line)
                held.append(line)
                if size > ROW_LIMIT:
                    raise _Overlong
                yield line
            if not self._next_block():
                if self._overlong:
                    raise _Overlong
                return

    def _next_block(self) -> bool:
        if self._overlong:
            return False
        handle = self._handle
        block = self._back + handle.read(_BLOCK)
        self._back = b""
        if not block.endswith(b"\n"):
            tail = handle.readline(_LONG_LINE)
            block += tail
            if len(tail) == _LONG_LINE and not tail.endswith(b"\n"):
                # a line of more than ROW_LIMIT characters (4 bytes each at most) starts
                # after the last whole line: decode up to there, leave it to skip_row
                cut = block.rfind(b"\n") + 1
                self._back, block = block[cut:], block[:cut]
                self._overlong = True
        if not block:
            self._block = io.StringIO("", newline="\n")
            return False
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as exc:
            # the first bad byte of the block is the first bad byte of its line
            start = block.rfind(b"\n", 0, exc.start) + 1
            end = block.find(b"\n", exc.start)
            raw = block[start : end + 1] if end >= 0 else block[start:]
            number = self._before + block.count(b"\n", 0, start) + 1
            raise _not_utf8(self._path, number, raw, exc.start - start) from exc
        self._before += block.count(b"\n")
        self._block = io.StringIO(text, newline="\n")
        return True

    def skip_row(self, delimiter: str, first_line: int) -> tuple[UnreadRow, int]:
        """Follow the row starting on ``first_line`` to its end as the csv module reads
        it, holding none of it but its first values; what follows is read again. Returns
        the row and the number of lines it spans."""
        scan = _RowScan(delimiter)
        # what was read of the row, the rest of the decoded block, what was left unread
        read = ["".join(self.held).encode(), self._block.read().encode(), self._back]
        self.held.clear()
        self._back = b""
        self._overlong = False
        self._block = io.StringIO("", newline="\n")
        lines = 0
        pieces = chain(read, iter(lambda: self._handle.read(_SCAN), b""))
        for number, piece in enumerate(pieces):
            end = scan.feed(piece)
            if end >= 0:
                lines += piece.count(b"\n", 0, end)
                self._back = b"".join((piece[end:], *read[number + 1 :]))
                break
            lines += piece.count(b"\n")
        self._before = first_line - 1 + lines
        return scan.row(), lines


class _RowScan:
    """Follows one row through its bytes as the csv module reads it (``strict=False``,
    quotes doubled inside quoted values), counting characters and keeping only the first
    values, each cut short. Delimiter, quote and line breaks are ASCII: in UTF-8 no byte
    of another character equals them, so the bytes need no decoding."""

    def __init__(self, delimiter: str) -> None:
        self._delimiter = ord(delimiter)
        self._stop = re.compile(b"[" + re.escape(delimiter.encode()) + b"\r\n]")
        self._state = _START_FIELD
        self._value = bytearray()  # the current value's first bytes
        self._chars = 0  # characters in the current value
        self.values: list[str] = []
        self.count = 0  # values ended
        self.length = 0  # characters of the row, as written
        self.longest = 0
        self.longest_length = 0
        self.error = ""

    def row(self) -> UnreadRow:
        if self._state != _SKIP_LINE and (self._chars or self._value):
            self._end_value()  # the file ended inside the row
        return UnreadRow(
            tuple(self.values), self.length, self.longest, self.longest_length, self.error
        )

    def _take(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            run = data[start:end]
            if len(self._value) < _KEEP:
                self._value += run[: _KEEP - len(self._value)]
            self._chars += _characters(run)

    def _end_value(self) -> None:
        if self._chars > self.longest_length:
            self.longest, self.longest_length = self.count, self._chars
        if self.count < _KEPT_VALUES:
            text = self._value.decode("utf-8", errors="replace")
            self.values.append(text[: MAX_VALUE + 1])
        self.count += 1
        self._value = bytearray()
        self._chars = 0

    def feed(self, data: bytes) -> int:
        """Read on in ``data``: the offset just after the row's last line break, or -1
        when the row goes on."""
        end = self._feed(data)
        self.length += _characters(data if end < 0 else data[:end])
        return end

    def _feed(self, data: bytes) -> int:
        i, n = 0, len(data)
        while i < n:
            state = self._state
            if state == _IN_QUOTED:
                j = data.find(b'"', i)
                if j < 0:
                    self._take(data, i, n)
                    return -1
                self._take(data, i, j)
                self._state, i = _QUOTE_IN_QUOTED, j + 1
                continue
            if state == _IN_FIELD:
                found = self._stop.search(data, i)
                if found is None:
                    self._take(data, i, n)
                    return -1
                j = found.start()
                self._take(data, i, j)
                i, c = j, data[j]
            elif state == _SKIP_LINE:  # the csv module refused the row; it ends here
                j = data.find(b"\n", i)
                return -1 if j < 0 else j + 1
            else:
                c = data[i]
                if state == _EAT_CRNL:
                    if c == _LF:
                        return i + 1
                    if c != _CR:
                        self.error = "line break inside an unquoted value"
                        self._state = _SKIP_LINE
                        continue
                    i += 1
                    continue
                if state == _START_FIELD and c == _QUOTE:
                    self._state, i = _IN_QUOTED, i + 1
                    continue
                if state == _QUOTE_IN_QUOTED and c == _QUOTE:  # a doubled quote
                    self._take(data, i, i + 1)
                    self._state, i = _IN_QUOTED, i + 1
                    continue
            # after a value, at a delimiter or line break, or a value's first character
            if c == self._delimiter:
                self._end_value()
                self._state = _START_FIELD
            elif c == _LF:
                self._end_value()
                return i + 1
            elif c == _CR:
                self._end_value()
                self._state = _EAT_CRNL
            else:
                self._state = _IN_FIELD  # read from here (a quote here is a character)
                continue
            i += 1
        return -1


def _characters(utf8: bytes) -> int:
    """Characters in UTF-8 bytes: those that do not continue a character."""
    return len(utf8) - len(utf8.translate(None, _NOT_CONTINUATION))


def _first_line(path: Path, handle: BinaryIO) -> str | None:
    raw = handle.readline(_LONG_LINE)
    if not raw:
        return None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise AudienceError(
            f"{path}: line 1: the file is UTF-16; save it as UTF-8 (e.g. 'CSV UTF-8' in Excel)"
        )
    if len(raw) == _LONG_LINE and not raw.endswith(b"\n"):
        raise AudienceError(f"{path}: line 1: the header is longer than {ROW_LIMIT:,} characters")
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, 1, raw, exc.start) from exc


def _not_utf8(path: Path, number: int, raw: bytes, position: int) -> AudienceError:
    guess = raw.decode("cp1252", errors="replace").strip()[:60]
    return AudienceError(
        f"{path}: line {number}: not UTF-8 (byte 0x{raw[position]:02X} at "
        f"position {position + 1}, the line reads {guess!r} in Windows-1252); "
        "save the file as UTF-8 (e.g. 'CSV UTF-8' in Excel)"
    )


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_header(path: Path, fields: Sequence[str], *, list_given: bool) -> Header:
    names: list[str] = []
    for number, raw in enumerate(fields, start=1):
        name = raw.strip()
        if not name:
            raise AudienceError(f"{path}: line 1: column {number} has no name")
        key = name.lower().replace(" ", "_")
        key = ALIASES.get(key, key)
        canonical = key if key in KNOWN else name
        if canonical in names:
            raise AudienceError(f"{path}: line 1: column {name!r} appears twice")
        names.append(canonical)
    if "email" not in names:
        raise AudienceError(
            f"{path}: line 1: missing column 'email' (columns found: {', '.join(names)})"
        )
    has_lists = "lists" in names
    if not has_lists and not list_given:
        raise AudienceError(
            f"{path}: line 1: missing column 'lists'; add it or name the list with --list"
        )
    attributes = tuple(n for n in names if n not in KNOWN)
    person = tuple(n for n in names if n in PERSON)
    return Header(tuple(names), names.index("email"), has_lists, attributes, person)


def _unsafe_value(columns: Sequence[str], fields: Sequence[str]) -> str | None:
    """Why a row cannot be taken: a line break, control character or overlong value."""
    for name, raw in zip(columns, fields, strict=True):
        value = raw.strip()
        if _UNSAFE.search(value):
            if "\r" in value or "\n" in value:
                return f"line break in column {name!r}"
            return f"control character in column {name!r}"
        if len(value) > MAX_VALUE:
            return f"column {name!r} is longer than {MAX_VALUE} characters"
    return None


class RowChecker:
    """Checks rows one by one, each on its own (duplicates in the file are found by the
    import, which remembers the addresses outside memory)."""

    def __init__(
        self,
        header: Header,
        *,
        known_lists: Sequence[str],
        list_name: str | None,
        default_language: str,
    ) -> None:
        self.header = header
        self.known_lists = tuple(known_lists)
        self.list_name = list_name
        self.default_language = default_language
        self._notices: list[RowNotice] = []
        self._normalise = Normaliser().accept
        columns = header.columns
        self._width = len(columns)
        self._email = header.email_index
        self._lists_at = columns.index("lists") if header.has_lists else -1
        self._fixed_lists = (list_name,) if list_name else None
        self._language_at = columns.index("language") if "language" in columns else -1
        self._salutation_at = columns.index("salutation") if "salutation" in columns else -1
        self._attributes = tuple((name, columns.index(name)) for name in header.attribute_names)
        self._person = _picker(tuple(columns.index(name) for name in header.person_columns))
        # columns whose values are neutralised: all but the address and the lists
        self._neutralised = tuple(
            (name, i) for i, name in enumerate(columns) if name not in ("email", "lists")
        )

    def check(self, line: int, fields: list[str]) -> ImportRow | RowError | None:
        """The checked row, the reason it is bad, or None for a blank line."""
        if len(fields) != self._width:
            return self._bad_width(line, fields)
        # One scan of the whole row finds the rare bad row; only then look value by value.
        # (Control characters are not printable; isprintable also refuses some harmless
        # characters, such as a no-break space, which then get the exact check.)
        joined = "".join(fields)
        if len(joined) > MAX_VALUE or not joined.isprintable():
            problem = _unsafe_value(self.header.columns, fields)
            if problem:
                return RowError(line, problem, fields[self._email].strip())
        values = [f.strip() for f in fields]
        written = values[self._email]
        notices = None
        # The values joined with NUL, which no value has (it is a control character):
        # a formula character after a NUL starts a value.
        starts = "\x00" + "\x00".join(values)
        if "\x00=" in starts or "\x00+" in starts or "\x00-" in starts or "\x00@" in starts:
            notices = self._neutralise(line, written, values)
        if not written:
            return RowError(line, "no address in column 'email'")
        if written[0] in _FORMULA:
            return RowError(line, f"the address starts with {written[0]!r}", written)
        try:
            email = self._normalise(written)
        except AddressError as exc:
            return RowError(line, f"invalid address: {exc}", written)
        if self._language_at >= 0:
            raw = values[self._language_at]
            language = raw.lower() or self.default_language
            if language not in LANGUAGES:
                return RowError(
                    line,
                    f"unknown language {raw!r} (expected {' or '.join(LANGUAGES)})",
                    written,
                )
            values[self._language_at] = language
        if self._salutation_at >= 0:
            raw = values[self._salutation_at]
            if raw:
                salutation = SALUTATIONS.get(raw.lower())
                if salutation is None:
                    return RowError(
                        line,
                        f"unknown salutation {raw!r} (expected Frau, Herr or neutral)",
                        written,
                    )
                values[self._salutation_at] = salutation
        lists = self._fixed_lists or self._lists(values[self._lists_at])
        if isinstance(lists, str):
            return RowError(line, lists, written)
        if notices:
            self._notices.extend(notices)
        attributes = {name: values[i] for name, i in self._attributes if values[i]}
        return ImportRow(
            line, email, email_hash(email), self._person(values), attributes, lists, written
        )

    def take_notices(self) -> list[RowNotice]:
        """The notices of the rows taken since the last call (values neutralised)."""
        notices, self._notices = self._notices, []
        return notices

    def unread(self, line: int, row: UnreadRow) -> RowError:
        """Why a row the reader skipped is refused."""
        written = row.fields[self._email] if len(row.fields) > self._email else ""
        written = written.strip() if len(written) <= MAX_VALUE else ""
        if row.error:
            return RowError(line, row.error, written)
        if row.longest_length > MAX_VALUE:
            columns = self.header.columns
            name = (
                repr(columns[row.longest])
                if row.longest < len(columns)
                else f"{row.longest + 1} (the header has {len(columns)})"
            )
            return RowError(
                line,
                f"column {name} is longer than {MAX_VALUE} characters "
                f"({row.longest_length:,} characters; the row was not read)",
                written,
            )
        return RowError(
            line,
            f"the row is longer than {ROW_LIMIT:,} characters ({row.length:,}; not read)",
            written,
        )

    def _bad_width(self, line: int, fields: Sequence[str]) -> RowError | None:
        if not any(f.strip() for f in fields):
            return None
        width, email = self._width, self._email
        written = fields[email] if len(fields) > email else ""
        return RowError(
            line,
            f"has {len(fields)} fields, the header has {width} "
            f"({'missing' if len(fields) < width else 'extra'} columns)",
            written.strip(),
        )

    def _neutralise(self, line: int, written: str, values: list[str]) -> list[RowNotice]:
        """Prefix values a spreadsheet would run as a formula with ``'`` (in place)."""
        notices = []
        for name, i in self._neutralised:
            value = values[i]
            if value and value[0] in _FORMULA:
                notices.append(
                    RowNotice(
                        line,
                        written,
                        f"column {name!r} starts with {value[0]!r}: stored as '{value}",
                    )
                )
                values[i] = "'" + value
        return notices

    def _lists(self, raw: str) -> tuple[str, ...] | str:
        names = tuple(dict.fromkeys(n for n in _LIST_SPLIT.split(raw.lower()) if n))
        if not names:
            return "no list in column 'lists'"
        for name in names:
            if name not in self.known_lists:
                known = ", ".join(self.known_lists) or "none"
                return f"unknown list {name!r} (configured lists: {known})"
        return names


def _picker(indexes: tuple[int, ...]) -> Callable[[list[str]], tuple[str, ...]]:
    """A function taking these positions of a list, as a tuple (itemgetter in C)."""
    if len(indexes) >= 2:
        return itemgetter(*indexes)
    if indexes:
        (only,) = indexes
        return lambda values: (values[only],)
    return lambda _values: ()
