"""Sign-up with the SMTP server hanging: the page answers at once, the confirmation is
recorded in the system mail outbox and goes out exactly once when the server is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pipeline.clock import FakeClock
from pipeline.deliver.system import drain_system_mail
from pipeline.store import Store
from pipeline.store import audience as q
from pipeline.store import system_mail as db
from pipeline.web import create_app
from tests.audience.conftest import LiveServer
from tests.deliver.test_system_mail import smtp_settings
from tests.support.smtp import SilentServer, SmtpServer, free_port


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def servers() -> Iterator[list[object]]:
    running: list[object] = []
    yield running
    for server in reversed(running):
        server.stop()  # type: ignore[attr-defined]


def test_signup_answers_at_once_while_smtp_hangs_and_the_confirmation_goes_out_once_later(
    tmp_path: Path,
    port: int,
    store: Store,
    clock: FakeClock,
    servers: list[object],
) -> None:
    settings = smtp_settings(tmp_path, port)
    silent = SilentServer(port)
    app = create_app(settings, store, clock=clock, mail_worker=True)
    site = LiveServer(app).start()
    servers.append(site)
    started = time.monotonic()
    answer = requests.post(
        f"{site.url}/signup",
        json={"email": "spaet@zeitung.example", "list": "press", "consent": True},
        timeout=10,
    )
    assert answer.status_code == 202
    assert time.monotonic() - started < 1.5  # the SMTP timeout is 2 s: it did not wait
    (mail,) = db.list_mail(store)
    assert (mail.kind, mail.recipient) == ("confirmation", "spaet@zeitung.example")

    # The app's worker tries, times out, and keeps it for a retry; nothing is lost.
    app.extensions["rundbrief"].mail_worker.stop()
    assert db.get(store, mail.id).status == "retry"  # type: ignore[union-attr]
    silent.stop()

    server = SmtpServer(port=port).start()
    servers.append(server)
    clock.advance(minutes=10)
    report = drain_system_mail(store, settings, None, clock)
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    assert drain_system_mail(store, settings, None, clock).claimed == 0
    assert [m.rcpt_tos for m in server.messages] == [["spaet@zeitung.example"]]
    assert "/confirm/" in server.messages[0].data.decode()
    with store.connect() as conn:
        person = q.find_subscriber(conn, "spaet@zeitung.example")
        assert person is not None
        sub = q.get_subscription(conn, person.id, "press")
    assert sub is not None and sub.confirm_sent_at == clock.now()
