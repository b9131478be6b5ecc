"""Golden files: the text part of a fixed newsletter and press release, byte for byte.

A deliberate change to templates or locale strings updates them with
``RUNDBRIEF_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render/test_golden.py``; review the
diff like any other change.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings.compose import compose_newsletter, compose_press
from pipeline.store import Store
from tests.support import mailings as mailing_ops
from tests.support.mail_items import add_item, add_items
from tests.support.mailings import render_mailing

GOLDEN = Path(__file__).resolve().parent / "golden"


def _compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RUNDBRIEF_UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"{path} is missing; run with RUNDBRIEF_UPDATE_GOLDEN=1 to create it")
    assert actual == path.read_text(encoding="utf-8")


def test_newsletter_text_part(settings: Settings, store: Store, clock: FakeClock) -> None:
    add_items(store, clock.now(), 4, kinds=("article", "event_report"))
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    mailing_ops.edit_mailing(
        store,
        mailing.id,
        clock=clock,
        intro_md=(
            "diese Woche war viel los: Das **Netzwerktreffen** in Berlin, die Jahreskonferenz "
            "und ein neuer Partner. Alle Termine stehen [auf unserer Website]"
            "(https://www.junge-buergermeister.example/termine).\n\n"
            "- Wärmeplanung\n- Fördermittel\n- „Kommune 2030“\n"
        ),
    )
    _compare("newsletter-de.txt", render_mailing(settings, store, mailing.id, clock=clock)[0].text)


def test_press_text_part(settings: Settings, store: Store, clock: FakeClock) -> None:
    item = add_item(
        store,
        title="Junge Bürgermeister*innen fordern Entlastung bei Förderanträgen",
        kind="press_release",
        published_at=clock.now() - timedelta(hours=2),
        author="Jana Köhler",
    )
    mailing = compose_press(settings, store, item, clock=clock, embargo=clock.now() + timedelta(1))
    _compare("press-de.txt", render_mailing(settings, store, mailing.id, clock=clock)[0].text)
