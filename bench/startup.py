"""Start-up benchmark: how long a ``rundbrief`` command takes before it does any work.

    python bench/startup.py [--runs 7] [--feeds 50] [--items 20] [--r2e PATH] [--no-r2e]

Each figure is the wall time of a fresh process (the best of ``--runs``, and the median)
and its CPU time (user + system, the best run: steadier than wall time when other work
shares the machine), next to ``python -c pass`` measured in the same run:

- ``rundbrief --version`` and ``rundbrief --help`` (no command module, no library);
- ``rundbrief subscribers count`` on an empty store (opens and migrates the store only);
- ``rundbrief collect`` of 50 feeds that have not changed: a loopback HTTP server (in this
  process) answers 304 to the conditional requests, after a first collect stored the
  ETags;
- rss2email (``r2e run --no-send``) on the same 50 feeds, also after a first run, so that
  its run is "unchanged" too. It is taken from ``--r2e``, else from PATH, else installed
  with pip into a venv under var/bench/ (once).

Targets on a 2-core machine: ``--version`` ≤ 0.2 s, ``subscribers count`` ≤ 0.5 s, the
unchanged collect faster than rss2email.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.collect import make_feed, serve  # noqa: E402 - the ETag/304 feed server


class Figure(NamedTuple):
    best: float  # wall seconds, the best run
    median: float  # wall seconds
    cpu: float  # user + system seconds, the best run (steadier on a busy machine)


SITE = "https://www.junge-buergermeister.example"
R2E_VENV = REPO / "var" / "bench" / "rss2email"

CONFIG = """\
[organisation]
name = "Netzwerk Junge Bürgermeister*innen"
website = "{site}"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "{site}/impressum"

[storage]
url = "sqlite:///{db}"

[collect]
backfill_days = 365

[compose]
newsletter_lists = ["members"]
press_lists = ["press"]

[sender]
from_name = "Netzwerk"
from_address = "newsletter@junge-buergermeister.example"

[[lists]]
name = "members"
title = "Mitglieder"
reason = "Sie sind Mitglied."

[[lists]]
name = "press"
title = "Presse"
reason = "Sie sind im Presseverteiler."
"""


def rundbrief() -> list[str]:
    """The installed console script (what an operator runs), else ``python -m pipeline``."""
    script = Path(sys.executable).with_name("rundbrief")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]


def run(cmd: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``cmd``; a failure stops
    the benchmark with its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu


def timed(cmd: list[str], runs: int, cwd: Path | None = None) -> Figure:
    """Best and median wall time and best CPU time of ``runs`` fresh processes."""
    times = [run(cmd, cwd) for _ in range(runs)]
    walls = [wall for wall, _ in times]
    return Figure(min(walls), statistics.median(walls), min(cpu for _, cpu in times))


def find_r2e(given: str | None) -> str | None:
    if given:
        return given
    on_path = shutil.which("r2e")
    if on_path:
        return on_path
    r2e = R2E_VENV / "bin" / "r2e"
    if not r2e.exists():
        print(f"installing rss2email into {R2E_VENV.relative_to(REPO)} (once) …", flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(R2E_VENV)], check=True)
            subprocess.run(
                [str(R2E_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "rss2email"],
                check=True,
            )
        except subprocess.CalledProcessError as exc:
            print(f"rss2email could not be installed ({exc}); its figure is left out")
            return None
    return str(r2e)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the start-up of rundbrief.")
    parser.add_argument("--runs", type=int, default=7, help="Fresh processes per figure.")
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--items", type=int, default=20, help="Items per feed.")
    parser.add_argument("--r2e", help="The r2e command of rss2email to compare with.")
    parser.add_argument("--no-r2e", action="store_true", help="Leave rss2email out.")
    args = parser.parse_args(argv)

    now = datetime.now(UTC)
    server = serve({f"/feed/{n}.xml": make_feed(n, args.items, now) for n in range(args.feeds)})
    base = f"http://127.0.0.1:{server.server_address[1]}/feed"
    rb = rundbrief()
    figures: dict[str, Figure] = {}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        figures["python -c pass"] = timed([sys.executable, "-c", "pass"], args.runs)
        figures["rundbrief --version"] = timed([*rb, "--version"], args.runs)
        figures["rundbrief --help"] = timed([*rb, "--help"], args.runs)

        empty = home / "empty.toml"
        empty.write_text(CONFIG.format(site=SITE, db=home / "empty.db"), encoding="utf-8")
        run([*rb, "--config", str(empty), "check"])  # the store exists, migrated, empty
        count_label = "rundbrief subscribers count (empty store)"
        figures[count_label] = timed(
            [*rb, "--config", str(empty), "subscribers", "count"], args.runs
        )

        feeds = home / "feeds.toml"
        feeds.write_text(
            CONFIG.format(site=SITE, db=home / "feeds.db")
            + "".join(
                f'\n[[feeds]]\nname = "feed-{n}"\nurl = "{base}/{n}.xml"\n'
                for n in range(args.feeds)
            ),
            encoding="utf-8",
        )
        collect = [*rb, "--config", str(feeds), "collect"]
        run(collect)  # the first collect stores the items and the ETags
        collect_label = f"rundbrief collect, {args.feeds} feeds unchanged (304)"
        figures[collect_label] = timed(collect, args.runs)

        r2e = None if args.no_r2e else find_r2e(args.r2e)
        r2e_label = f"r2e run --no-send, the same {args.feeds} feeds"
        if r2e:
            config = home / "rss2email.cfg"
            config.write_text(
                "[DEFAULT]\nto = bench@example.org\n"
                + "".join(f"\n[feed.feed-{n}]\nurl = {base}/{n}.xml\n" for n in range(args.feeds)),
                encoding="utf-8",
            )
            r2e_run = [r2e, "-c", str(config), "-d", str(home / "rss2email.json")]
            r2e_run += ["run", "--no-send"]
            run(r2e_run)  # its first run marks every item as seen and stores the ETags
            figures[r2e_label] = timed(r2e_run, args.runs)
    server.shutdown()

    python = figures["python -c pass"]
    width = max(map(len, figures))
    print(f"start-up, {args.runs} fresh processes each; ratio to python -c pass:")
    print(
        f"  {'':<{width}}  {'best wall':>9}  {'median':>6}  {'ratio':>5}  {'CPU':>6}  {'ratio':>5}"
    )
    for label, f in figures.items():
        print(
            f"  {label:<{width}}  {f.best:7.3f} s  {f.median:6.3f}  {f.best / python.best:4.1f}×"
            f"  {f.cpu:6.3f}  {f.cpu / python.cpu:4.1f}×"
        )
    version, count = figures["rundbrief --version"].best, figures[count_label].best
    targets = {
        "rundbrief --version ≤ 0.2 s": version <= 0.2,
        "subscribers count ≤ 0.5 s": count <= 0.5,
    }
    if r2e_label in figures:
        ours, theirs = figures[collect_label], figures[r2e_label]
        print(
            f"  unchanged collect / rss2email: {ours.best / theirs.best:.2f}× wall, "
            f"{ours.cpu / theirs.cpu:.2f}× CPU"
        )
        targets["unchanged collect faster than rss2email"] = ours.best < theirs.best
    for target, met in targets.items():
        print(f"target {target}: {'met' if met else 'NOT met'}")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
