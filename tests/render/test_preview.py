"""Preview files: the HTML, the text and the exact message a recipient gets."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from pipeline.audience.csv_import import import_file
from pipeline.audience.links import preferences_url, unsubscribe_url
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow, write_preview
from pipeline.mailings.compose import compose_newsletter
from pipeline.store import Store
from pipeline.store.renders import load_render
from tests.support import mailings as mailing_ops
from tests.support.mail_items import add_items


def _parts(eml: bytes) -> tuple[email.message.EmailMessage, str, str]:
    message = email.message_from_bytes(eml, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return message, text.get_content(), html.get_content()


def test_preview_for_a_subscriber_is_their_message(
    settings: Settings, store: Store, clock: FakeClock, secret: str, tmp_path: Path
) -> None:
    csv = tmp_path / "members.csv"
    csv.write_text(
        "email,first_name,last_name,salutation,title,language\n"
        "anna.schulz@beispiel-gemeinde.example,Anna,Schulz,Frau,Dr.,de\n",
        encoding="utf-8",
    )
    import_file(settings, store, csv, clock=clock, list_name="members")
    add_items(store, clock.now(), 3)
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    mailing_ops.approve(store, mailing.id, clock=clock, by="redaktion", settings=settings)

    preview = Workflow(settings, store, clock).preview(
        mailing.id, to="Anna.Schulz@beispiel-gemeinde.example"
    )
    assert not preview.sample
    assert preview.recipient.first_name == "Anna"
    paths = write_preview(preview, tmp_path / "preview")
    assert sorted(p.name for p in paths.values()) == ["preview.eml", "preview.html", "preview.txt"]

    html = paths["html"].read_text(encoding="utf-8")
    text = paths["text"].read_text(encoding="utf-8")
    assert "Liebe Anna," in html and text.count("Liebe Anna,") == 1
    unsub = unsubscribe_url(settings, secret, preview.recipient.subscriber_id, "members")
    prefs = preferences_url(settings, secret, preview.recipient.subscriber_id, "members")
    assert f'href="{unsub}"' in html and f"Abmelden: {unsub}" in text
    assert f'href="{prefs}"' in html
    assert "⟦" not in html + text

    message, eml_text, eml_html = _parts(paths["eml"].read_bytes())
    assert message["To"] == "Anna Schulz <anna.schulz@beispiel-gemeinde.example>"
    assert message["Subject"] == mailing.subject
    assert message["List-Unsubscribe"].startswith(f"<{unsub}>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # the same content as the preview files: preview, test send and send share the render
    # (the message may break long HTML lines at spaces to stay within 998 octets)
    assert eml_html.split() == html.split()
    assert eml_text.replace("\r\n", "\n") == text


def test_preview_without_subscribers_uses_a_sample_person(
    settings: Settings, store: Store, clock: FakeClock, secret: str, tmp_path: Path
) -> None:
    add_items(store, clock.now(), 2)
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    preview = Workflow(settings, store, clock).preview(mailing.id)
    assert preview.sample and preview.recipient.first_name == "Erika"
    assert "Liebe Erika," in preview.personal.html
    # a draft is rendered for the preview and the render is stored
    assert load_render(store, mailing.id, "de") is not None
    message, _, _ = _parts(preview.eml)
    assert message["To"] == "Erika Mustermann <erika.mustermann@example.org>"
