"""The demo's feeds: written relative to today, so they are always collectable and recent."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.clock import FakeClock
from pipeline.collect import collect
from pipeline.store import Store
from pipeline.store.items import list_items
from tests.conftest import REPO


def test_demo_feeds_are_dated_relative_to_today(tmp_path: Path, settings_factory) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "demo-feeds"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "demo_feeds.py"),
            "--out",
            str(out),
            "--today",
            "2027-03-10",
        ],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "artikel.xml",
        "presse.xml",
        "veranstaltungen.xml",
    ]
    assert "{{" not in "".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    settings = settings_factory(
        feeds=[
            {"name": "artikel", "url": str(out / "artikel.xml"), "kind": "article"},
            {
                "name": "veranstaltungen",
                "url": str(out / "veranstaltungen.xml"),
                "kind": "event_report",
            },
            {"name": "presse", "url": str(out / "presse.xml"), "kind": "press_release"},
        ]
    )
    clock = FakeClock(datetime(2027, 3, 10, 12, 0, tzinfo=UTC))
    store = Store.open(settings.database_url())
    try:
        report = collect(settings, store, clock=clock)
        assert report.ok, report
        eligible = list_items(store, eligible_only=True, now=clock.now())
        kinds = [i.kind for i in eligible]
        assert kinds.count("article") == 3 and kinds.count("event_report") == 3
        assert kinds.count("press_release") == 1
        assert all(clock.now() - i.published_at < timedelta(days=7) for i in eligible)  # type: ignore[operator]
        seed = next(i for i in eligible if "Rückgrat unseres Staates" in i.title)
        assert seed.image_credit == "©NJB/Sebastian Bolesch"
        assert all(
            i.image_url and i.image_url.startswith("https://www.junge-buergermeister.example/")
            for i in eligible
        )
        assert all(i.image_credit and i.image_credit.startswith("©") for i in eligible)
        assert [i.title for i in list_items(store) if not i.eligible] == [
            "Rückblick: Unser Positionspapier zur Kommunalfinanzierung"
        ]
    finally:
        store.close()
