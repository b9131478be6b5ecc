"""The segment language (``pipeline.segments``): what it reads, and how it says what it
cannot read (the column, what was expected)."""

from __future__ import annotations

import pytest

from pipeline.errors import SegmentError
from pipeline.segments import (
    And,
    Compare,
    Contains,
    Field,
    Not,
    Or,
    Within,
    fields_of,
    parse,
    tokenize,
)

BEAT = Field("beat", attribute=True)
REGION = Field("region", attribute=True)


def test_the_example_of_the_issue() -> None:
    tree = parse('beat in ["Kommunalpolitik", "Digitales"] and region = "Bayern"')
    assert tree == And(
        (Within(BEAT, ("Kommunalpolitik", "Digitales")), Compare(REGION, "=", "Bayern"))
    )


def test_columns_and_attributes() -> None:
    assert parse('language = "en"') == Compare(Field("language", False), "=", "en")
    assert parse('domain = "landesfunk.example"').field == Field("domain", False)  # type: ignore[union-attr]
    assert parse('outlet = "Landesfunk"').field == Field("outlet", True)  # type: ignore[union-attr]
    spaced = parse('attributes["Medien Typ"] = "Hörfunk"')
    assert spaced == Compare(Field("Medien Typ", True), "=", "Hörfunk")


def test_precedence_not_and_or() -> None:
    tree = parse('not region = "Bayern" or beat = "Digitales" and outlet != "Landesfunk"')
    assert tree == Or(
        (
            Not(Compare(REGION, "=", "Bayern")),
            And(
                (
                    Compare(BEAT, "=", "Digitales"),
                    Compare(Field("outlet", True), "!=", "Landesfunk"),
                )
            ),
        )
    )
    grouped = parse('(region = "Bayern" or region = "Berlin") and beat contains "Politik"')
    assert grouped == And(
        (
            Or((Compare(REGION, "=", "Bayern"), Compare(REGION, "=", "Berlin"))),
            Contains(BEAT, "Politik"),
        )
    )


def test_not_in_keywords_any_case_and_double_equals() -> None:
    assert parse('region NOT IN ["Bayern",]') == Within(REGION, ("Bayern",), negated=True)
    assert parse('region == "Bayern"') == Compare(REGION, "=", "Bayern")
    assert parse('Region = "x"').field == Field("Region", True)  # type: ignore[union-attr]


def test_strings_with_escapes_and_german_text() -> None:
    assert parse(r'outlet = "Die \"Rundschau\""').value == 'Die "Rundschau"'  # type: ignore[union-attr]
    assert parse(r"outlet = 'D\'Artagnan \\ Co'").value == "D'Artagnan \\ Co"  # type: ignore[union-attr]
    assert parse(r'beat = "Demokratie \u0026 Beteiligung"').value == "Demokratie & Beteiligung"  # type: ignore[union-attr]
    umlauts = 'region = "Baden-Württemberg" and beat = "Bürgermeister*innen „Kommune 2030“"'
    assert fields_of(parse(umlauts)) == [REGION, BEAT]


def test_a_list_keeps_each_value_once() -> None:
    assert parse('beat in ["a", "b", "a"]') == Within(BEAT, ("a", "b"))


@pytest.mark.parametrize(
    ("text", "column", "says"),
    [
        ("", 1, "empty"),
        ('region = "Bayern', 10, "not closed"),
        ('region = "Bay\\qern"', 14, "unknown escape"),
        ('region = "\\u12"', 11, "four hexadecimal"),
        ("region = Bayern", 10, "expected a value in quotes"),
        ("member_since = 2019", 16, 'write "2019"'),
        ('region "Bayern"', 8, "expected =, !=, in, not in or contains"),
        ('region = "Bayern" and', 22, "expected a field name, found the end"),
        ('region = "Bayern" beat = "x"', 19, "expected 'and', 'or' or the end"),
        ('(region = "Bayern"', 19, "expected ')'"),
        ('region in "Bayern"', 11, "expected '[' to start the list"),
        ('region in ["Bayern" "Berlin"]', 21, "expected ',' or ']'"),
        ('region not "x"', 12, "expected 'in' after 'not'"),
        ('email = "a@b.example"', 1, "'email' cannot be used"),
        ('region = "x" ; drop', 14, "unexpected character ';'"),
        ('attributes["a\\"b"] = "x"', 1, "attribute name must not"),
        ('attributes[""] = "x"', 1, "attribute name must not"),
        ("region = ＂Bayern＂", 10, "unexpected character '＂'"),
        ('region = "a\\u0000b"', 10, "NUL"),
        ('region = "a\x00b"', 10, "NUL"),
    ],
)
def test_errors_name_the_column(text: str, column: int, says: str) -> None:
    with pytest.raises(SegmentError) as caught:
        parse(text)
    assert caught.value.column == column, str(caught.value)
    assert says in str(caught.value)
    assert str(caught.value).startswith(f"column {column}: ")


def test_depth_and_length_are_limited() -> None:
    with pytest.raises(SegmentError, match="nested"):
        parse("(" * 40 + 'region = "x"' + ")" * 40)
    with pytest.raises(SegmentError, match="nested"):
        parse("not " * 40 + 'region = "x"')
    with pytest.raises(SegmentError, match="longer than"):
        parse('region = "' + "x" * 5000 + '"')
    with pytest.raises(SegmentError, match="more than 500 values"):
        parse("region in [" + '"x",' * 501 + "]")


def test_tokens_carry_their_column() -> None:
    tokens = tokenize('beat in ["Digitales"]')
    assert [(t.kind, t.text, t.column) for t in tokens] == [
        ("name", "beat", 1),
        ("op", "in", 6),
        ("op", "[", 9),
        ("string", "Digitales", 10),
        ("op", "]", 21),
        ("end", "", 22),
    ]
