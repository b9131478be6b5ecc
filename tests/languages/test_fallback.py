"""Which language a recipient gets: preview, test copy and send pick it in one place.

A mailing without an English version goes to English subscribers in German, greeted in
German: the greeting follows the mail, not the subscriber's preference.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from pipeline.audience.csv_import import import_file
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.outbox import send_mailing
from pipeline.mailings import Workflow
from pipeline.mailings.compose import compose_newsletter
from pipeline.store import Store
from tests.support.mail_items import add_items
from tests.support.mailings import approve
from tests.support.settings import make_settings

CSV = (
    "email,first_name,last_name,salutation,title,language\n"
    "anna.mueller@beispiel-gemeinde.example,Anna,Müller,Frau,,en\n"
)


def _parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())


def _setup(settings: Settings, store: Store, clock: FakeClock, tmp_path: Path) -> int:
    csv = tmp_path / "members.csv"
    csv.write_text(CSV, encoding="utf-8")
    import_file(settings, store, csv, clock=clock, list_name="members")
    add_items(store, clock.now(), 3)
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    approve(store, mailing.id, clock=clock, by="redaktion", settings=settings)
    return mailing.id


def test_without_an_english_version_english_subscribers_get_german_with_a_german_greeting(
    tmp_path: Path, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "ein-langes-geheimnis-fuer-signierte-links")
    settings = make_settings(tmp_path, compose={"languages": []})
    mailing_id = _setup(settings, store, clock, tmp_path)

    preview = Workflow(settings, store, clock).preview(
        mailing_id, to="anna.mueller@beispiel-gemeinde.example"
    )
    assert preview.rendered.language == "de"
    assert "Liebe Anna," in preview.personal.html
    assert "Dear" not in preview.personal.html + preview.personal.text

    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.sent == 1
    (path,) = (tmp_path / "outbox" / "new").iterdir()
    sent = _parsed(path.read_bytes())
    shown = _parsed(preview.eml)
    assert "Liebe Anna," in _body(sent, "html")
    # preview = send: the same text part, the same HTML, word for word
    assert _body(sent, "plain").replace("\r\n", "\n") == _body(shown, "plain").replace("\r\n", "\n")
    assert _body(sent, "html").split() == _body(shown, "html").split()
