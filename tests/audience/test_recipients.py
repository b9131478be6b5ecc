"""iter_recipients: active, unsuppressed, one per address, keyset batches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.audience import is_receiving, is_suppressed, iter_recipients
from pipeline.audience.csv_import import import_file
from pipeline.audience.suppression import suppress, unsubscribe
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store

CSV = (
    "email,first_name,last_name,salutation,title,language,lists,beat\n"
    "anna@verein.example,Anna,Müller,Frau,Dr.,de,members press,Kommunales\n"
    "bernd@verein.example,Bernd,Bäcker,Herr,,en,press,\n"
    "carla@verein.example,Carla,Cürten,Frau,,de,members,\n"
    "dora@verein.example,Dora,Dörr,Frau,,de,members,\n"
    "emil@verein.example,Emil,Eßer,Herr,,de,members,\n"
)


def _load(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    assert import_file(settings, store, write_csv(CSV), clock=clock).ok


def test_one_per_address_with_the_first_list_that_applies(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    _load(settings, store, clock, write_csv)
    got = [(r.email, r.list_name) for r in iter_recipients(store, ["press", "members"])]
    assert got == [
        ("anna@verein.example", "press"),
        ("bernd@verein.example", "press"),
        ("carla@verein.example", "members"),
        ("dora@verein.example", "members"),
        ("emil@verein.example", "members"),
    ]
    anna = next(iter(iter_recipients(store, ["members"])))
    assert (anna.first_name, anna.last_name, anna.title, anna.salutation) == (
        "Anna",
        "Müller",
        "Dr.",
        "Frau",
    )
    assert anna.attributes == {"beat": "Kommunales"}


def test_suppressed_and_unsubscribed_are_left_out(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    _load(settings, store, clock, write_csv)
    suppress(store, "carla@verein.example", "hard_bounce", clock=clock, detail="5.1.1")
    unsubscribe(store, "anna@verein.example", ["members"], clock=clock)
    members = [r.email for r in iter_recipients(store, ["members"])]
    assert members == ["dora@verein.example", "emil@verein.example"]
    # Anna left members only: she still gets the press list and is not suppressed.
    assert is_receiving(store, "anna@verein.example", "press")
    assert not is_receiving(store, "anna@verein.example", "members")
    assert not is_suppressed(store, "Anna@Verein.example")
    assert is_suppressed(store, "CARLA@verein.example")


def test_keyset_batches_see_an_unsubscribe_between_batches(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    _load(settings, store, clock, write_csv)
    seen = []
    for recipient in iter_recipients(store, ["members"], batch_size=2):
        seen.append(recipient.email)
        if recipient.email == "anna@verein.example":
            unsubscribe(store, "emil@verein.example", None, clock=clock)
    assert seen == ["anna@verein.example", "carla@verein.example", "dora@verein.example"]


def test_unknown_or_empty_lists(settings: Settings, store: Store) -> None:
    assert list(iter_recipients(store, [])) == []
    assert list(iter_recipients(store, ["nobody"])) == []
