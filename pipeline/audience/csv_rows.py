"""Reading and checking subscriber CSV files: pure, no store.

``read_csv(path)`` streams ``(line, fields)`` pairs: UTF-8 with or without BOM, a
delimiter of comma, semicolon (what German spreadsheets write) or tab found from the
header, quoted values that span lines numbered by the line they start on. A file in
another encoding stops with an error naming the line of the first byte that is not UTF-8.

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
from dataclasses import dataclass, field
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
_BLOCK = 1 << 20  # bytes read and decoded at once
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


def read_csv(path: Path) -> Generator[tuple[int, list[str]], None, None]:
    """``(line number, fields)`` for every row of the file, the header first."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise AudienceError(f"{path}: cannot read: {exc.strerror}") from exc
    with handle:
        first = _first_line(path, handle)
        if first is None:
            raise AudienceError(f"{path}: the file is empty (expected a header line)")
        delimiter = _delimiter(first)
        # Lines are split at LF only, as the bytes are: a CR inside a value stays there
        # (and is refused with its column) instead of splitting the row.
        lines = chain((first,), chain.from_iterable(_blocks(path, handle)))
        reader = csv.reader(lines, delimiter=delimiter, strict=False)
        start = 1
        try:
            for fields in reader:
                yield start, fields
                start = reader.line_num + 1
        except csv.Error as exc:
            raise AudienceError(f"{path}: line {start}: {exc}") from exc


def _first_line(path: Path, handle: BinaryIO) -> str | None:
    raw = handle.readline()
    if not raw:
        return None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise AudienceError(
            f"{path}: line 1: the file is UTF-16; save it as UTF-8 (e.g. 'CSV UTF-8' in Excel)"
        )
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, 1, raw, exc.start) from exc


def _blocks(path: Path, handle: BinaryIO) -> Iterator[io.StringIO]:
    """The rest of the file in blocks of whole lines, each decoded at once (the lines
    are then read from it in C, not one Python step per line)."""
    before = 1  # lines before the block
    while block := handle.read(_BLOCK):
        if not block.endswith(b"\n"):
            block += handle.readline()
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as exc:
            # the first bad byte of the block is the first bad byte of its line
            start = block.rfind(b"\n", 0, exc.start) + 1
            end = block.find(b"\n", exc.start)
            raw = block[start : end + 1] if end >= 0 else block[start:]
            number = before + block.count(b"\n", 0, start) + 1
            raise _not_utf8(path, number, raw, exc.start - start) from exc
        before += block.count(b"\n")
        yield io.StringIO(text, newline="\n")


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
    """Checks rows one by one; remembers addresses to find duplicates in the file."""

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
        self.notices: list[RowNotice] = []
        self._seen: dict[str, int] = {}
        self._normalise = Normaliser().normalise
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
        first = self._seen.get(email)
        if first is not None:
            return RowError(line, f"duplicate address (already on line {first})", written)
        self._seen[email] = line
        if notices:
            self.notices.extend(notices)
        attributes = {name: values[i] for name, i in self._attributes if values[i]}
        return ImportRow(line, email, email_hash(email), self._person(values), attributes, lists)

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
