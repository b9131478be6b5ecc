"""The import, recipients, unsubscribe and erase on PostgreSQL (same code as SQLite)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.audience import is_suppressed, iter_recipients
from pipeline.audience.csv_import import import_file
from pipeline.audience.privacy import erase_person, export_person
from pipeline.audience.suppression import unsubscribe
from pipeline.clock import FakeClock
from pipeline.store import Store
from tests.support.settings import make_settings

pytestmark = pytest.mark.postgres

CSV = (
    "email,first_name,last_name,salutation,title,language,lists,outlet\n"
    "jana@zeitung.example,Jana,Köhler,Frau,,de,members press,Tageszeitung Ost\n"
    "bjoern@münchen.example,Björn,Bär,Herr,Dr.,en,press,\n"
    "otto@verein.example,Otto,Öhler,Herr,,de,members,\n"
    "kaputt,X,Y,Herr,,de,members,\n"
)


def test_import_recipients_erase_on_postgres(
    pg_store: Store, tmp_path: Path, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    settings = make_settings(tmp_path)
    path = write_csv(CSV)
    report = import_file(settings, pg_store, path, clock=clock)
    assert report.created == 3 and [e.line for e in report.errors] == [5]
    again = import_file(settings, pg_store, path, clock=clock)
    assert again.created == 0 and again.updated == 0 and again.unchanged == 3
    changed = write_csv(CSV.replace("Tageszeitung Ost", "Abendblatt"), name="changed.csv")
    update = import_file(settings, pg_store, changed, clock=clock)
    assert (update.updated, update.unchanged) == (1, 2)
    update = import_file(settings, pg_store, path, clock=clock)  # and back
    assert (update.updated, update.unchanged) == (1, 2)

    got = [(r.email, r.list_name) for r in iter_recipients(pg_store, ["press", "members"])]
    assert got == [
        ("jana@zeitung.example", "press"),
        ("bjoern@xn--mnchen-3ya.example", "press"),
        ("otto@verein.example", "members"),
    ]
    jana = next(iter(iter_recipients(pg_store, ["press"])))
    assert jana.attributes == {"outlet": "Tageszeitung Ost"} and jana.last_name == "Köhler"

    unsubscribe(pg_store, "otto@verein.example", ["members"], clock=clock)
    assert is_suppressed(pg_store, "otto@verein.example")
    erase_person(pg_store, "jana@zeitung.example", clock=clock)
    assert (
        export_person(settings, pg_store, "jana@zeitung.example", clock=clock)["subscriber"] is None
    )
    final = import_file(settings, pg_store, path, clock=clock)
    assert {s.email for s in final.skipped} == {"jana@zeitung.example", "otto@verein.example"}
    assert [r.email for r in iter_recipients(pg_store, ["press", "members"])] == [
        "bjoern@xn--mnchen-3ya.example"
    ]


def test_duplicates_far_apart_on_postgres(
    pg_store: Store,
    tmp_path: Path,
    clock: FakeClock,
    write_csv: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.audience.test_csv_import import DUPLICATES, check_duplicates_far_apart

    path = write_csv(DUPLICATES)
    check_duplicates_far_apart(make_settings(tmp_path), pg_store, clock, path, monkeypatch)


def test_erased_newest_id_is_not_reused_on_postgres(
    pg_store: Store, tmp_path: Path, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    settings = make_settings(tmp_path)
    head = "email,lists\n"
    assert import_file(
        settings,
        pg_store,
        write_csv(head + "a@verein.example,members\nb@verein.example,members\n"),
        clock=clock,
    ).ok
    erased = export_person(settings, pg_store, "b@verein.example", clock=clock)["subscriber"]
    assert erased is not None
    erase_person(pg_store, "b@verein.example", clock=clock)
    path = write_csv(head + "c@verein.example,members\n", name="c.csv")
    assert import_file(settings, pg_store, path, clock=clock).ok
    new = export_person(settings, pg_store, "c@verein.example", clock=clock)["subscriber"]
    assert new is not None and new["id"] > erased["id"]
