"""Import memory stays flat as the file grows: the real command in a fresh process, its
peak RSS for a 20,000-row and a 200,000-row file (half of the rows bad, a tenth of the
good ones duplicates, so the report and the duplicate check grow with the file too)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.audience.test_cli import CONFIG
from tests.support.settings import write_config

# What a 20,000-row import peaks at plus at most this. Measured: +10 to +16 MB (SQLite's
# page caches of the store and the temporary table fill up, and stay so from 100,000 to
# 1,000,000 rows); before, +238 MB (every address and every report line held).
GROWTH_LIMIT_MB = 20

CHILD = """
import resource, sys
from pipeline.cli import main
try:
    main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.exit(code)
"""


def _write(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("email,first_name,last_name,region\n")
        for n in range(rows):
            if n % 2:
                out.write(f"kaputt-{n}.verein.example,Anna,Bär,Süd\n")  # no @
            elif n % 20 == 10:
                out.write(f"p{n - 10}@verein.example,Anna,Bär,Süd\n")  # duplicate
            else:
                out.write(f"p{n}@verein.example,Anna,Bär,=Süd {n % 7}\n")  # a notice each
    return path


def _peak_mb(tmp_path: Path, rows: int) -> tuple[float, dict[str, object]]:
    folder = tmp_path / str(rows)
    folder.mkdir()
    config = write_config(folder, CONFIG)
    csv = _write(folder / "list.csv", rows)
    rss, out = folder / "rss", folder / "out.json"
    command = ["subscribers", "import", str(csv), "--list", "members", "--json"]
    with out.open("wb") as stdout:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(rss), "--config", str(config), *command],
            stdout=stdout,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            timeout=120,
            check=False,
        )
    assert done.returncode == 1, done.stderr.decode()
    return int(rss.read_text()) / 1024, json.loads(out.read_text("utf-8"))


def test_import_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small, _ = _peak_mb(tmp_path, 20_000)
    large, report = _peak_mb(tmp_path, 200_000)
    # the report is complete all the same
    errors = report["errors"]
    assert isinstance(errors, list) and len(errors) == 100_000 + 10_000
    assert [e["line"] for e in errors] == sorted(e["line"] for e in errors)
    assert errors[-1]["line"] == 200_001
    duplicate = next(e for e in errors if e["line"] == 199_992)
    assert duplicate["reason"] == "duplicate address (already on line 199982)"
    assert report["created"] == 90_000 and len(report["notices"]) == 90_000  # type: ignore[arg-type]
    print(f"peak RSS {small:.1f} MB -> {large:.1f} MB")
    assert large - small < GROWTH_LIMIT_MB, f"{small:.1f} MB -> {large:.1f} MB"
