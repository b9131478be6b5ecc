"""Send benchmark: build rate, end-to-end rate over SMTP, peak memory, the sink's ceiling.

    python bench/send.py [--recipients 100000] [--keep]

1. N subscribers in a fresh SQLite store and a real newsletter (composed and rendered by
   the pipeline from the seed article).
2. Build: every recipient's message personalised and assembled, no network.
3. End to end: ``send_mailing`` over SMTP to Postfix's ``smtp-sink`` on loopback, with 1
   and with 4 connections (recording the deliveries, claiming, sending, marking).
4. The sink's own ceiling: Postfix's ``smtp-source`` with the same message size and
   number of connections, so the ratio shows what is ours and what is the sink's.
5. Peak RSS of this process (it must not grow with the list).

Targets on a 2-core machine: build ≥ 3,000/s; end to end ≥ 1,000/s with 4 connections;
peak RSS < 100 MB at 100,000 recipients.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select  # noqa: E402

from pipeline.clock import SystemClock  # noqa: E402
from pipeline.config import Settings, settings_from_dict  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.store.schema import mailings, renders, subscribers, subscriptions  # noqa: E402

SINK = "/usr/sbin/smtp-sink"
SOURCE = "/usr/sbin/smtp-source"
SECRET = "bench-secret-0123456789abcdef0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_for(folder: Path, port: int, connections: int) -> Settings:
    data: dict[str, Any] = {
        "organisation": {
            "name": "Netzwerk Junge Bürgermeister*innen",
            "website": "https://www.junge-buergermeister.example",
            "postal_address": "Marienstraße 6, 10117 Berlin",
            "imprint_url": "https://www.junge-buergermeister.example/impressum",
        },
        "storage": {"url": f"sqlite:///{folder / 'bench.db'}"},
        "lists": [
            {
                "name": "members",
                "title": "Mitglieder-Newsletter",
                "reason": "Sie erhalten diese E-Mail als Mitglied des Netzwerks.",
                "double_opt_in": False,
            }
        ],
        "sender": {
            "from_name": "Netzwerk Junge Bürgermeister*innen",
            "from_address": "newsletter@junge-buergermeister.example",
            "reply_to": "kontakt@junge-buergermeister.example",
            "unsubscribe_mailto": "abmelden@junge-buergermeister.example",
        },
        "compose": {"press_lists": ["members"]},
        # a public name, as `rundbrief check` asks of smtp (nothing is fetched from it)
        "web": {"base_url": "https://rundbrief.junge-buergermeister.de"},
        "delivery": {"transport": "smtp", "per_second": 1_000_000, "batch_size": 500},
        "smtp": {"host": "127.0.0.1", "port": port, "connections": connections},
    }
    return settings_from_dict(data, source="bench", base_dir=str(folder))


def add_subscribers(store: Store, n: int) -> None:
    now = datetime.now(UTC)
    step = 5000
    for start in range(0, n, step):
        subs, rows = [], []
        for i in range(start, min(n, start + step)):
            email = f"mitglied{i:07d}@kommune-{i % 97}.example"
            subs.append(
                {
                    "id": i + 1,
                    "email": email,
                    "email_hash": hashlib.sha256(email.encode()).hexdigest(),
                    "first_name": "Jürgen" if i % 2 else "Anna-Lena",
                    "last_name": f"Müller-Lüdenscheidt {i}",
                    "salutation": "Herr" if i % 2 else "Frau",
                    "title": "Dr." if i % 5 == 0 else "",
                    "language": "de",
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                }
            )
            rows.append(
                {
                    "subscriber_id": i + 1,
                    "list_name": "members",
                    "status": "active",
                    "source": "import:bench",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        with store.begin() as conn:
            conn.execute(insert(subscribers), subs)
            conn.execute(insert(subscriptions), rows)


def real_newsletter(settings: Settings, store: Store) -> int:
    """A newsletter composed and rendered by the pipeline, approved."""
    from pipeline.access import Actor, Role
    from pipeline.mailings import Workflow
    from tests.support.mail_items import add_items

    clock = SystemClock()
    add_items(store, clock.now(), count=6)
    flow = Workflow(settings, store, clock)
    bench = Actor("bench@localhost", Role.APPROVER)  # who composes and approves
    mailing = flow.compose_newsletter(by=bench)
    assert mailing is not None, "nothing to compose"
    flow.approve(mailing.id, by=bench)
    return mailing.id


def clone_mailing(store: Store, source_id: int) -> int:
    """Another approved mailing with the same render (a sent one is never sent again)."""
    with store.begin() as conn:
        m = conn.execute(select(mailings).where(mailings.c.id == source_id)).one()._asdict()
        r = conn.execute(select(renders).where(renders.c.mailing_id == source_id)).all()
        for key in ("id", "period_key", "approved_by"):
            m.pop(key, None)
        new_id = int(conn.execute(insert(mailings).values(**m)).inserted_primary_key[0])
        for row in r:
            conn.execute(insert(renders).values(**{**row._asdict(), "mailing_id": new_id}))
    return new_id


def build_rate(settings: Settings, store: Store, mailing_id: int, n: int) -> tuple[float, int]:
    from pipeline.audience import iter_recipients
    from pipeline.deliver.message import MessageBuilder
    from pipeline.store.renders import load_render

    rendered = load_render(store, mailing_id, "de")
    assert rendered is not None
    builder = MessageBuilder(settings, rendered, list_name="members", secret=SECRET)
    spent = 0.0
    count = 0
    size = 0
    for recipient in iter_recipients(store, ["members"], batch_size=1000):
        t = time.perf_counter()
        message = builder.build(recipient, delivery_id=count + 1)
        spent += time.perf_counter() - t
        size = max(size, len(message.data))
        count += 1
    assert count == n
    return count / spent, size


def end_to_end(settings: Settings, store: Store, mailing_id: int) -> tuple[float, float, int]:
    from pipeline.deliver.outbox import Progress, send_mailing

    first: list[float] = []

    def progress(_p: Progress) -> None:
        if not first:
            first.append(time.monotonic())

    start = time.monotonic()
    report = send_mailing(settings, store, mailing_id, clock=SystemClock(), progress=progress)
    end = time.monotonic()
    assert report.status == "sent", report
    return report.sent / (end - start), report.sent / (end - first[0]), report.sent


def sink_ceiling(port: int, connections: int, size: int, count: int) -> float:
    start = time.monotonic()
    subprocess.run(
        [
            SOURCE, "-s", str(connections), "-m", str(count), "-l", str(size),
            "-f", "newsletter@junge-buergermeister.example", "-t", "probe@kommune.example",
            f"127.0.0.1:{port}",
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )  # fmt: skip
    return count / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    n = args.recipients
    if not (os.access(SINK, os.X_OK) and os.access(SOURCE, os.X_OK)):
        sys.exit("bench/send.py needs Postfix's smtp-sink and smtp-source (Debian: postfix)")
    os.environ.setdefault("RUNDBRIEF_SECRET", SECRET)
    folder = Path(tempfile.mkdtemp(prefix="rundbrief-bench-"))
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen([SINK, *user, f"127.0.0.1:{port}", "1024"])
    try:
        time.sleep(0.3)
        settings = settings_for(folder, port, 1)
        store = Store.open(settings.database_url())
        t = time.monotonic()
        add_subscribers(store, n)
        print(f"recipients:            {n:,} (inserted in {time.monotonic() - t:.1f} s)")
        first = real_newsletter(settings, store)
        second = clone_mailing(store, first)
        rate, size = build_rate(settings, store, first, n)
        print(f"message size:          {size / 1000:.1f} KB (largest)")
        print(f"build:                 {rate:,.0f} messages/s (target ≥ 3,000)")
        results = {}
        for connections in (1, 4):
            mailing_id = first if connections == 1 else second
            conf = settings_for(folder, port, connections)
            overall, sending, sent = end_to_end(conf, store, mailing_id)
            ceiling = sink_ceiling(port, connections, size, min(n, 20_000))
            results[connections] = overall
            print(
                f"end to end, {connections} conn.:   {overall:,.0f} messages/s "
                f"({sending:,.0f}/s after recording {sent:,} deliveries); "
                f"smtp-source ceiling {ceiling:,.0f}/s, ratio {overall / ceiling:.2f}"
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS:              {peak:.0f} MB (target < 100 MB)")
        print(f"target end to end ≥ 1,000/s with 4 connections: {results[4]:,.0f}/s")
        store.close()
    finally:
        sink.terminate()
        sink.wait()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")


if __name__ == "__main__":
    main()
