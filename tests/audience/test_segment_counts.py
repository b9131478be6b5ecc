"""Segments counted and listed by the store, the same on SQLite and PostgreSQL, and
safe against text that tries to become SQL or reach another JSON key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.audience import count_recipients, iter_recipients, suppress
from pipeline.audience.csv_import import import_file
from pipeline.clock import FakeClock
from pipeline.segments import parse
from pipeline.store import Store
from pipeline.store.audience import count_subscribers
from pipeline.store.segments import unknown_attributes
from tests.support.mail_items import seed_paragraphs
from tests.support.settings import make_settings

HEADER = (
    "email,salutation,first_name,last_name,language,lists,outlet,beat,region,Medien Typ,notiz\n"
)
ROWS = [
    "j.koehler@tageszeitung-ost.example,Frau,Jana,Köhler,de,press,Tageszeitung Ost,"
    "Kommunalpolitik,Bayern,Print,{note}",
    "b.gruen@landesfunk.example,Herr,Björn,Grün,de,press,Landesfunk,Digitales,Bayern,Hörfunk,",
    "m.oezdemir@wochenblatt-sued.example,Frau,Meryem,Özdemir,en,press,Wochenblatt Süd,"
    "Demokratie & Beteiligung,Baden-Württemberg,Print,",
    "s.fuchs@kommunal-magazin.example,Herr,Stefan,Fuchs,de,press,Kommunal-Magazin,"
    "Digitales,,Online,",
    "a.mueller@beispiel-gemeinde.example,Frau,Anna,Müller,de,members,,Kommunalpolitik,Bayern,,",
    'p.weiss@LANDESFUNK.example,Frau,Petra,Weiß,de,press,Landesfunk,"Kommunalpolitik",Berlin,'
    "Hörfunk,",
]


def _csv() -> str:
    # a sentence of the seed article as a free-text attribute (quotes, umlauts, star)
    note = seed_paragraphs()[0].split(". ")[0].replace('"', "'")
    return HEADER + "\n".join(ROWS).replace("{note}", f'"{note}"') + "\n"


@pytest.fixture(params=["sqlite", "postgres"])
def people(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    if request.param == "postgres":
        store = request.getfixturevalue("pg_store")
    else:
        store = request.getfixturevalue("store")
    path = tmp_path / "press.csv"
    path.write_text(_csv(), encoding="utf-8")
    report = import_file(make_settings(tmp_path), store, path, clock=clock)
    assert report.ok and report.created == 6, report
    yield store


def _emails(store: Store, text: str, lists: tuple[str, ...] = ("press",)) -> list[str]:
    segment = parse(text)
    found = [r.email.split("@")[0] for r in iter_recipients(store, lists, segment=segment)]
    assert count_recipients(store, lists, segment=segment) == len(found)
    return found


def test_the_example_of_the_issue(people: Store) -> None:
    text = 'beat in ["Kommunalpolitik", "Digitales"] and region = "Bayern"'
    assert _emails(people, text) == ["j.koehler", "b.gruen"]
    assert _emails(people, text, ("press", "members")) == ["j.koehler", "b.gruen", "a.mueller"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('region != "Bayern"', ["m.oezdemir", "s.fuchs", "p.weiss"]),  # no region counts
        ('region = ""', ["s.fuchs"]),
        ('region not in ["Bayern", "Berlin"]', ["m.oezdemir", "s.fuchs"]),
        ('not (region = "Bayern" or region = "Berlin")', ["m.oezdemir", "s.fuchs"]),
        ('beat contains "Beteiligung"', ["m.oezdemir"]),
        ('beat contains "beteiligung"', []),  # exact, on both back ends
        ('region = "Baden-Württemberg"', ["m.oezdemir"]),
        ('language = "en"', ["m.oezdemir"]),
        ('salutation = "Herr" and first_name = "Björn"', ["b.gruen"]),
        ('last_name in ["Weiß", "Fuchs"]', ["s.fuchs", "p.weiss"]),
        ('domain = "Landesfunk.example"', ["b.gruen", "p.weiss"]),  # domains are lower case
        ('attributes["Medien Typ"] = "Hörfunk"', ["b.gruen", "p.weiss"]),
        ('notiz contains "Bürgermeister"', ["j.koehler"]),
        (
            'outlet = "Wochenblatt Süd" or outlet = "Landesfunk"',
            ["b.gruen", "m.oezdemir", "p.weiss"],
        ),
        ('unknown_column = "x"', []),
    ],
)
def test_conditions(people: Store, text: str, expected: list[str]) -> None:
    assert _emails(people, text) == expected


def test_suppressed_people_are_not_in_a_segment(people: Store, clock: FakeClock) -> None:
    suppress(people, "b.gruen@landesfunk.example", "complaint", clock=clock)
    assert _emails(people, 'outlet = "Landesfunk"') == ["p.weiss"]


@pytest.mark.parametrize(
    "value",
    [
        "'; DROP TABLE subscribers; --",
        '" OR 1=1 --',
        "Bayern' OR '1'='1",
        "%",
        "_",
        "\\",
        "Bay\u200bern",  # a zero-width space is a character, not nothing
        "ＢＡＹＥＲＮ",
    ],
)
def test_injection_in_values_is_only_a_value(people: Store, value: str) -> None:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    for text in (
        f'region = "{escaped}"',
        f'region in ["{escaped}"]',
        f'region contains "{escaped}" and region = "Bayern"',
        f'attributes["{escaped.replace(chr(92), "")}"] = "Bayern"'
        if '"' not in value and "\\" not in value
        else 'region = "x"',
    ):
        assert _emails(people, text) == []
    assert count_subscribers(people) == 6  # no table went away
    assert len(_emails(people, 'region != "x"')) == 5


@pytest.mark.parametrize(
    "key",
    [
        "$.region",  # a path instead of a key
        "region.x",
        "region[0]",
        "*",
        "region' || '",
        "$",
    ],
)
def test_a_key_cannot_reach_another_key(people: Store, key: str) -> None:
    assert _emails(people, f'attributes["{key}"] = "Bayern"') == []
    assert _emails(people, f'attributes["{key}"] != "Bayern"') == [
        "j.koehler",
        "b.gruen",
        "m.oezdemir",
        "s.fuchs",
        "p.weiss",
    ]


def test_a_big_list_of_values(people: Store) -> None:
    values = ", ".join(f'"R{n}"' for n in range(400))
    assert _emails(people, f'region in [{values}, "Berlin"]') == ["p.weiss"]


def test_store_is_intact_after_all(people: Store, clock: FakeClock) -> None:
    _emails(people, 'region = "\'); DELETE FROM subscriptions; --"')
    assert count_recipients(people, ["press"]) == 5


def test_attributes_nobody_has(people: Store) -> None:
    with people.connect() as conn:
        found = unknown_attributes(conn, ["region", "raegion", "Medien Typ", "$.region"])
    assert found == ["raegion", "$.region"]
