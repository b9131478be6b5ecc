"""An erased subscriber's id is never given to anyone else, so their old links act on nobody."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from pipeline.audience import is_receiving, is_suppressed
from pipeline.audience.csv_import import import_file
from pipeline.audience.links import preferences_url, unsubscribe_url
from pipeline.audience.privacy import erase_person
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store import audience as q

A = "email,first_name,last_name,lists\nanna@verein.example,Anna,Alt,members\n"
B = "email,first_name,last_name,lists\nbernd@verein.example,Bernd,Best,members\n"
C = "email,first_name,last_name,lists\ncarla@zeitung.example,Carla,Neu,members\n"


def _id(store: Store, email: str) -> int:
    with store.connect() as conn:
        person = q.find_subscriber(conn, email)
    assert person is not None
    return person.id


def _local(url: str, server: Any) -> str:
    return server.url + url[url.index("/", len("https://")) :]


def _erase_newest_then_import(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> int:
    """Import A and B, erase B (the newest), import C; B's id."""
    assert import_file(settings, store, write_csv(A + B.split("\n", 1)[1]), clock=clock).ok
    erased = _id(store, "bernd@verein.example")
    erase_person(store, "bernd@verein.example", clock=clock)
    assert import_file(settings, store, write_csv(C, name="c.csv"), clock=clock).ok
    return erased


def test_erased_newest_id_is_not_reused(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    erased = _erase_newest_then_import(settings, store, clock, write_csv)
    assert _id(store, "carla@zeitung.example") > erased


def test_erased_persons_old_links_act_on_nobody(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    secret: str,
    write_csv: Callable[..., Path],
    live_app: Callable[..., Any],
) -> None:
    # The links as they stood in a mail to B before B was erased.
    assert import_file(settings, store, write_csv(A + B.split("\n", 1)[1]), clock=clock).ok
    bernd = _id(store, "bernd@verein.example")
    unsubscribe = unsubscribe_url(settings, secret, bernd, "members")
    preferences = preferences_url(settings, secret, bernd, "members")
    erase_person(store, "bernd@verein.example", clock=clock)
    assert import_file(settings, store, write_csv(C, name="c.csv"), clock=clock).ok
    server = live_app(settings, store, clock)
    one_click = requests.post(
        _local(unsubscribe, server),
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    invalid = requests.post(f"{server.url}/u/nonsense", data={"x": "y"}, timeout=10)
    assert one_click.status_code == invalid.status_code
    assert one_click.text == invalid.text
    assert is_receiving(store, "carla@zeitung.example", "members")
    assert not is_suppressed(store, "carla@zeitung.example")
    page = requests.get(_local(preferences, server), timeout=10)
    assert "carla" not in page.text and "Neu" not in page.text
    assert page.status_code == invalid.status_code
