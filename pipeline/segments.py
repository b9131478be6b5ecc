"""Segments: the small condition language that narrows a list to some of its people.

    beat in ["Kommunalpolitik", "Digitales"] and region = "Bayern"

    expression := disjunction
    disjunction := conjunction ("or" conjunction)*
    conjunction := negation ("and" negation)*
    negation    := "not" negation | "(" expression ")" | comparison
    comparison  := field ("=" | "!=") STRING
                 | field ["not"] "in" "[" STRING ("," STRING)* [","] "]"
                 | field "contains" STRING
    field       := NAME | "attributes" "[" STRING "]"

Fields: the subscriber columns ``language``, ``first_name``, ``last_name``,
``salutation``, ``title``, ``domain`` (the part of the address after the @, lower case),
and any other name is a key of the subscriber's attributes (the extra columns of the
imported CSV: ``outlet``, ``beat``, ``region`` …); ``attributes["Name mit Leerzeichen"]``
names any key. A missing attribute counts as the empty string, so ``region != "Bayern"``
includes people without a region. Comparisons are exact (case and accents count).
Keywords (``and or not in contains``) are case-insensitive; strings are in double or
single quotes with backslash escapes (``\\" \\' \\\\ \\n \\t \\uXXXX``).

This module is pure: text in, a frozen tree out (``parse``), or a ``SegmentError`` with
the column where the text went wrong. Users never write SQL: the store turns the tree
into a parameterised filter (``pipeline.store.segments``), every value a bound parameter.
It is a layer of its own just above the base modules (not in ``audience``): the
configuration checks ``[segments]`` when it is read and the store compiles the tree, and
both lie below ``audience`` in the layers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pipeline.errors import SegmentError

COLUMNS = ("language", "first_name", "last_name", "salutation", "title", "domain")
# Subscriber data a segment may not test: the address itself (``domain`` is enough to
# target an outlet) and the bookkeeping columns.
RESERVED = ("email", "email_hash", "id", "attributes", "created_at", "updated_at")
KEYWORDS = ("and", "or", "not", "in", "contains")

MAX_LENGTH = 4000  # characters of one expression
# A segment's name, in ``[segments]`` and saved in the web app alike: safe in a URL path,
# a CLI argument and a TOML key without quoting.
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
NAME_RULE = "a letter, then letters, digits, '_' or '-' (at most 64)"
MAX_DEPTH = 32  # nested parentheses and "not"s
MAX_VALUES = 500  # strings in one [...] list (each is a bound parameter)


# --- the tree --------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A subscriber column (``attribute=False``) or a key of its attributes."""

    name: str
    attribute: bool


@dataclass(frozen=True)
class Compare:
    field: Field
    op: Literal["=", "!="]
    value: str


@dataclass(frozen=True)
class Within:
    """``field in [...]`` (``negated``: ``not in``)."""

    field: Field
    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class Contains:
    field: Field
    value: str


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class And:
    operands: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Condition, ...]


Condition = Compare | Within | Contains | Not | And | Or


# --- tokens ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: Literal["name", "string", "op", "end"]
    text: str  # the name, the decoded string, the operator or keyword (lower case)
    column: int


_NAME = re.compile(r"[^\W\d]\w*(?:-\w+)*")
_SPACE = re.compile(r"\s+")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``end`` token; ``SegmentError`` at the
    first character that starts none."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if (space := _SPACE.match(text, i)) is not None:
            i = space.end()
            continue
        column = i + 1
        if char in "\"'":
            value, i = _string(text, i)
            tokens.append(Token("string", value, column))
        elif text.startswith(("!=", "=="), i):
            tokens.append(Token("op", text[i : i + 2].replace("==", "="), column))
            i += 2
        elif char in "=()[],":
            tokens.append(Token("op", char, column))
            i += 1
        elif (name := _NAME.match(text, i)) is not None:
            word = name.group()
            kind: Literal["name", "op"] = "op" if word.lower() in KEYWORDS else "name"
            tokens.append(Token(kind, word.lower() if kind == "op" else word, column))
            i = name.end()
        elif char.isdigit():
            raise SegmentError(
                f"a value must be in quotes (write {_quoted(_run(text, i))})",
                column=column,
                text=text,
            )
        else:
            raise SegmentError(f"unexpected character {char!r}", column=column, text=text)
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _run(text: str, i: int) -> str:
    end = i
    while end < len(text) and not text[end].isspace() and text[end] not in "()[],=!":
        end += 1
    return text[i:end]


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            value = "".join(out)
            if "\0" in value:
                # no stored text can hold it (PostgreSQL refuses it outright)
                raise SegmentError(
                    "a value cannot contain the NUL character", column=start + 1, text=text
                )
            return value, i + 1
        if char == "\\":
            if i + 1 >= len(text):
                break
            code = text[i + 1]
            if code in _ESCAPES:
                out.append(_ESCAPES[code])
                i += 2
                continue
            if code == "u":
                digits = text[i + 2 : i + 6]
                if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                    out.append(chr(int(digits, 16)))
                    i += 6
                    continue
                raise SegmentError("\\u needs four hexadecimal digits", column=i + 1, text=text)
            raise SegmentError(
                f"unknown escape \\{code} (use \\\" \\' \\\\ \\n \\t or \\uXXXX)",
                column=i + 1,
                text=text,
            )
        if char in "\n\r":
            break
        out.append(char)
        i += 1
    raise SegmentError("the string is not closed", column=start + 1, text=text)


# --- the parser ------------------------------------------------------------------------


def parse(text: str) -> Condition:
    """The tree of a segment expression; ``SegmentError`` naming the column otherwise."""
    if len(text) > MAX_LENGTH:
        raise SegmentError(
            f"the expression is longer than {MAX_LENGTH} characters",
            column=MAX_LENGTH + 1,
            text=text,
        )
    if not text.strip():
        raise SegmentError("the expression is empty", column=1, text=text)
    return _Parser(text, tokenize(text)).expression_to_end()


def parse_optional(text: str | None) -> Condition | None:
    """The tree of a stored condition, None for none (a mailing without a segment)."""
    return None if text is None or not text.strip() else parse(text)


class _Parser:
    """Recursive descent over the tokens, one method per rule of the grammar."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.at = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        if token.kind != "end":
            self.at += 1
        return token

    def is_op(self, *texts: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text in texts

    def fail(self, message: str, token: Token | None = None) -> SegmentError:
        token = token or self.peek()
        return SegmentError(message, column=token.column, text=self.text)

    def expect(self, text: str, what: str) -> Token:
        if not self.is_op(text):
            raise self.fail(f"expected {what}, found {_describe(self.peek())}")
        return self.take()

    def expression_to_end(self) -> Condition:
        condition = self.disjunction()
        if self.peek().kind != "end":
            raise self.fail(f"expected 'and', 'or' or the end, found {_describe(self.peek())}")
        return condition

    def disjunction(self) -> Condition:
        parts = [self.conjunction()]
        while self.is_op("or"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self) -> Condition:
        parts = [self.negation()]
        while self.is_op("and"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def negation(self) -> Condition:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"more than {MAX_DEPTH} nested parentheses or 'not's")
        try:
            if self.is_op("not"):
                self.take()
                return Not(self.negation())
            if self.is_op("("):
                self.take()
                inner = self.disjunction()
                self.expect(")", "')'")
                return inner
            return self.comparison()
        finally:
            self.depth -= 1

    def comparison(self) -> Condition:
        field = self.field()
        token = self.peek()
        if self.is_op("=", "!="):
            op = self.take().text
            return Compare(field, "=" if op == "=" else "!=", self.string())
        if self.is_op("contains"):
            self.take()
            return Contains(field, self.string())
        if self.is_op("not"):
            self.take()
            self.expect("in", "'in' after 'not'")
            return Within(field, self.values(), negated=True)
        if self.is_op("in"):
            self.take()
            return Within(field, self.values())
        raise self.fail(
            f"expected =, !=, in, not in or contains after {field.name!r}, found {_describe(token)}"
        )

    def field(self) -> Field:
        token = self.peek()
        if token.kind != "name":
            raise self.fail(f"expected a field name, found {_describe(token)}")
        self.take()
        if token.text == "attributes":
            self.expect("[", "'[' after 'attributes'")
            key = self.string()
            self.expect("]", "']'")
            return Field(_attribute_key(key, token, self), attribute=True)
        if token.text in COLUMNS:
            return Field(token.text, attribute=False)
        if token.text in RESERVED:
            raise self.fail(
                f"{token.text!r} cannot be used in a segment "
                f"(fields: {', '.join(COLUMNS)} and any attribute)",
                token,
            )
        return Field(token.text, attribute=True)

    def string(self) -> str:
        token = self.peek()
        if token.kind != "string":
            raise self.fail(f"expected a value in quotes, found {_describe(token)}")
        return self.take().text

    def values(self) -> tuple[str, ...]:
        self.expect("[", "'[' to start the list of values")
        values = [self.string()]
        while self.is_op(","):
            self.take()
            if self.is_op("]"):
                break
            values.append(self.string())
            if len(values) > MAX_VALUES:
                raise self.fail(f"more than {MAX_VALUES} values in one list")
        self.expect("]", "',' or ']'")
        return tuple(dict.fromkeys(values))


def _attribute_key(key: str, token: Token, parser: _Parser) -> str:
    # The key goes into a JSON path on SQLite ($."key"), which has no escape for a double
    # quote: such a key (or a control character) is refused rather than let it reach
    # another key of the document.
    if not key or any(c in key for c in '"\\') or any(ord(c) < 32 for c in key):
        raise parser.fail(
            'an attribute name must not be empty nor contain " \\ or control characters',
            token,
        )
    return key


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "the end"
    if token.kind == "string":
        return f"the value {_quoted(token.text)}"
    return repr(token.text)


def fields_of(condition: Condition) -> list[Field]:
    """The fields a condition tests, in order, each once."""
    found: dict[Field, None] = {}

    def walk(node: Condition) -> None:
        if isinstance(node, Compare | Within | Contains):
            found[node.field] = None
        elif isinstance(node, Not):
            walk(node.operand)
        else:
            for operand in node.operands:
                walk(operand)

    walk(condition)
    return list(found)


def is_name(text: str) -> bool:
    """Whether ``text`` is a valid segment name (``NAME``)."""
    return NAME.fullmatch(text) is not None


__all__ = [
    "COLUMNS",
    "NAME",
    "NAME_RULE",
    "And",
    "Compare",
    "Condition",
    "Contains",
    "Field",
    "Not",
    "Or",
    "SegmentError",
    "Within",
    "fields_of",
    "is_name",
    "parse",
    "parse_optional",
    "tokenize",
]
