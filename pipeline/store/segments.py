"""A segment's condition (``pipeline.segments``) as a filter on ``subscribers``.

Only the tree is compiled, never text: each value and each attribute key is a bound
parameter, so nothing a user writes becomes SQL. Attributes are JSON text; a key is read
with ``json_extract(attributes, '$."key"')`` on SQLite and ``attributes ->> 'key'`` on
PostgreSQL (the parser refuses keys with a double quote or a backslash, which the SQLite
path could not hold). A missing key reads as the empty string on both, so ``!=`` and
``not in`` include people without the attribute. Comparisons are exact on both back ends
(``contains`` uses ``instr``/``strpos``, not ``LIKE``, whose case rules differ).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.types import String

from pipeline.segments import And, Compare, Condition, Contains, Field, Not, Or, Within
from pipeline.store.schema import subscribers

_COLUMNS = {
    "language": subscribers.c.language,
    "first_name": subscribers.c.first_name,
    "last_name": subscribers.c.last_name,
    "salutation": subscribers.c.salutation,
    "title": subscribers.c.title,
}


def segment_filter(condition: Condition, dialect: str) -> ColumnElement[bool]:
    """The WHERE clause on ``subscribers`` that holds for the people in the segment."""
    return _Compiler(dialect).condition(condition)


def unknown_attributes(conn: Connection, names: Sequence[str]) -> list[str]:
    """The attribute names no subscriber has (a typo in a segment matches nobody, and
    says nothing by itself): one indexed-free probe per name, stopping at the first row."""
    compiler = _Compiler(conn.dialect.name)
    missing = []
    for name in names:
        query = select(literal(1)).where(compiler.attribute(name).is_not(None)).limit(1)
        if conn.execute(query.select_from(subscribers)).first() is None:
            missing.append(name)
    return missing


class _Compiler:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def condition(self, node: Condition) -> ColumnElement[bool]:
        if isinstance(node, Compare):
            value = self.value(node.field, node.value)
            column = self.field(node.field)
            return column == value if node.op == "=" else column != value
        if isinstance(node, Within):
            values = [self.value(node.field, v) for v in node.values]
            inside = self.field(node.field).in_(values)
            return not_(inside) if node.negated else inside
        if isinstance(node, Contains):
            if not node.value:
                return true()
            return self.position(self.field(node.field), self.value(node.field, node.value)) > 0
        if isinstance(node, Not):
            return not_(self.condition(node.operand))
        if isinstance(node, And):
            return and_(true(), *(self.condition(o) for o in node.operands))
        if isinstance(node, Or):
            return or_(false(), *(self.condition(o) for o in node.operands))
        raise TypeError(f"not a segment condition: {node!r}")

    def value(self, field: Field, value: str) -> ColumnElement[str]:
        # Addresses are stored with the domain in lower case.
        text = value.lower() if field.name == "domain" and not field.attribute else value
        return bindparam(None, text, type_=String(), unique=True)

    def field(self, field: Field) -> ColumnElement[str]:
        if field.attribute:
            return func.coalesce(self.attribute(field.name), literal("", String()))
        if field.name == "domain":
            email = subscribers.c.email
            return func.substr(email, self.position(email, literal("@", String())) + 1)
        return _COLUMNS[field.name]

    def attribute(self, key: str) -> ColumnElement[str]:
        if self.dialect == "sqlite":
            path = bindparam(None, f'$."{key}"', type_=String(), unique=True)
            return func.json_extract(subscribers.c.attributes, path, type_=String())
        return subscribers.c.attributes.op("->>", return_type=String())(
            bindparam(None, key, type_=String(), unique=True)
        )

    def position(
        self, haystack: ColumnElement[str], needle: ColumnElement[str]
    ) -> ColumnElement[int]:
        if self.dialect == "sqlite":
            return func.instr(haystack, needle)
        return func.strpos(haystack, needle)
