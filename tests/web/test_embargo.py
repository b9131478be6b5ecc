"""A release under embargo in the public archive (issue 13): it arrives before the
embargo, with the notice, and the archive answers 404 until the embargo second, then
the page exactly as sent. With a controlled clock, and once in real time."""

from __future__ import annotations

import email
import email.policy
import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from pipeline.access import Actor, Role
from pipeline.clock import FakeClock, SystemClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.store import Store
from pipeline.web import mailview
from tests.deliver.support import add_subscribers
from tests.support.mail_items import add_item
from tests.support.web import make_app, set_editor_env

ANNA = Actor("anna@junge-buergermeister.example", Role.EDITOR)
BERND = Actor("bernd@junge-buergermeister.example", Role.APPROVER)
TITLE = "Junge Bürgermeister*innen fordern ein Investitionsprogramm"


def _mails(settings: Settings) -> list[EmailMessage]:
    folder = Path(settings.delivery.maildir) / "new"
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for p in sorted(folder.iterdir())
    ]


def _release_sent(settings: Settings, store: Store, flow: Workflow, embargo: datetime) -> int:
    clock = flow.clock
    item = add_item(
        store, title=TITLE, kind="press_release", published_at=clock.now() - timedelta(hours=1)
    )
    add_subscribers(store, clock, 3, lists=("press",), prefix="redaktion")
    mailing = flow.compose_press(item, by=ANNA, embargo=embargo)
    flow.approve(mailing.id, by=BERND)
    report = flow.send_now(mailing.id, by=BERND)
    assert report.sent == 3
    return mailing.id


def test_the_release_arrives_before_the_embargo_and_the_archive_waits_for_it(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    flow = Workflow(settings, store, clock)
    embargo = datetime(2026, 6, 19, 12, 0, 0, tzinfo=UTC)  # 14:00 in Berlin, 4 h ahead
    mailing_id = _release_sent(settings, store, flow, embargo)

    mails = _mails(settings)
    assert len(mails) == 3  # delivered now, hours before the embargo
    first = mails[0]
    assert first["Subject"] == f"SPERRFRIST 19.6.2026, 14:00 Uhr: {TITLE}"
    notice = "Sperrfrist: Freitag, 19. Juni 2026, 14:00 Uhr (MESZ)"
    text = first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = first.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert notice in text and notice in html

    clock.set(embargo - timedelta(seconds=1))
    hidden = client.get(f"/archive/{mailing_id}")
    assert hidden.status_code == 404
    # a cache keeping this 404 would hide the release after its embargo
    assert hidden.headers["Cache-Control"] == "no-store"
    assert client.get("/archive").headers["Cache-Control"] == "no-store"
    assert client.get(f"/archive/{mailing_id}/de").status_code == 404
    assert TITLE not in client.get("/archive").get_data(as_text=True)

    clock.set(embargo)  # the embargo second itself
    page = client.get(f"/archive/{mailing_id}")
    assert page.status_code == 200
    rendered = flow.renders(flow.get(mailing_id))["de"]
    neutral = mailview.neutral_values(settings, flow.get(mailing_id), "de")
    own = f"{settings.web.base_url}/archive/{mailing_id}"
    filled = mailview.fill(rendered, neutral)[0]
    assert _framed_copy_of(filled, page.get_data(as_text=True), own)
    assert notice in page.get_data(as_text=True)
    listing = client.get("/archive").get_data(as_text=True)
    assert TITLE in listing


def _wait_for(clock: SystemClock, instant: datetime) -> None:
    """Block until ``clock`` reads ``instant`` (an event wait keyed on the clock)."""
    pause = threading.Event()
    while (left := (instant - clock.now()).total_seconds()) > 0:
        pause.wait(left)


def test_in_real_time_with_a_short_embargo(
    tmp_path: Path, settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_editor_env(monkeypatch, settings)
    real = SystemClock()
    flow = Workflow(settings, store, real)
    embargo = (real.now() + timedelta(seconds=3)).replace(microsecond=0)
    mailing_id = _release_sent(settings, store, flow, embargo)
    assert len(_mails(settings)) == 3 and real.now() < embargo  # arrived before it

    app = make_app(settings, store, real)
    with app.test_client() as client:
        assert client.get(f"/archive/{mailing_id}").status_code == 404
        # Wait for the clock, not a guessed pause: just before the embargo second the
        # page is still 404 (if we got there in time), at it the page is there.
        _wait_for(real, embargo - timedelta(milliseconds=300))
        before = client.get(f"/archive/{mailing_id}").status_code
        if real.now() < embargo:
            assert before == 404
        _wait_for(real, embargo)
        assert real.now() >= embargo
        assert client.get(f"/archive/{mailing_id}").status_code == 200


def _framed_copy_of(html: str, page: str, own_url: str) -> bool:
    """Whether ``page`` holds the mail ``html`` (its body, byte for byte) in the site's
    frame, without the mail's link to its own archive copy."""
    import re

    from pipeline.web.archive_frame import without_links_to

    found = re.search(r"<body[^>]*>(.*)</body>", without_links_to(html, [own_url]), re.S)
    return found is not None and found.group(1) in page and '<main id="inhalt"' in page
