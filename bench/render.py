"""Benchmark: render a 12-item newsletter and personalise it for 10,000 recipients.

Twelve seed-like German items (umlauts, „quotes“, ``Bürgermeister*innen``, © credits),
each with a lead image, in three sections, go into a fresh SQLite store. Then:

- full render: content model → Jinja2 → MJML (mjml-python) → CSS inlined (css-inline)
  → text part → checks (size, alt, lang, preheader, nothing executable): ms per render
- the same through the workflow (loads items, stores the render): ms per render
- personalisation: ``personalise`` per recipient over 10,000 recipients with their own
  salutation, names and signed-looking links: µs per recipient (and with
  ``salutation_for`` included)

Targets on a 2-core machine: full render < 20 ms; personalisation < 50 µs per recipient.

    .venv/bin/python bench/render.py [--renders 50] [--recipients 10000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.access import Actor, Role
from pipeline.clock import FakeClock
from pipeline.config import Settings, settings_from_dict
from pipeline.mailings import Workflow
from pipeline.mailings.compose import compose_newsletter
from pipeline.mailings.renders import load_items
from pipeline.models import Recipient
from pipeline.render import Personalisation, personalise
from pipeline.render.checks import html_size
from pipeline.render.content import build_content
from pipeline.render.locale import load_strings
from pipeline.render.mailing import render_content
from pipeline.render.salutation import salutation_for
from pipeline.store import Store
from pipeline.store.mailings import get_mailing
from tests.support.mail_items import add_items

FIRST = ["Anna", "Jonas", "Kim", "Jörg", "Sophie", "Mehmet", "Lea", "Björn"]
LAST = ["Müller", "Schäfer", "Weiß", "Öztürk", "Krüger", "Schulz", "Groß", "Köhler"]
GENDER = ["Frau", "Herr", "neutral", "Herr", "Frau", "Herr", "Frau", "Herr"]


BENCH = Actor("bench@localhost", Role.EDITOR)  # who re-renders (the workflow asks)


def settings_for(folder: Path) -> Settings:
    return settings_from_dict(
        {
            "organisation": {
                "name": "Netzwerk Junge Bürgermeister*innen",
                "website": "https://www.junge-buergermeister.example",
                "postal_address": "Marienstraße 6, 10117 Berlin",
                "imprint_url": "https://www.junge-buergermeister.example/impressum",
            },
            "storage": {"url": f"sqlite:///{folder / 'bench.db'}"},
            "sender": {
                "from_name": "Netzwerk Junge Bürgermeister*innen",
                "from_address": "newsletter@junge-buergermeister.example",
            },
            "lists": [
                {
                    "name": "members",
                    "title": "Mitglieder-Newsletter",
                    "reason": "Sie erhalten diese E-Mail als Mitglied des Netzwerks.",
                    "salutation": "informal",
                },
                {"name": "press", "title": "Presse", "reason": "Presseverteiler."},
            ],
            "web": {"base_url": "https://rundbrief.junge-buergermeister.example"},
        },
        source=str(folder / "config.toml"),
        base_dir=str(folder),
    )


def recipients(count: int) -> list[Recipient]:
    return [
        Recipient(
            subscriber_id=n,
            email=f"{FIRST[n % 8].lower()}.{n}@beispiel-gemeinde.example",
            list_name="members",
            first_name=FIRST[n % 8],
            last_name=LAST[(n // 8) % 8],
            salutation=GENDER[n % 8],
        )
        for n in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = settings_for(folder)
        store = Store.open(settings.database_url())
        clock = FakeClock(datetime(2026, 6, 19, 8, 0, tzinfo=UTC))
        add_items(store, clock.now() - timedelta(hours=1), 12, ("article", "event_report", "press_release"))  # fmt: skip
        mailing = compose_newsletter(settings, store, clock=clock)
        assert mailing is not None and len(mailing.item_ids) == 12
        mailing = get_mailing(store, mailing.id)
        items = load_items(store, mailing.item_ids)
        strings = load_strings("de")

        def full_render() -> str:
            content = build_content(
                settings, mailing, items, language="de", strings=strings, now=clock.now()
            )
            return render_content(settings, content, name="bench").html

        html = full_render()  # templates compiled once, as in a running process
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        # CPU time next to wall time: on a shared machine the wall clock mostly measures
        # the other processes.
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.renders):
            full_render()
        per_render = (time.perf_counter() - start) / args.renders
        per_render_cpu = (time.process_time() - cpu) / args.renders
        if profiler:
            profiler.disable()

        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.renders):
            rendered = Workflow(settings, store, clock).rerender(mailing.id, by=BENCH)[0]
        per_stored = (time.perf_counter() - start) / args.renders
        per_stored_cpu = (time.process_time() - cpu) / args.renders

        people = recipients(args.recipients)
        values = [
            Personalisation(
                salutation=salutation_for(settings, r),
                first_name=r.first_name,
                last_name=r.last_name,
                email=r.email,
                unsubscribe_url=f"{settings.web.base_url}/u/{r.subscriber_id:08d}.{'x' * 60}",
                preferences_url=f"{settings.web.base_url}/p/{r.subscriber_id:08d}.{'x' * 60}",
            )
            for r in people
        ]
        start, cpu = time.perf_counter(), time.process_time()
        for value in values:
            personalise(rendered, value)
        per_recipient = (time.perf_counter() - start) / len(values)
        per_recipient_cpu = (time.process_time() - cpu) / len(values)

        start, cpu = time.perf_counter(), time.process_time()
        for r, value in zip(people, values, strict=True):
            personalise(rendered, replace(value, salutation=salutation_for(settings, r)))
        per_with_salutation = (time.perf_counter() - start) / len(values)
        per_with_salutation_cpu = (time.process_time() - cpu) / len(values)
        store.close()

    print(f"newsletter: 12 items, {html_size(html) / 1000:.1f} KB HTML")
    print(
        f"full render with inlining and checks: {per_render * 1000:.2f} ms wall, "
        f"{per_render_cpu * 1000:.2f} ms CPU (target < 20 ms)"
    )
    print(
        f"render through the workflow incl. store read/write: {per_stored * 1000:.2f} ms wall, "
        f"{per_stored_cpu * 1000:.2f} ms CPU"
    )
    print(
        f"personalisation over {len(values):,} recipients: {per_recipient * 1e6:.1f} µs wall, "
        f"{per_recipient_cpu * 1e6:.1f} µs CPU per recipient (target < 50 µs)"
    )
    print(
        f"  with salutation_for: {per_with_salutation * 1e6:.1f} µs wall, "
        f"{per_with_salutation_cpu * 1e6:.1f} µs CPU"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(20)


if __name__ == "__main__":
    main()
