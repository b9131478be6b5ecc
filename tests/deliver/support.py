"""Fixture data for the delivery tests: subscribers, an approved mailing and its render,
inserted straight into a real store (the same rows the other stages write)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert

from pipeline.clock import Clock
from pipeline.render import RenderedMailing
from pipeline.store import Store
from pipeline.store.schema import mailings, renders, subscribers, subscriptions
from tests.support.settings import PUBLIC_BASE_URL
from tests.support.smtp import SmtpServer

SECRET = "test-secret-for-tokens-0123456789abcdef"
SEED = (Path(__file__).resolve().parent.parent / "fixtures" / "seed-article.txt").read_text(
    encoding="utf-8"
)
SEED_TITLE = SEED.splitlines()[0]


def seed_html() -> str:
    paragraphs = [p for p in SEED.split("\n\n") if p.strip()][:8]
    body = "\n".join(f'<p style="margin:0 0 12px">{p}</p>' for p in paragraphs[1:])
    return (
        '<!doctype html>\n<html lang="de">\n<head><meta charset="utf-8">'
        "<title>Newsletter</title></head>\n<body>\n"
        '<table role="presentation" width="100%"><tr><td>\n'
        "<p>⟦SALUTATION⟧,</p>\n"
        f"<h1>{paragraphs[0]}</h1>\n{body}\n"
        '<p><a href="https://www.junge-buergermeister.example/artikel/netzwerktreffen">Weiterlesen</a></p>\n'
        '<p style="font-size:12px">Netzwerk Junge Bürgermeister*innen e. V., Marienstraße 6, '
        "10117 Berlin · "
        '<a href="https://www.junge-buergermeister.example/impressum">Impressum</a><br>\n'
        "Sie erhalten diese E-Mail als Mitglied des Netzwerks. "
        '<a href="⟦UNSUB_URL⟧">Abmelden</a> · <a href="⟦PREFS_URL⟧">Einstellungen</a></p>\n'
        "</td></tr></table>\n</body>\n</html>\n"
    )


def seed_text() -> str:
    paragraphs = [p for p in SEED.split("\n\n") if p.strip()][:8]
    return (
        "⟦SALUTATION⟧,\n\n"
        + "\n\n".join(paragraphs)
        + "\n\nWeiterlesen: https://www.junge-buergermeister.example/artikel/netzwerktreffen\n\n"
        "--\nNetzwerk Junge Bürgermeister*innen e. V., Marienstraße 6, 10117 Berlin\n"
        "Impressum: https://www.junge-buergermeister.example/impressum\n"
        "Abmelden: ⟦UNSUB_URL⟧\nEinstellungen: ⟦PREFS_URL⟧\n"
    )


def rendered(mailing_id: int | None = 1, *, subject: str | None = None) -> RenderedMailing:
    return RenderedMailing(
        mailing_id=mailing_id,
        language="de",
        subject=subject or "Netzwerk Junge Bürgermeister*innen · Newsletter KW 25/2026",
        preheader="Netzwerktreffen in Berlin, „Kommune 2030“",
        html=seed_html(),
        text=seed_text(),
    )


def add_subscribers(
    store: Store,
    clock: Clock,
    count: int,
    *,
    lists: Sequence[str] = ("members",),
    prefix: str = "mitglied",
    start: int = 0,
) -> list[str]:
    """``count`` active subscribers on ``lists``; returns their addresses."""
    now = clock.now()
    emails = []
    with store.begin() as conn:
        for i in range(start, start + count):
            email = f"{prefix}{i:05d}@kommune-{i % 7}.example"
            emails.append(email)
            sid = conn.execute(
                insert(subscribers).values(
                    email=email,
                    email_hash=hashlib.sha256(email.encode()).hexdigest(),
                    first_name="Jürgen" if i % 2 else "Anna-Lena",
                    last_name=f"Müller-Lüdenscheidt {i}",
                    salutation="Herr" if i % 2 else "Frau",
                    language="de",
                    attributes={},
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]
            for name in lists:
                conn.execute(
                    insert(subscriptions).values(
                        subscriber_id=sid,
                        list_name=name,
                        status="active",
                        source="import:test",
                        created_at=now,
                        updated_at=now,
                    )
                )
    return emails


def add_mailing(
    store: Store,
    clock: Clock,
    *,
    status: str = "approved",
    lists: Sequence[str] = ("members",),
    kind: str = "newsletter",
    send_at: datetime | None = None,
    subject: str | None = None,
) -> int:
    now = clock.now()
    r = rendered(None, subject=subject)
    with store.begin() as conn:
        mailing_id = int(
            conn.execute(
                insert(mailings).values(
                    kind=kind,
                    status=status,
                    subject=r.subject,
                    intro_md="",
                    preheader=r.preheader,
                    languages=["de"],
                    lists=list(lists),
                    send_at=send_at,
                    created_at=now,
                    updated_at=now,
                    approved_at=now if status != "draft" else None,
                )
            ).inserted_primary_key[0]
        )
        conn.execute(
            insert(renders).values(
                mailing_id=mailing_id,
                language="de",
                subject=r.subject,
                preheader=r.preheader,
                html=r.html,
                text=r.text,
                content_hash="x" * 64,
                rendered_at=now,
            )
        )
    return mailing_id


def write_config(
    tmp_path: Path,
    *,
    smtp: SmtpServer | None = None,
    url: str | None = None,
    batch_size: int = 200,
    per_second: float = 1000,
) -> Path:
    """A config.toml for a ``rundbrief`` subprocess: SMTP to ``smtp`` or a Maildir."""
    transport = "smtp" if smtp else "maildir"
    smtp_section = f'host = "{smtp.host}"\nport = {smtp.port}\n' if smtp else ""
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[organisation]
name = "Netzwerk Junge Bürgermeister*innen"
website = "https://www.junge-buergermeister.example"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "https://www.junge-buergermeister.example/impressum"

[storage]
url = "{url or f"sqlite:///{tmp_path / 'rundbrief.db'}"}"

[[lists]]
name = "members"
title = "Mitglieder-Newsletter"
reason = "Sie erhalten diese E-Mail als Mitglied."
double_opt_in = false

[[lists]]
name = "press"
title = "Presseverteiler"
reason = "Sie haben sich angemeldet."

[sender]
from_name = "Netzwerk Junge Bürgermeister*innen"
from_address = "newsletter@junge-buergermeister.example"
editors = ["redaktion@junge-buergermeister.example"]

[web]
base_url = "{PUBLIC_BASE_URL}"

[delivery]
transport = "{transport}"
maildir = "{tmp_path / "outbox"}"
batch_size = {batch_size}
per_second = {per_second}

[smtp]
{smtp_section}connections = 2
timeout = 5
""",
        encoding="utf-8",
    )
    return config


class DroppingHttpServer:
    """A loopback HTTP peer that reads each whole request, then closes the connection
    without a word: the request reached the provider, its answer never came back."""

    def __init__(self) -> None:
        import socket
        import threading

        self.requests: list[bytes] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                self.requests.append(_read_request(conn))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


def _read_request(conn: object) -> bytes:
    import socket

    assert isinstance(conn, socket.socket)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class UnreachableListener:
    """A loopback port whose accept queue is full: the kernel drops further SYNs, so a
    client's connect times out and nothing of its request is ever sent."""

    def __init__(self) -> None:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(0)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._fillers = []
        for _ in range(4):  # more than the queue holds, whatever the kernel rounds it to
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(self._sock.getsockname())
            self._fillers.append(filler)

    def close(self) -> None:
        for filler in self._fillers:
            filler.close()
        self._sock.close()
