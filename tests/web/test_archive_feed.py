"""The archive's Atom feed: the archive's entries, valid Atom, a release after its embargo."""

from __future__ import annotations

from datetime import timedelta

import feedparser
from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.models import MailingKind, MailingStatus
from pipeline.store import Store
from tests.support import mailings as mailing_ops
from tests.support.mailings import render_mailing
from tests.support.web import seed_mailing
from tests.web.test_archive import _send


def _feed(client: FlaskClient) -> feedparser.FeedParserDict:
    response = client.get("/archive/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.get_data())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def test_feed_lists_the_sent_mailings_newest_first(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    first = _send(settings, store, clock, seed_mailing(store, clock, subject="Ausgabe Mai"))
    clock.advance(days=7)
    second = _send(settings, store, clock, seed_mailing(store, clock, subject="Ausgabe Juni"))
    seed_mailing(store, clock, subject="Geheimer Entwurf")
    parsed = _feed(client)
    titles = [e.title for e in parsed.entries]
    assert titles == ["Ausgabe Juni", "Ausgabe Mai"]
    top = parsed.entries[0]
    assert top.link == f"{settings.web.base_url}/archive/{second.id}"
    assert top.id.startswith("tag:") and top.id.endswith(f":archive/{second.id}")
    assert top.id != parsed.entries[1].id
    assert top.updated_parsed is not None
    assert "Netzwerktreffen" in top.summary and "Hallo" not in top.summary
    assert "@example.org" not in top.summary
    # Ids never change from one fetch to the next.
    assert _feed(client).entries[1].id == parsed.entries[1].id
    assert first.id != second.id


def test_feed_shows_a_release_only_after_its_embargo(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    embargo = clock.now() + timedelta(hours=2)
    press = seed_mailing(
        store,
        clock,
        items=1,
        kind=MailingKind.PRESS,
        subject="Pressemitteilung: Förderfibel erschienen",
        lists=["press"],
        send_at=embargo,
    )
    render_mailing(settings, store, press.id, clock=clock)
    mailing_ops.approve(store, press.id, clock=clock, by="redaktion")
    mailing_ops.set_status(store, press.id, MailingStatus.SENDING, clock=clock)
    assert [e.title for e in _feed(client).entries] == []
    clock.advance(hours=2)
    assert [e.title for e in _feed(client).entries] == ["Pressemitteilung: Förderfibel erschienen"]


def test_archive_index_links_the_feed(client: FlaskClient) -> None:
    html = client.get("/archive").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml" href="/archive/feed.atom"' in html
