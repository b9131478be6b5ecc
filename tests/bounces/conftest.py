"""Bounce tests: a store with one sent mailing and its deliveries 101–105, the fixture
reports in tests/fixtures/mail, and VERP on ``bounces.junge-buergermeister.example``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from werkzeug.serving import make_server

from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store.schema import bounce_events, deliveries, mailings, suppressions

MAIL = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
SECRET = "rundbrief-test-secret"
BOUNCE_DOMAIN = "bounces.junge-buergermeister.example"
SENT_AT = datetime(2026, 6, 19, 8, 2, tzinfo=UTC)

# delivery id → address (the fixtures are reports about these deliveries)
PEOPLE = {
    101: "anna.schroeder@example.org",  # Postfix 5.1.1, VERP
    102: "joerg.weiss@example.net",  # Postfix 4.2.2 mailbox full, VERP
    103: "ben.oelmez@gmail.example",  # Gmail 5.1.1, matched by Message-ID
    104: "zoe.celik@example.com",  # Exim X-Failed-Recipients, Message-ID in the text
    105: "eva.gross@mailbox-anbieter.example",  # ARF complaint, VERP
}


def fixture(name: str) -> bytes:
    return (MAIL / name).read_bytes()


def provider_id(mailing_id: int, delivery_id: int) -> str:
    """The id an HTTP provider (Postmark) answered for a delivery of ``add_mailing``."""
    return f"00000000-0000-4000-8000-{mailing_id:04d}{delivery_id:08d}"


def add_mailing(store: Store, mailing_id: int, people: dict[int, str]) -> None:
    with store.begin() as conn:
        conn.execute(
            insert(mailings).values(
                id=mailing_id,
                kind="newsletter",
                status="sent",
                subject="Netzwerk Junge Bürgermeister*innen · Newsletter KW 25/2026",
                languages=["de"],
                lists=["members"],
                period_key=f"newsletter:test-{mailing_id}",
                created_at=SENT_AT,
                updated_at=SENT_AT,
                sent_at=SENT_AT,
            )
        )
        for delivery_id, email in people.items():
            conn.execute(
                insert(deliveries).values(
                    id=delivery_id,
                    mailing_id=mailing_id,
                    email=email,
                    list_name="members",
                    language="de",
                    status="sent",
                    attempts=1,
                    message_id=f"<rb-{mailing_id}-{delivery_id}@junge-buergermeister.example>",
                    provider_message_id=provider_id(mailing_id, delivery_id),
                    sent_at=SENT_AT,
                    created_at=SENT_AT,
                )
            )


@pytest.fixture
def verp_settings(settings_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("RUNDBRIEF_SECRET", SECRET)
    settings: Settings = settings_factory(
        delivery={"bounce_domain": BOUNCE_DOMAIN},
        bounces={"soft_bounces_before_suppress": 2},
    )
    return settings


@pytest.fixture
def sent_store(verp_settings: Settings) -> Iterator[Store]:
    store = Store.open(verp_settings.database_url())
    add_mailing(store, 7, PEOPLE)
    yield store
    store.close()


CONFIG = """
[organisation]
name = "Netzwerk Junge Bürgermeister*innen"
website = "https://www.junge-buergermeister.example"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "https://www.junge-buergermeister.example/impressum"

[storage]
url = "sqlite:///rundbrief.db"

[sender]
from_name = "Netzwerk Junge Bürgermeister*innen"
from_address = "newsletter@junge-buergermeister.example"

[[lists]]
name = "members"
title = "Mitglieder-Newsletter"
reason = "Sie erhalten diese E-Mail als Mitglied."

[[lists]]
name = "press"
title = "Presseverteiler"
reason = "Sie sind im Presseverteiler."

[delivery]
bounce_domain = "bounces.junge-buergermeister.example"

[bounces]
source = "maildir:bounces"
"""


def cli_home(tmp_path: Path, *, verp: bool = True) -> Path:
    """A config.toml (VERP on unless ``verp=False``) and a store with mailing 7 sent to
    ``PEOPLE``, in ``tmp_path``; returns the config's path."""
    text = CONFIG if verp else CONFIG.replace(f'bounce_domain = "{BOUNCE_DOMAIN}"', "")
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    store = Store.open(f"sqlite:///{tmp_path / 'rundbrief.db'}")
    add_mailing(store, 7, PEOPLE)
    store.close()
    return config


@contextmanager
def serving(settings: Settings, store: Store, clock: Any) -> Iterator[str]:
    """The web app on a real loopback HTTP server (werkzeug); yields its base URL."""
    from pipeline.web import create_app

    app = create_app(settings, store, clock=clock)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def suppression_reasons(store: Store) -> dict[str, str]:
    with store.connect() as conn:
        rows = conn.execute(select(suppressions.c.email, suppressions.c.reason)).all()
    return {str(e): str(r) for e, r in rows}


def recorded_events(store: Store) -> list[tuple[str, int | None]]:
    """(kind, delivery id) of every recorded bounce event, in order."""
    with store.connect() as conn:
        rows = conn.execute(
            select(bounce_events.c.kind, bounce_events.c.delivery_id).order_by(bounce_events.c.id)
        ).all()
    return [(str(k), d) for k, d in rows]
