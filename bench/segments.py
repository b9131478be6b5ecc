"""Benchmark: count segments of a list of 100,000 subscribers with attributes.

Imports a generated press list (outlet, beat, region as CSV columns, so they land in
``subscribers.attributes``) into a fresh store, then counts each segment the way the
mailing overview does ("Recipients: N" before approval) and prints the best of
``--repeat`` runs next to two references measured in the same run: the list's
recipients without a segment (the same query minus the condition) and a bare
``SELECT count(*)`` of the list's subscriptions. Target: every segment well under 1 s.

    .venv/bin/python bench/segments.py [--rows N] [--repeat N] [--url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from pipeline.audience import count_recipients, import_file
from pipeline.clock import SystemClock
from pipeline.config import settings_from_dict
from pipeline.segments import parse
from pipeline.store import Store

BEATS = [
    "Kommunalpolitik",
    "Digitales",
    "Landespolitik",
    "Demokratie & Beteiligung",
    "Verwaltung & Digitales",
    "Wirtschaft",
    "Kultur",
    "Umwelt & Energie",
]
REGIONS = ["Bayern", "Berlin", "Brandenburg", "Sachsen", "Baden-Württemberg", "Hamburg", ""]
OUTLETS = ["Tageszeitung Ost", "Landesfunk", "Wochenblatt Süd", "Kommunal-Magazin", "Rundschau"]
DOMAINS = ["tageszeitung-ost.example", "landesfunk.example", "wochenblatt-sued.example"]

SEGMENTS = {
    "issue example": 'beat in ["Kommunalpolitik", "Digitales"] and region = "Bayern"',
    "one attribute": 'region = "Sachsen"',
    "not in, missing counts": 'region not in ["Bayern", "Berlin"]',
    "contains": 'beat contains "Digital"',
    "column and domain": 'language = "de" and domain = "landesfunk.example"',
    "four attributes": (
        '(outlet = "Landesfunk" or outlet = "Rundschau") and beat != "Kultur" '
        'and region in ["Bayern", "Sachsen", "Hamburg"] and not attributes["ressort"] = "x"'
    ),
}

CONFIG = {
    "organisation": {
        "name": "Netzwerk Junge Bürgermeister*innen",
        "website": "https://www.junge-buergermeister.example",
        "postal_address": "Marienstraße 6, 10117 Berlin",
        "imprint_url": "https://www.junge-buergermeister.example/impressum",
    },
    "sender": {"from_name": "Netzwerk", "from_address": "presse@junge-buergermeister.example"},
    "lists": [{"name": "press", "title": "Presse", "reason": "Presse.", "double_opt_in": False}],
    "compose": {"newsletter_lists": ["press"], "press_lists": ["press"]},
}


def generate(path: Path, rows: int) -> None:
    rnd = random.Random(20261203)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,first_name,last_name,language,outlet,beat,region\n")
        for n in range(rows):
            language = "en" if n % 9 == 0 else "de"
            out.write(
                f"person.{n}@{rnd.choice(DOMAINS)},Jana,Köhler,{language},"
                f"{rnd.choice(OUTLETS)},{rnd.choice(BEATS)},{rnd.choice(REGIONS)}\n"
            )


def best(repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    """The fastest of ``repeat`` runs in milliseconds, and what it counted."""
    times, value = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        value = run()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", default="", help="a store URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="rundbrief-bench-segments-"))
    url = args.url or f"sqlite:///{folder / 'bench.db'}"
    settings = settings_from_dict(
        {**CONFIG, "storage": {"url": url}}, source="bench", base_dir=str(folder)
    )
    store = Store.open(url)
    csv_path = folder / "press.csv"
    generate(csv_path, args.rows)
    start = time.perf_counter()
    report = import_file(settings, store, csv_path, clock=SystemClock(), list_name="press")
    print(
        f"{store.dialect}: imported {report.created:,} subscribers with outlet, beat, region "
        f"in {time.perf_counter() - start:.1f} s"
    )
    if store.dialect == "postgresql":
        # What autovacuum does within a minute of a large import: without statistics the
        # planner guesses, and every count (the references too) takes about twice as long.
        with store.begin() as conn:
            conn.execute(text("ANALYZE subscribers"))
            conn.execute(text("ANALYZE subscriptions"))
            conn.execute(text("ANALYZE suppressions"))
        print("postgresql: ANALYZE after the import (as autovacuum would)")

    def bare() -> int:
        with store.connect() as conn:
            query = "SELECT count(*) FROM subscriptions WHERE list_name = 'press'"
            return int(conn.execute(text(query)).scalar() or 0)

    rows = [
        ("reference: SELECT count(*) of the list", *best(args.repeat, bare)),
        (
            "reference: recipients of the list",
            *best(args.repeat, lambda: count_recipients(store, ["press"])),
        ),
    ]
    for name, expression in SEGMENTS.items():
        count = partial(count_recipients, store, ["press"], segment=parse(expression))
        rows.append((f"segment: {name}", *best(args.repeat, count)))
    width = max(len(r[0]) for r in rows)
    print(f"best of {args.repeat} runs, {args.rows:,} subscribers on the list:")
    slowest = 0.0
    for name, ms, count in rows:
        verdict = ""
        if name.startswith("segment"):
            slowest = max(slowest, ms)
            verdict = "  ok" if ms < 1000 else "  SLOW (target < 1 s)"
        print(f"  {name:<{width}}  {ms:8.1f} ms  {count:>9,}{verdict}")
    print(f"slowest segment: {slowest:.1f} ms (target: well under 1000 ms)")
    store.close()
    if not args.url:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
