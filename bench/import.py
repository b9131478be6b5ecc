"""Benchmark: import a generated 100,000-row subscriber CSV into a fresh SQLite store.

Prints rows per second (first import, re-import with every row changed, re-import with
nothing changed) and the peak resident memory of the process.
Targets: at least 20,000 rows/s, peak RSS below 200 MB.

``--memory`` instead runs ``rundbrief subscribers import`` (the real command, output
discarded) once per size in a fresh child process and prints each child's peak RSS:
memory must stay flat as the file grows. ``--bad`` makes every row bad (an invalid
address), so the report itself is what grows.

    .venv/bin/python bench/import.py [--rows N] [--keep]
    .venv/bin/python bench/import.py --memory [--sizes 10000,100000,300000,1000000] [--bad]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.audience.csv_import import import_file
from pipeline.clock import SystemClock
from pipeline.config import settings_from_dict
from pipeline.store import Store

FIRST = [
    "Anna",
    "Jörg",
    "Özlem",
    "Bärbel",
    "Lukas",
    "Sophie",
    "Maximilian",
    "Jürgen",
    "Lea",
    "Till",
]
LAST = [
    "Müller",
    "Schäfer",
    "Groß",
    "Köhler",
    "Weiß",
    "Hübner",
    "Böhm",
    "Strauß",
    "Fuchs",
    "Bäcker",
]
DOMAINS = [
    "gemeinde-nord.example",
    "rathaus-kleinstadt.example",
    "tageszeitung-ost.example",
    "landesfunk.example",
    "verbandsgemeinde.example",
    "münchen.example",
]
REGIONS = ["Berlin", "Brandenburg", "Sachsen", "Bayern", "Hamburg", "Niedersachsen"]


def _ascii(name: str) -> str:
    for umlaut, plain in (
        ("ä", "ae"),
        ("ö", "oe"),
        ("ü", "ue"),
        ("Ä", "Ae"),
        ("Ö", "Oe"),
        ("Ü", "Ue"),
        ("ß", "ss"),
    ):
        name = name.replace(umlaut, plain)
    return name


def generate(path: Path, rows: int, *, edition: int = 0, bad: bool = False) -> None:
    """The same people each time; ``edition`` changes everyone's outlet (for updates);
    ``bad``: every address lacks its @ (each row is refused)."""
    rnd = random.Random(20261126)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,first_name,last_name,salutation,title,language,region,outlet\n")
        for n in range(rows):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            salutation = rnd.choice(("Frau", "Herr", "neutral"))
            title = "Dr." if n % 17 == 0 else ""
            language = "en" if n % 9 == 0 else "de"
            # Real addresses are transliterated (joerg.mueller@); one in a hundred is not.
            local = f"{first}.{last}.{n}" if n % 100 == 0 else f"{_ascii(first)}.{_ascii(last)}.{n}"
            email = f"{local}{'.' if bad else '@'}{rnd.choice(DOMAINS)}"
            out.write(
                f"{email},{first},{last},{salutation},{title},{language},"
                f"{rnd.choice(REGIONS)},Blatt {(n + edition) % 50}\n"
            )


CONFIG = """
[organisation]
name = "Netzwerk Junge Bürgermeister*innen"
website = "https://www.junge-buergermeister.example"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "https://www.junge-buergermeister.example/impressum"

[storage]
url = "sqlite:///{db}"

[sender]
from_name = "Netzwerk"
from_address = "nl@junge-buergermeister.example"

[[lists]]
name = "members"
title = "Mitglieder"
reason = "Mitglied."
double_opt_in = false

[[lists]]
name = "press"
title = "Presse"
reason = "Presse."
"""


def peak_rss_of_import(folder: Path, csv_path: Path, *extra: str) -> tuple[float, int]:
    """Peak RSS (MB) of a fresh process running ``rundbrief subscribers import`` on
    ``csv_path`` into a new store, and its exit status."""
    db = folder / f"{csv_path.stem}.db"
    config = folder / f"{csv_path.stem}.toml"
    config.write_text(CONFIG.format(db=db), "utf-8")
    out = folder / f"{csv_path.stem}.rss"
    env = {**os.environ, "RUNDBRIEF_SECRET": os.environ.get("RUNDBRIEF_SECRET", "b" * 40)}
    command = ["subscribers", "import", str(csv_path), "--list", "members", *extra]
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(out), "--config", str(config), *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        check=False,
    )
    peak = float(out.read_text()) if out.exists() else float("nan")
    for path in (db, config, out, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    return peak, done.returncode


def child(out: str, argv: list[str]) -> None:
    """Run the CLI in this process, then write its peak RSS in MB to ``out``."""
    from pipeline.cli import main as cli

    code = 0
    try:
        cli(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    Path(out).write_text(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
    sys.exit(code)


def memory(sizes: list[int], *, bad: bool, as_json: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="rundbrief-bench-import-"))
    kind = "bad" if bad else "good"
    print(f"peak RSS of `rundbrief subscribers import` (fresh process, {kind} rows):")
    base = None
    for rows in sizes:
        csv_path = folder / f"rows-{rows}.csv"
        generate(csv_path, rows, bad=bad)
        start = time.perf_counter()
        peak, code = peak_rss_of_import(folder, csv_path, *(["--json"] if as_json else []))
        wall = time.perf_counter() - start
        csv_path.unlink()
        base = peak if base is None else base
        print(f"{rows:>10,} rows: {peak:6.1f} MB (+{peak - base:5.1f}), exit {code}, {wall:6.1f} s")
    folder.rmdir()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--memory", action="store_true", help="peak RSS per file size")
    parser.add_argument("--sizes", default="10000,100000,300000,1000000")
    parser.add_argument("--bad", action="store_true", help="--memory: every row bad")
    parser.add_argument("--json", action="store_true", help="--memory: import with --json")
    args = parser.parse_args()
    if args.memory:
        memory([int(n) for n in args.sizes.split(",")], bad=args.bad, as_json=args.json)
        return

    folder = Path(tempfile.mkdtemp(prefix="rundbrief-bench-import-"))
    csv_path = folder / "subscribers.csv"
    generate(csv_path, args.rows)
    settings = settings_from_dict(
        {
            "organisation": {
                "name": "Netzwerk Junge Bürgermeister*innen",
                "website": "https://www.junge-buergermeister.example",
                "postal_address": "Marienstraße 6, 10117 Berlin",
                "imprint_url": "https://www.junge-buergermeister.example/impressum",
            },
            "storage": {"url": f"sqlite:///{folder / 'bench.db'}"},
            "lists": [
                {"name": "members", "title": "Mitglieder", "reason": "Mitglied."},
                {"name": "press", "title": "Presse", "reason": "Presse."},
            ],
            "sender": {"from_name": "Netzwerk", "from_address": "nl@junge-buergermeister.example"},
        },
        source="bench",
        base_dir=str(folder),
    )
    changed_path = folder / "subscribers-changed.csv"
    generate(changed_path, args.rows, edition=1)
    store = Store.open(settings.database_url())
    runs = []
    for label, path in (
        ("first import (all new)", csv_path),
        ("re-import (all changed)", changed_path),
        ("re-import (unchanged)", changed_path),
    ):
        start, cpu = time.perf_counter(), time.process_time()
        report = import_file(settings, store, path, clock=SystemClock(), list_name="members")
        runs.append((label, time.perf_counter() - start, time.process_time() - cpu, report))
    store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = csv_path.stat().st_size / 1e6
    first = runs[0][3]
    print(f"import: {first.rows:,} rows ({size_mb:.1f} MB CSV), {len(first.errors)} bad")
    # CPU time too: on a shared machine the wall clock also measures the neighbours.
    for label, wall, used, report in runs:
        print(
            f"{label:24} {wall:6.2f} s wall {report.rows / wall:9,.0f} rows/s | "
            f"{used:6.2f} s CPU {report.rows / used:9,.0f} rows/s  "
            f"({report.created} new, {report.updated} updated, {report.unchanged} unchanged)"
        )
    print(f"peak RSS: {peak_mb:.1f} MB")
    ok = all(r.rows / wall >= 20_000 for _, wall, _, r in runs) and peak_mb < 200
    print("targets (>= 20,000 rows/s, < 200 MB):", "met" if ok else "NOT met")
    if not args.keep:
        for item in folder.iterdir():
            item.unlink()
        folder.rmdir()
    else:
        print(f"kept: {folder}")


if __name__ == "__main__":
    main()
