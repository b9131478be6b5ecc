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
import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

from pipeline.audience.addresses import AddressError, Normaliser, email_hash
from pipeline.errors import AudienceError

LANGUAGES = ("de", "en")
SALUTATIONS = {"frau": "Frau", "herr": "Herr", "neutral": "neutral", "divers": "neutral"}
KNOWN = ("email", "first_name", "last_name", "salutation", "title", "language", "lists")
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
# Line breaks (header injection), tabs (a formula trigger) and other control characters.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_FORMULA = frozenset(FORMULA_PREFIXES)
_LIST_SPLIT = re.compile(r"[,;|\s]+")


class ImportRow(NamedTuple):
    """A checked row (immutable; a tuple because a file has 100,000 of them)."""

    line: int
    email: str  # normalised
    email_hash: str
    values: dict[str, str]  # the known columns present in the file (except email, lists)
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


def read_csv(path: Path) -> Generator[tuple[int, list[str]], None, None]:
    """``(line number, fields)`` for every row of the file, the header first."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise AudienceError(f"{path}: cannot read: {exc.strerror}") from exc
    with handle:
        lines = _decoded_lines(path, handle)
        first = next(lines, None)
        if first is None:
            raise AudienceError(f"{path}: the file is empty (expected a header line)")
        delimiter = _delimiter(first)

        def all_lines() -> Iterator[str]:
            yield first
            yield from lines

        reader = csv.reader(all_lines(), delimiter=delimiter, strict=False)
        start = 1
        try:
            for fields in reader:
                yield start, fields
                start = reader.line_num + 1
        except csv.Error as exc:
            raise AudienceError(f"{path}: line {start}: {exc}") from exc


def _decoded_lines(path: Path, handle: BinaryIO) -> Iterator[str]:
    for number, raw in enumerate(handle, start=1):
        if number == 1:
            if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise AudienceError(
                    f"{path}: line 1: the file is UTF-16; save it as UTF-8 "
                    "(e.g. 'CSV UTF-8' in Excel)"
                )
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            guess = raw.decode("cp1252", errors="replace").strip()[:60]
            raise AudienceError(
                f"{path}: line {number}: not UTF-8 (byte 0x{raw[exc.start]:02X} at "
                f"position {exc.start + 1}, the line reads {guess!r} in Windows-1252); "
                "save the file as UTF-8 (e.g. 'CSV UTF-8' in Excel)"
            ) from exc


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
    return Header(tuple(names), names.index("email"), has_lists, attributes)


_EMAIL, _LISTS, _KNOWN, _ATTR = range(4)


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
        self._normaliser = Normaliser()
        self._kinds = tuple(
            _EMAIL if c == "email" else _LISTS if c == "lists" else _KNOWN if c in KNOWN else _ATTR
            for c in header.columns
        )

    def check(self, line: int, fields: Sequence[str]) -> ImportRow | RowError | None:
        """The checked row, the reason it is bad, or None for a blank line."""
        columns = self.header.columns
        if len(fields) != len(columns):
            if not any(f.strip() for f in fields):
                return None
            written = (
                fields[self.header.email_index] if len(fields) > self.header.email_index else ""
            )
            return RowError(
                line,
                f"has {len(fields)} fields, the header has {len(columns)} "
                f"({'missing' if len(fields) < len(columns) else 'extra'} columns)",
                written.strip(),
            )
        written = fields[self.header.email_index].strip()
        # One scan of the whole row finds the rare bad row; only then look value by value.
        joined = "".join(fields)
        if _UNSAFE.search(joined) or len(joined) > MAX_VALUE:
            problem = _unsafe_value(columns, fields)
            if problem:
                return RowError(line, problem, written)
        values: dict[str, str] = {}
        attributes: dict[str, str] = {}
        raw_lists = ""
        notices: list[RowNotice] = []
        for kind, name, raw in zip(self._kinds, columns, fields, strict=True):
            if kind == _EMAIL:
                continue
            value = raw.strip()
            if kind == _LISTS:
                raw_lists = value
                continue
            if value and value[0] in _FORMULA:
                notices.append(
                    RowNotice(
                        line,
                        written,
                        f"column {name!r} starts with {value[0]!r}: stored as '{value}",
                    )
                )
                value = "'" + value
            if kind == _KNOWN:
                values[name] = value
            elif value:
                attributes[name] = value
        if not written:
            return RowError(line, "no address in column 'email'")
        if written.startswith(FORMULA_PREFIXES):
            return RowError(line, f"the address starts with {written[0]!r}", written)
        try:
            email = self._normaliser.normalise(written)
        except AddressError as exc:
            return RowError(line, f"invalid address: {exc}", written)
        problem = self._check_values(values)
        if problem:
            return RowError(line, problem, written)
        lists = self._lists(raw_lists)
        if isinstance(lists, str):
            return RowError(line, lists, written)
        first = self._seen.get(email)
        if first is not None:
            return RowError(line, f"duplicate address (already on line {first})", written)
        self._seen[email] = line
        self.notices.extend(notices)
        return ImportRow(line, email, email_hash(email), values, attributes, lists)

    def _check_values(self, values: dict[str, str]) -> str | None:
        if "language" in values:
            language = values["language"].lower() or self.default_language
            if language not in LANGUAGES:
                return (
                    f"unknown language {values['language']!r} (expected {' or '.join(LANGUAGES)})"
                )
            values["language"] = language
        if "salutation" in values:
            raw = values["salutation"]
            salutation = SALUTATIONS.get(raw.lower()) if raw else ""
            if salutation is None:
                return f"unknown salutation {raw!r} (expected Frau, Herr or neutral)"
            values["salutation"] = salutation
        return None

    def _lists(self, raw: str) -> tuple[str, ...] | str:
        if self.list_name:
            return (self.list_name,)
        names = tuple(dict.fromkeys(n for n in _LIST_SPLIT.split(raw.lower()) if n))
        if not names:
            return "no list in column 'lists'"
        for name in names:
            if name not in self.known_lists:
                known = ", ".join(self.known_lists) or "none"
                return f"unknown list {name!r} (configured lists: {known})"
        return names
