"""The public archive: only what went out, the very render that was sent, no personal data."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.models import Mailing, MailingKind, MailingStatus
from pipeline.store import Store
from pipeline.store.renders import load_render as load_rendered
from tests.support import mailings as mailing_ops
from tests.support.mailings import render_mailing
from tests.support.web import seed_mailing


def _send(settings: Settings, store: Store, clock: FakeClock, mailing: Mailing) -> Mailing:
    """Take a draft the way the sender does: render, approve, sending, sent."""
    render_mailing(settings, store, mailing.id, clock=clock)
    mailing_ops.approve(store, mailing.id, clock=clock, by="redaktion")
    mailing_ops.set_status(store, mailing.id, MailingStatus.SENDING, clock=clock)
    clock.advance(minutes=5)
    return mailing_ops.set_status(store, mailing.id, MailingStatus.SENT, clock=clock)


def test_lists_only_what_went_out(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    sent = _send(settings, store, clock, seed_mailing(store, clock, subject="Ausgabe Juni"))
    seed_mailing(store, clock, subject="Geheimer Entwurf")
    cancelled = seed_mailing(store, clock, subject="Abgesagte Ausgabe")
    mailing_ops.cancel(store, cancelled.id, clock=clock)

    response = client.get("/archive")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Ausgabe Juni" in html
    assert f'href="/archive/{sent.id}"' in html
    assert "Geheimer Entwurf" not in html
    assert "Abgesagte Ausgabe" not in html
    assert "19. Juni 2026" in html  # the date it was sent, in German
    assert "Set-Cookie" not in response.headers


def test_shows_the_sent_render_without_personal_data(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = _send(settings, store, clock, seed_mailing(store, clock))
    response = client.get(f"/archive/{mailing.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    stored = load_rendered(store, mailing.id, "de")
    assert stored is not None
    # The same render: everything outside the placeholders is byte for byte what was
    # sent, but for the link to itself and the site's frame around the mail.
    own = re.escape(f'<a href="{settings.web.base_url}/archive/{mailing.id}"')
    cuts = f"⟦[A-Z_]+⟧|{own}[^>]*>[^<]*</a>(?:\\s*·\\s*)?|</head>|<body[^>]*>|</body>"
    for piece in re.split(cuts, stored.html):
        assert piece is None or piece in html
    assert "⟦" not in html
    assert "Netzwerktreffen der jungen Bürgermeister" in html
    # Nobody's name, address or token: a neutral salutation, generic unsubscribe links.
    assert "Hallo," in html
    assert "Erika" not in html and "@example.org" not in html
    assert "/u/" not in html and "/p/" not in html
    info = f"{settings.web.base_url}/archive/unsubscribe-info"
    assert f'href="{info}"' in html
    # The copy is shown in the site's frame, without the mail's link to itself.
    assert f'href="{settings.web.base_url}/archive/{mailing.id}"' not in html
    assert "Im Browser ansehen" not in html
    assert "Zurück zum Archiv" in html and 'href="/archive"' in html
    assert '<main id="inhalt"' in html and 'href="#inhalt"' in html
    assert "<header" in html and "<footer" in html
    assert settings.organisation.name in html
    assert 'href="/archive/feed.atom"' in html
    # What subscribers got keeps its link.
    assert "Im Browser ansehen" in stored.html


def test_archive_copy_is_served_safely(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = _send(settings, store, clock, seed_mailing(store, clock))
    response = client.get(f"/archive/{mailing.id}")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "form-action 'none'" in csp
    assert response.headers["Cache-Control"].startswith("public")
    assert "Set-Cookie" not in response.headers
    assert "<script" not in response.get_data(as_text=True).lower()


def test_unsent_or_unknown_mailings_are_not_found(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    draft = seed_mailing(store, clock)
    render_mailing(settings, store, draft.id, clock=clock)
    assert client.get(f"/archive/{draft.id}").status_code == 404
    mailing_ops.approve(store, draft.id, clock=clock, by="redaktion")
    assert client.get(f"/archive/{draft.id}").status_code == 404
    assert client.get("/archive/4711").status_code == 404
    page = client.get("/archive/4711").get_data(as_text=True)
    assert "gibt es im Archiv nicht" in page


def test_only_the_mailings_languages(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = _send(settings, store, clock, seed_mailing(store, clock))
    assert client.get(f"/archive/{mailing.id}/de").status_code == 200
    assert client.get(f"/archive/{mailing.id}/en").status_code == 404


def test_press_release_appears_only_after_its_embargo(
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
    assert client.get(f"/archive/{press.id}").status_code == 404
    assert "Förderfibel" not in client.get("/archive").get_data(as_text=True)
    clock.advance(hours=2)
    response = client.get(f"/archive/{press.id}")
    assert response.status_code == 200
    assert "Sehr geehrte Damen und Herren" in response.get_data(as_text=True)
    listing = client.get("/archive").get_data(as_text=True)
    assert "Förderfibel" in listing and "Pressemitteilung vom" in listing


def test_unsubscribe_info_page(client: FlaskClient, settings: Settings) -> None:
    response = client.get("/archive/unsubscribe-info")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Abmelden" in html and "Archivfassung" in html
    assert f"mailto:{settings.sender.reply_to}" in html


def test_front_door_leads_to_the_archive_and_sign_up(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/archive"
    assert 'href="/signup"' in client.get("/archive").get_data(as_text=True)
