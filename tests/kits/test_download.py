"""Issue 13, item 4: press kit links before and after the Sperrfrist. Before it a file
opens only through the link personal to a recipient of the release (that person, that
file), or for a logged-in editor; after it for anyone. Everything else is a 404 that
reveals nothing; a file altered on disk is never served."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.store import Store
from tests.kits.conftest import send_kit
from tests.support.kits import EDITOR, pdf, press_draft
from tests.support.press_record import JOURNALISTS
from tests.support.smtp import SmtpServer
from tests.support.web import login, make_app

JANA = JOURNALISTS[0][0]
BJOERN = JOURNALISTS[1][0]


def _client(settings: Settings, store: Store, clock: FakeClock) -> FlaskClient:
    return make_app(settings, store, clock).test_client()


def test_before_the_embargo_only_the_personal_link_opens_its_file(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    sent = send_kit(smtp_settings, store, clock, tmp_path, server)
    client = _client(smtp_settings, store, clock)
    jana, bjoern = sent.links(JANA), sent.links(BJOERN)
    assert set(jana) == {"Pressemappe.pdf", "Rathaus-Goerlitz.jpg", "Rathaus-Goerlitz.jpg/preview"}
    assert jana["Pressemappe.pdf"] != bjoern["Pressemappe.pdf"]  # personal

    answer = client.get(jana["Pressemappe.pdf"])
    assert answer.status_code == 200
    assert answer.data == pdf()
    assert answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"] == 'inline; filename="Pressemappe.pdf"'
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert answer.headers["ETag"] == f'"{hashlib.sha256(pdf()).hexdigest()}"'
    assert "sandbox" in answer.headers["Content-Security-Policy"]

    preview = client.get(jana["Rathaus-Goerlitz.jpg/preview"])
    assert (preview.status_code, preview.mimetype) == (200, "image/jpeg")
    from PIL import Image

    with Image.open(BytesIO(preview.data)) as image:
        assert image.size == (600, 400)

    bare = jana["Pressemappe.pdf"].split("?")[0]
    token = jana["Pressemappe.pdf"].split("?t=")[1]
    photo_path = jana["Rathaus-Goerlitz.jpg"].split("?")[0]
    refused = [
        bare,  # no token
        f"{bare}?t=",
        f"{photo_path}?t={token}",  # Jana's token for another file
        f"{bare}?t={token[:-2]}xx",  # altered
        f"{bare}?t=9{token}",  # another subscriber's id with Jana's signature
        f"/press/{sent.mailing_id + 1}/files/Pressemappe.pdf?t={token}",  # another release
        f"/press/{sent.mailing_id}/files/Unbekannt.pdf?t={token}",  # no such file
        f"/press/{sent.mailing_id}/files/..%2F..%2Fconfig.toml",
    ]
    for path in refused:
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert b"%PDF" not in answer.data


def test_after_the_embargo_every_file_is_public_and_may_be_cached(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    sent = send_kit(smtp_settings, store, clock, tmp_path, server)
    client = _client(smtp_settings, store, clock)
    bare = sent.links(JANA)["Pressemappe.pdf"].split("?")[0]
    embargo = Workflow(smtp_settings, store, clock).get(sent.mailing_id).embargo_at
    assert embargo is not None
    clock.set(embargo - timedelta(seconds=1))
    assert client.get(bare).status_code == 404  # one second before
    clock.set(embargo)
    answer = client.get(bare)
    assert answer.status_code == 200 and answer.data == pdf()
    assert answer.headers["Cache-Control"] == "public, max-age=3600"
    # the personal link keeps working too
    assert client.get(sent.links(BJOERN)["Pressemappe.pdf"]).status_code == 200


def test_a_logged_in_editor_may_always_download_even_a_draft(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    Workflow(settings, store, clock).add_file(mailing.id, by=EDITOR, data=pdf(), name="Entwurf.pdf")
    client = _client(settings, store, clock)
    path = f"/press/{mailing.id}/files/Entwurf.pdf"
    assert client.get(path).status_code == 404
    login(client)
    answer = client.get(path)
    assert answer.status_code == 200 and answer.data == pdf()
    assert answer.headers["Cache-Control"] == "private, no-store"
    # a file that could run script in a browser is only ever a download, sandboxed
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    Workflow(settings, store, clock).add_file(mailing.id, by=EDITOR, data=svg, name="logo.svg")
    logo = client.get(f"/press/{mailing.id}/files/logo.svg")
    assert logo.headers["Content-Disposition"] == 'attachment; filename="logo.svg"'
    assert "sandbox" in logo.headers["Content-Security-Policy"]
    assert logo.headers["X-Content-Type-Options"] == "nosniff"


def test_a_tampered_file_is_not_served(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    sent = send_kit(smtp_settings, store, clock, tmp_path, server)
    client = _client(smtp_settings, store, clock)
    sha = hashlib.sha256(pdf()).hexdigest()
    kept = tmp_path / "var" / "press-files" / sha[:2] / sha
    kept.write_bytes(kept.read_bytes() + b"% appended by someone\n")
    answer = client.get(sent.links(JANA)["Pressemappe.pdf"])
    assert answer.status_code == 404
    assert b"appended" not in answer.data


def test_the_archive_copy_links_the_files_without_anyones_token(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    sent = send_kit(smtp_settings, store, clock, tmp_path, server)
    client = _client(smtp_settings, store, clock)
    embargo = Workflow(smtp_settings, store, clock).get(sent.mailing_id).embargo_at
    assert embargo is not None
    clock.set(embargo)
    page = client.get(f"/archive/{sent.mailing_id}").get_data(as_text=True)
    assert f'/press/{sent.mailing_id}/files/Pressemappe.pdf"' in page
    assert "?t=" not in page and "⟦" not in page
    bare = f"/press/{sent.mailing_id}/files/Rathaus-Goerlitz.jpg/preview"
    assert client.get(bare).status_code == 200
