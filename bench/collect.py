"""Benchmark: collect 50 feeds of 200 items each, served on loopback.

Serves WordPress-style RSS 2.0 (content:encoded of about 2 KB of German text with an
image, categories, media:content with a credit) from a threaded ``http.server`` with
ETag support (in a child process, like a real web server elsewhere), then runs
``collect`` twice against a fresh SQLite store:

- first collect: everything is new (fetched, parsed, sanitized, stored): wall time, items/s
- second collect: every feed unchanged (304): wall time
- peak RSS of the process

Targets on a 2-core machine: first ≥ 2,000 items/s, second < 1 s, peak RSS < 150 MB.

    .venv/bin/python bench/collect.py [--feeds 50] [--items 200] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import multiprocessing
import pstats
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.clock import SystemClock
from pipeline.collect import collect
from pipeline.config import settings_from_dict
from pipeline.store import Store
from pipeline.store.items import count_items

SITE = "https://www.junge-buergermeister.example"
PARAGRAPHS = [
    "Das Netzwerk Junge Bürgermeister*innen ist ein Netzwerk von Bürgermeister*innen, die bei "
    "ihrer Wahl jünger als 40 Jahre alt waren.",
    "Unter dem Motto „Mit starken Kommunen Zukunft gestalten“ behandelte die Konferenz "
    "hochrelevante Themen und bot vielfältige Möglichkeiten für fachlichen Austausch.",
    "Die Bürgermeister*innen setzen nicht nur Richtlinien vom Bund, aus den Ländern oder "
    "Vorgaben der Landkreise um, sie setzen auch eigene Akzente in ihren Gemeinden.",
    "Ebenfalls diskutiert wurde der Umgang mit Fördermitteln: immer mehr finanzielle Mittel "
    "müssten erst über Fördermittel beantragt werden.",
    "Auf Workshops wurde besprochen, wie junge Bürgermeisterinnen ihre „Kommune 2030“ "
    'vorbereiten können, mehr im <a href="/kommune-2030/">Dossier</a>.',
]


def make_feed(number: int, items: int, now: datetime) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><title>Feed {number} – Netzwerk Junge Bürgermeister*innen</title>"
        f"<link>{SITE}/</link><description>Aktuelles</description><language>de-DE</language>"
    ]
    for i in range(items):
        post = number * 10_000 + i
        when = format_datetime(now - timedelta(minutes=37 * i + number))
        body = "".join(f"<p>{PARAGRAPHS[(i + k) % len(PARAGRAPHS)]}</p>" for k in range(8))
        parts.append(
            f"<item><title>Beitrag {post}: Bürgermeister*innen im Gespräch</title>"
            f"<link>{SITE}/{number}/beitrag-{post}/</link>"
            f"<dc:creator><![CDATA[Redaktion NJB]]></dc:creator><pubDate>{when}</pubDate>"
            "<category><![CDATA[Gemeinschaft]]></category><category><![CDATA[Digitales]]></category>"
            f'<guid isPermaLink="false">{SITE}/?p={post}</guid>'
            f"<description><![CDATA[{PARAGRAPHS[i % len(PARAGRAPHS)]} […]]]></description>"
            "<content:encoded><![CDATA["
            f'<figure><img src="/wp-content/uploads/{post}.jpg" alt="Bild {post}" width="1024" '
            f'height="683" /><figcaption>Netzwerktreffen in Berlin. ©NJB/Sebastian Bolesch'
            f"</figcaption></figure>{body}]]></content:encoded>"
            f'<media:content url="{SITE}/wp-content/uploads/{post}.jpg" medium="image">'
            "<media:credit>©NJB/Sebastian Bolesch</media:credit></media:content></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def serve(feeds: dict[str, bytes]) -> ThreadingHTTPServer:
    etags = {
        path: '"' + hashlib.sha256(body).hexdigest()[:16] + '"' for path, body in feeds.items()
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = feeds.get(self.path)
            if body is None:
                self.send_error(404)
                return
            if self.headers.get("If-None-Match") == etags[self.path]:
                self.send_response(304)
                self.send_header("ETag", etags[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etags[self.path])
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _serve_process(conn: Connection, feeds: int, items: int) -> None:
    now = datetime.now(UTC)
    bodies = {f"/feed/{n}.xml": make_feed(n, items, now) for n in range(feeds)}
    server = serve(bodies)
    conn.send((server.server_address[1], sum(len(b) for b in bodies.values()) / 1e6))
    threading.Event().wait()


def _profile_thread(profilers: list[cProfile.Profile], *_event: object) -> None:
    # Called once at the start of each new thread: hand the thread to its own profiler.
    sys.setprofile(None)
    profiler = cProfile.Profile()
    profilers.append(profiler)
    profiler.enable()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the collect stage.")
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument(
        "--profile", action="store_true", help="Print a profile of run 1 (all threads)."
    )
    args = parser.parse_args(argv)

    total = args.feeds * args.items
    # The server runs in its own process, as a web server would: it must not compete
    # with the collector for this process's interpreter lock or count in its CPU time.
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=_serve_process, args=(child, args.feeds, args.items), daemon=True
    )
    server.start()
    port, megabytes = parent.recv()
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_from_dict(
            {
                "organisation": {
                    "name": "Netzwerk Junge Bürgermeister*innen",
                    "website": SITE,
                    "postal_address": "Marienstraße 6, 10117 Berlin",
                    "imprint_url": f"{SITE}/impressum",
                },
                "sender": {"from_name": "Netzwerk", "from_address": "news@example.org"},
                "storage": {"url": f"sqlite:///{tmp}/bench.db"},
                "collect": {"backfill_days": 365},
                "feeds": [
                    {"name": f"feed-{n}", "url": f"http://127.0.0.1:{port}/feed/{n}.xml"}
                    for n in range(args.feeds)
                ],
                "compose": {"newsletter_lists": [], "press_lists": []},
            },
            source="bench",
            base_dir=tmp,
        )
        store = Store.open(settings.database_url())
        clock = SystemClock()
        profiler = cProfile.Profile() if args.profile else None
        thread_profilers: list[cProfile.Profile] = []
        if profiler:
            # the fetch threads work too: profile them as well
            threading.setprofile(partial(_profile_thread, thread_profilers))

        started, cpu = time.perf_counter(), _cpu()
        if profiler:
            profiler.enable()
        first = collect(settings, store, clock=clock)
        if profiler:
            profiler.disable()
            threading.setprofile(None)  # type: ignore[arg-type]
        first_time, first_cpu = time.perf_counter() - started, _cpu() - cpu

        started = time.perf_counter()
        second = collect(settings, store, clock=clock)
        second_time = time.perf_counter() - started
        stored = count_items(store)
        store.close()
    server.terminate()
    server.join()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    statuses = sorted({f.status for f in second.feeds})
    print(f"feeds: {args.feeds} × {args.items} items = {total} items, {megabytes:.1f} MB of RSS")
    print(
        f"first collect:  {first_time:.2f} s, {first.new / first_time:,.0f} items/s "
        f"({first.new} new, ok={first.ok})"
    )
    print(
        f"                CPU {first_cpu:.2f} s (this process, all threads): "
        f"{first.new / first_cpu:,.0f} items per CPU second"
    )
    print(f"second collect: {second_time:.3f} s (statuses: {', '.join(statuses)})")
    print(f"peak RSS:       {peak_mb:.0f} MB")
    print(f"items stored:   {stored}")
    if profiler:
        stats = pstats.Stats(profiler)
        for thread_profiler in thread_profilers:
            thread_profiler.disable()
            stats.add(thread_profiler)
        print("profile of run 1, all threads (time in a thread includes waiting for the GIL):")
        stats.sort_stats("cumulative").print_stats(30)
    ok = (
        first.new == total
        and first.new / first_time >= 2000
        and second_time < 1.0
        and peak_mb < 150
    )
    print("targets (≥ 2,000 items/s, < 1 s, < 150 MB):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
