"""Issue 13, item 4 in the web app: the press kit on the editor's mailing page. Upload
(multipart, CSRF), remove, German labels; a refusal shows the form again with what was
typed; the upload may be larger than other forms."""

from __future__ import annotations

import io
import os

from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.store import Store
from tests.support.kits import ALT, CREDIT, LICENCE, pdf, photo, press_draft
from tests.support.web import csrf_from, login, make_app


def _page(client: FlaskClient, mailing_id: int) -> str:
    answer = client.get(f"/editor/mailings/{mailing_id}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _upload(
    client: FlaskClient, mailing_id: int, data: bytes, filename: str, **fields: str
) -> object:
    token = csrf_from(_page(client, mailing_id))
    form = {"csrf_token": token, **fields, "file": (io.BytesIO(data), filename)}
    return client.post(
        f"/editor/mailings/{mailing_id}/files", data=form, content_type="multipart/form-data"
    )


def test_upload_lists_the_file_and_remove_takes_it_out(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    client = make_app(settings, store, clock).test_client()
    login(client)
    page = _page(client, mailing.id)
    assert "Pressematerial (0)" in page
    for label in ("Datei", "Name im Link", "Bildnachweis / Urheber", "Lizenz", "Bildbeschreibung"):
        assert label in page
    answer = _upload(
        client, mailing.id, photo(1200, 800), "Rathaus Görlitz.jpg",
        credit=CREDIT, licence=LICENCE, alt=ALT,
    )  # fmt: skip
    assert answer.status_code == 303  # type: ignore[attr-defined]
    page = _page(client, mailing.id)
    assert "„Rathaus-Goerlitz.jpg“ ist im Pressematerial." in page
    assert "Pressematerial (1)" in page and "1200 × 800 px" in page
    assert CREDIT in page and LICENCE in page
    (added,) = Workflow(settings, store, clock).files(mailing.id)
    assert (added.credit, added.licence, added.alt_text) == (CREDIT, LICENCE, ALT)

    token = csrf_from(page)
    removed = client.post(
        f"/editor/mailings/{mailing.id}/files/Rathaus-Goerlitz.jpg/remove",
        data={"csrf_token": token},
    )
    assert removed.status_code == 303
    assert Workflow(settings, store, clock).files(mailing.id) == []


def test_a_refused_upload_keeps_what_was_typed(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    client = make_app(settings, store, clock).test_client()
    login(client)
    answer = _upload(
        client, mailing.id, b"\xff\xd8\xff kein Foto", "foto.jpg",
        name="Pressefoto Bürgermeisterin.jpg", credit=CREDIT, licence=LICENCE, alt=ALT,
    )  # fmt: skip
    assert answer.status_code == 422  # type: ignore[attr-defined]
    page = answer.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "Nicht hinzugefügt: Das Bild ist beschädigt" in page
    assert 'value="Pressefoto Bürgermeisterin.jpg"' in page
    assert f'value="{CREDIT}"' in page and f'value="{ALT}"' in page
    assert Workflow(settings, store, clock).files(mailing.id) == []
    empty = _upload(client, mailing.id, b"", "", credit=CREDIT)
    assert empty.status_code == 422  # type: ignore[attr-defined]
    assert "Bitte wählen Sie eine Datei aus." in empty.get_data(as_text=True)  # type: ignore[attr-defined]


def test_an_upload_needs_the_csrf_token_and_a_login(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    client = make_app(settings, store, clock).test_client()
    anonymous = client.post(
        f"/editor/mailings/{mailing.id}/files",
        data={"file": (io.BytesIO(pdf()), "mappe.pdf")},
        content_type="multipart/form-data",
    )
    assert anonymous.status_code in (401, 302, 303)
    login(client)
    forged = client.post(
        f"/editor/mailings/{mailing.id}/files",
        data={"file": (io.BytesIO(pdf()), "mappe.pdf")},
        content_type="multipart/form-data",
    )
    assert forged.status_code in (400, 403)
    assert Workflow(settings, store, clock).files(mailing.id) == []


def test_a_large_file_may_be_uploaded_but_not_a_large_other_form(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    client = make_app(settings, store, clock).test_client()
    login(client)
    big = os.urandom(3 * 1024 * 1024)
    answer = _upload(client, mailing.id, big, "Video-Rohschnitt.bin")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    (added,) = Workflow(settings, store, clock).files(mailing.id)
    assert added.size == len(big)
    token = csrf_from(_page(client, mailing.id))
    other = client.post(
        f"/editor/mailings/{mailing.id}/content",
        data={"csrf_token": token, "subject": "x", "intro": "y" * (3 * 1024 * 1024)},
    )
    assert other.status_code == 413
