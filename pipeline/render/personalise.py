"""Per-recipient placeholder substitution: the only work a send does per address.

A rendered part is split once at its placeholders into a tuple of literal pieces and
placeholder slots (cached by the text, whose hash Python keeps on the string); each
recipient then costs one ``str.join`` over a few pieces plus escaping six short values:
a few microseconds, whatever the size of the mail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from html import escape

from pipeline.render import (
    EMAIL,
    FIRST_NAME,
    LAST_NAME,
    PREFS_URL,
    SALUTATION,
    UNSUB_URL,
    Personalisation,
    PersonalMail,
    RenderedMailing,
)

PLACEHOLDERS = (SALUTATION, FIRST_NAME, LAST_NAME, EMAIL, UNSUB_URL, PREFS_URL)
# The tails of the press kit links (``render.kit``): one per file, so not in the table;
# ⟦KIT_n⟧ is slot len(PLACEHOLDERS) + n. They are split out with the others, once per
# rendered text: a search of the whole filled mail per recipient made personalisation
# five times slower.
_KIT = re.compile(r"⟦KIT_(\d+)⟧")
_PATTERN = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS) + "|" + _KIT.pattern)

# (literal, slot, literal, slot, ..., literal); slots index PLACEHOLDERS, then the kit
Compiled = tuple[tuple[str, ...], tuple[int, ...]]


@lru_cache(maxsize=64)
def compile_template(text: str) -> Compiled:
    """Split ``text`` at its placeholders once; reused for every recipient."""
    literals: list[str] = []
    slots: list[int] = []
    pos = 0
    for match in _PATTERN.finditer(text):
        literals.append(text[pos : match.start()])
        kit = match.group(1)
        slots.append(len(PLACEHOLDERS) + int(kit) if kit else PLACEHOLDERS.index(match.group()))
        pos = match.end()
    literals.append(text[pos:])
    return tuple(literals), tuple(slots)


def fill(compiled: Compiled, values: tuple[str, ...]) -> str:
    """Interleave the literal pieces with ``values`` (already escaped as the part needs)."""
    literals, slots = compiled
    if not slots:
        return literals[0]
    parts = [literals[0]]
    for index, slot in enumerate(slots, start=1):
        parts.append(values[slot])
        parts.append(literals[index])
    return "".join(parts)


def _values(values: Personalisation) -> tuple[str, ...]:
    return (
        values.salutation,
        values.first_name,
        values.last_name,
        values.email,
        values.unsubscribe_url,
        values.preferences_url,
    )


def _oneline(value: str) -> str:
    # A subject is a header: a newline in a name must never start a new header line.
    return " ".join(value.split())


def _fill_with(text: str, plain: tuple[str, ...], convert: Callable[[str], str] | None) -> str:
    compiled = compile_template(text)
    slots = compiled[1]
    if not slots:
        return text
    missing = max(slots) + 1 - len(plain)
    if missing > 0:  # kit placeholders beyond the recipient's tails are filled with nothing
        plain = plain + ("",) * missing
    if convert is None:
        return fill(compiled, plain)
    # Convert only the values this part uses (usually three of six).
    used = set(slots)
    return fill(compiled, tuple(convert(v) if i in used else v for i, v in enumerate(plain)))


def _escape(value: str) -> str:
    return escape(value, quote=True)


def personalise(rendered: RenderedMailing, values: Personalisation) -> PersonalMail:
    """One recipient's subject, HTML and text: plain substitution, HTML-escaped in HTML."""
    plain = _values(values) + values.kit_links
    return PersonalMail(
        subject=_fill_with(rendered.subject, plain, _oneline),
        html=_fill_with(rendered.html, plain, _escape),
        text=_fill_with(rendered.text, plain, None),
    )


def personalised_size(html: str, values: Personalisation) -> int:
    """The UTF-8 size of ``html`` once ``values`` are filled in, without filling it."""
    size = len(html.encode("utf-8"))
    for placeholder, value in zip(PLACEHOLDERS, _values(values), strict=True):
        count = html.count(placeholder)
        if count:
            grown = len(_escape(value).encode("utf-8")) - len(placeholder.encode("utf-8"))
            size += count * grown
    # Each press kit link gets its tail (``?t=`` and a token of about 35 characters).
    kit_links = len(_KIT.findall(html))
    if kit_links:
        tail = max((len(t) for t in values.kit_links), default=KIT_TAIL_BYTES)
        size += kit_links * (tail - len("⟦KIT_0⟧".encode()))
    return size


KIT_TAIL_BYTES = 48  # "?t=" + a subscriber id and a 24-character signature, generously


SAMPLE_VALUES = Personalisation(
    salutation="Sehr geehrte Frau Dr. Maximiliane Mustermann-Schulze",
    first_name="Maximiliane",
    last_name="Mustermann-Schulze",
    email="maximiliane.mustermann-schulze@beispiel-kommune.example",
    unsubscribe_url="https://rundbrief.example/u/" + "x" * 120,
    preferences_url="https://rundbrief.example/p/" + "x" * 120,
)
"""Long but realistic values: the size check measures a mail filled with these."""
