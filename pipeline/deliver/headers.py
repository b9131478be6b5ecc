"""Header encoding without ``email.message``: RFC 2047 words, folding, address checks.

Every value that reaches a header passes ``clean`` first, which turns CR, LF and every
other control character into a space: nothing a subscriber, an editor or a feed supplies
can end a header line and start another one. Lines are folded below 78 characters with
CRLF + space, so the header block stays valid whatever the length of a name or subject.
"""

from __future__ import annotations

import base64
import re

from pipeline.audience import AddressError, wire_address
from pipeline.errors import PermanentDeliveryError

CRLF = "\r\n"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
# RFC 5322 atext plus space: a display name made of these needs no quoting.
_ATOM_PHRASE = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ .]*$")
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")
# At most 42 bytes per encoded word ("=?utf-8?b?" + 56 base64 characters + "?=" = 68),
# so that "Subject: " and the first word fit on a line of 78 (RFC 2047 allows 75).
_WORD_BYTES = 42
# An atom of a display name (RFC 5322 atext, plus "." for "e. V.").
_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+$")
_PRINTABLE_WORD = re.compile(r"^[\x21-\x7e]+$")


def clean(value: str) -> str:
    """Collapse control characters (CR, LF, TAB, NUL...) into single spaces and trim."""
    return _CONTROL.sub(" ", value).strip()


def check_address(address: str) -> str:
    """The address as it may appear in a header and an envelope, or PermanentDeliveryError.

    The audience's address policy decides (``pipeline.audience.wire_address``): the
    domain goes out in its IDNA form; a local part outside ASCII would need SMTPUTF8 and
    is refused, the same rule the import and the sign-up apply.
    """
    try:
        return wire_address(address)
    except AddressError as exc:
        raise PermanentDeliveryError(str(exc)) from exc


def encoded_words(text: str) -> list[str]:
    """RFC 2047 ``B`` words of at most 68 characters, never splitting a UTF-8 sequence.

    Runs of whole words are packed together and a word is cut only where it is longer
    than one encoded word: two encoded words side by side are joined without a space by
    RFC 2047 decoders but with one by others (Python's parser among them), so every seam
    lies after a space of the text, where both readings agree on a word boundary.
    """
    raw = text.encode("utf-8")
    if len(raw) <= _WORD_BYTES:
        return [_word(raw)]
    words: list[str] = []
    chunk = b""
    for piece in re.split(rb"(?<= )", raw):  # each word keeps the space after it
        if chunk and len(chunk) + len(piece) > _WORD_BYTES:
            words.append(_word(chunk))
            chunk = b""
        while len(piece) > _WORD_BYTES:  # a word longer than an encoded word
            end = _WORD_BYTES
            # Step back over continuation bytes (10xxxxxx) so a character stays whole.
            while end > 0 and piece[end] & 0xC0 == 0x80:
                end -= 1
            words.append(_word(piece[:end]))
            piece = piece[end:]
        chunk += piece
    if chunk or not words:
        words.append(_word(chunk))
    return words


def _word(raw: bytes) -> str:
    return "=?utf-8?b?" + base64.b64encode(raw).decode("ascii") + "?="


def _mixed(words: list[str], plain: re.Pattern[str]) -> list[str]:
    """Words that ``plain`` accepts stay as they are; each run of the others becomes
    encoded words (the spaces inside a run are encoded with it)."""
    tokens: list[str] = []
    run: list[str] = []
    for word in words:
        if plain.match(word) and "=?" not in word:
            if run:
                tokens += encoded_words(" ".join(run))
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens += encoded_words(" ".join(run))
    return tokens


def phrase(text: str) -> list[str]:
    """A display name as header tokens: atoms, a quoted string or atoms and encoded words."""
    text = clean(text)
    if _ATOM_PHRASE.match(text) and not text.startswith(".") and ".." not in text:
        return text.split(" ") if text else []
    if _PRINTABLE_ASCII.match(text):
        return ['"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"']
    return _mixed(text.split(), _ATOM)


def unstructured(text: str) -> list[str]:
    """An unstructured value (Subject): plain words where printable ASCII, else encoded."""
    text = clean(text)
    if _PRINTABLE_ASCII.match(text) and "=?" not in text:
        return text.split(" ")
    return _mixed(text.split(), _PRINTABLE_WORD)


def mailbox(name: str, address: str) -> list[str]:
    """``Name <address>`` as tokens (the address already checked)."""
    tokens = phrase(name)
    return [*tokens, f"<{address}>"] if tokens else [address]


def fold(name: str, tokens: list[str], *, separator: str = " ") -> str:
    """``Name: tokens`` folded into lines of at most 78 characters, ending in CRLF.

    ``separator`` joins tokens on one line (", " for a list of URLs). A single token longer
    than a line (a long URL) gets a line of its own; RFC 5322 allows up to 998.
    """
    lines: list[str] = []
    current = f"{name}:"
    for token in tokens:
        if not token:
            continue
        glue = " " if current.endswith(":") else separator
        if len(current) + len(glue) + len(token) > 78 and not current.endswith(":"):
            lines.append(current + separator.rstrip())
            current = " " + token
        else:
            current += glue + token
    lines.append(current)
    return CRLF.join(lines) + CRLF
