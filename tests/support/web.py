"""Helpers for web tests: an app with editor credentials, logging in, reading CSRF tokens."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
import uuid
from datetime import timedelta
from html import escape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.models import Mailing, MailingKind
from pipeline.store import Store
from pipeline.store.schema import items as items_table
from pipeline.web import create_app

EDITOR = "redakteurin@junge-buergermeister.example"
PASSWORD = "Pässwort-für-die-Redaktion-2026"
SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def set_editor_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Put the signing secret and the editor's credentials where the config names them."""
    monkeypatch.setenv(settings.web.secret_env, SECRET)
    monkeypatch.setenv(settings.web.editor_user_env, EDITOR)
    monkeypatch.setenv(settings.web.editor_password_env, PASSWORD)


def make_app(settings: Settings, store: Store, clock: Clock, **kwargs: Any) -> Flask:
    app = create_app(settings, store, clock=clock, **kwargs)
    app.config["TESTING"] = True
    return app


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _TOKEN.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(
    client: FlaskClient, user: str = EDITOR, password: str = PASSWORD, code: str | None = None
) -> Any:
    """Log in through the form, as a browser would (GET the form, POST it with its token)."""
    page = client.get("/editor/login")
    token = csrf_from(page.get_data(as_text=True))
    data = {"email": user, "password": password, "csrf_token": token}
    if code is not None:
        data["code"] = code
    return client.post("/editor/login", data=data)


SEED_ARTICLE = Path(__file__).resolve().parent.parent / "fixtures" / "seed-article.txt"


def seed_items(store: Store, clock: Clock, count: int = 3) -> list[int]:
    """Insert ``count`` German items (the seed article first) straight into the store."""
    lines = [line for line in SEED_ARTICLE.read_text(encoding="utf-8").splitlines() if line]
    body = "".join(f"<p>{escape(line)}</p>" for line in lines[4:8])
    now = clock.now()
    ids: list[int] = []
    titles = [
        lines[0],
        "Bürgermeister*innen-Sprechstunde in Görlitz: „Wärmeplanung gemeinsam denken“",
        "Rückblick: Fachtag Glasfaser in Hofstetten",
        "Jahreskonferenz 2026 – Anmeldung geöffnet",
        "Neue Förderfibel für Kommunen erschienen",
    ]
    kinds = ["article", "event_report", "article", "press_release", "article"]
    with store.begin() as conn:
        for n in range(count):
            result = conn.execute(
                insert(items_table).values(
                    identity=f"urn:test:item:{uuid.uuid4().hex}",
                    canonical_link=f"https://www.junge-buergermeister.example/beitrag-{n}",
                    kind=kinds[n % len(kinds)],
                    title=titles[n % len(titles)],
                    link=f"https://www.junge-buergermeister.example/beitrag-{n}",
                    summary=_sentences(lines[4], 2),
                    content_html=body,
                    image_url=f"https://www.junge-buergermeister.example/bilder/{n}.jpg",
                    image_alt="Teilnehmende der Jahreskonferenz in Berlin",
                    image_credit="©NJB/Sebastian Bolesch",
                    author="Redaktion",
                    published_at=now - timedelta(days=n + 1),
                    tags=["Gemeinschaft"],
                    language="de",
                    content_hash=f"{n:064d}",
                    eligible=True,
                    first_seen_at=now,
                    updated_at=now,
                )
            )
            ids.append(int(result.inserted_primary_key[0]))
    return ids


def _sentences(text: str, count: int) -> str:
    parts = text.split(". ")
    return ". ".join(parts[:count]).rstrip(".") + "."


def seed_mailing(store: Store, clock: Clock, *, items: int = 3, **kwargs: Any) -> Mailing:
    """A draft newsletter of freshly inserted items, for the members list, in German."""
    from pipeline.store.mailings import create_mailing

    ids = seed_items(store, clock, items)
    mailing = create_mailing(
        store,
        kind=kwargs.pop("kind", MailingKind.NEWSLETTER),
        subject=kwargs.pop("subject", "Netzwerk Junge Bürgermeister*innen · Newsletter KW 25/2026"),
        item_ids=ids,
        languages=kwargs.pop("languages", ["de"]),
        lists=kwargs.pop("lists", ["members"]),
        clock=clock,
        intro_md=kwargs.pop("intro_md", "Liebe Leserinnen und Leser, **willkommen**!"),
        **kwargs,
    )
    assert mailing is not None
    return mailing


SERVE_CONFIG = """
[organisation]
name = "Netzwerk Junge Bürgermeister*innen"
website = "https://www.junge-buergermeister.example"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "https://www.junge-buergermeister.example/impressum"

[storage]
url = "sqlite:///rundbrief.db"

[delivery]
maildir = "outbox"

[[lists]]
name = "members"
title = "Mitglieder-Newsletter"
reason = "Sie erhalten diese E-Mail als Mitglied des Netzwerks."
double_opt_in = false

[[lists]]
name = "press"
title = "Presseverteiler"
reason = "Sie haben sich für den Presseverteiler angemeldet."

[sender]
from_name = "Netzwerk Junge Bürgermeister*innen"
from_address = "newsletter@junge-buergermeister.example"

[web]
base_url = "http://127.0.0.1:{port}"
port = {port}
proxy_hops = {hops}
"""


def write_serve_config(tmp_path: Path, port: int, *, hops: int = 0) -> Path:
    """A config.toml for a real ``rundbrief serve`` process on ``port``."""
    path = tmp_path / "config.toml"
    path.write_text(SERVE_CONFIG.format(port=port, hops=hops), encoding="utf-8")
    return path


def wait_until_serving(base: str, process: subprocess.Popen[str], *, seconds: float = 60) -> None:
    """Return once a ``rundbrief serve`` process answers HTTP at ``base``.

    Waitress binds its socket after the start-up line is printed and says nothing after
    that, so the only readiness signal is an answer: asked again every 0.1 s (the one
    pause, a poll for the condition, bounded), failing at once if the process ended.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{base}/archive", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {process.communicate()[1]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"serve did not answer within {seconds:g} s")
        time.sleep(0.1)
