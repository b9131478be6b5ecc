"""Issue 13, item 4 in the API: ``GET/POST/DELETE /api/v1/mailings/{id}/files``, the
press kit of a press release; the rules and refusals are the workflow's."""

from __future__ import annotations

import hashlib
import os

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from tests.api.conftest import ANNA, Call
from tests.support.kits import ALT, CREDIT, LICENCE, pdf, photo, press_draft


def test_add_list_and_remove_a_file(
    call: Call, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    data = photo(1200, 800)
    added = call(
        "POST",
        f"/mailings/{mailing.id}/files",
        query_string={
            "name": "Rathaus Görlitz.jpg",
            "credit": CREDIT,
            "licence": LICENCE,
            "alt": ALT,
        },
        data=data,
        content_type="application/octet-stream",
    )
    assert added.status_code == 201, added.get_json()
    body = added.get_json()["data"]
    assert body["name"] == "Rathaus-Goerlitz.jpg"
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (body["width"], body["preview"]["width"], body["preview"]["height"]) == (1200, 600, 400)
    assert body["url"].endswith(f"/press/{mailing.id}/files/Rathaus-Goerlitz.jpg")
    assert (body["credit"], body["licence"], body["alt_text"]) == (CREDIT, LICENCE, ALT)

    listed = call("GET", f"/mailings/{mailing.id}/files")
    assert [f["name"] for f in listed.get_json()["data"]] == ["Rathaus-Goerlitz.jpg"]

    removed = call("DELETE", f"/mailings/{mailing.id}/files/Rathaus-Goerlitz.jpg")
    assert removed.status_code == 200
    assert call("GET", f"/mailings/{mailing.id}/files").get_json()["data"] == []
    again = call("DELETE", f"/mailings/{mailing.id}/files/Rathaus-Goerlitz.jpg")
    assert again.status_code == 422
    assert again.get_json()["error"]["field"] == "name"


def test_refusals_name_their_field(
    call: Call, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    path = f"/mailings/{mailing.id}/files"
    broken = call("POST", path, query_string={"name": "foto.jpg"}, data=b"\xff\xd8\xff kaputt")
    assert broken.status_code == 422
    assert broken.get_json()["error"]["field"] == "file"
    nameless = call("POST", path, data=pdf())
    assert (nameless.status_code, nameless.get_json()["error"]["field"]) == (422, "name")
    hostile = call("POST", path, query_string={"name": "../../"}, data=pdf())
    assert (hostile.status_code, hostile.get_json()["error"]["field"]) == (422, "name")
    assert call("GET", "/mailings/999/files").status_code == 404
    anonymous = call("GET", path, as_="")
    assert anonymous.status_code == 401


def test_a_file_larger_than_other_requests_may_be_uploaded(
    call: Call, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    big = os.urandom(3 * 1024 * 1024)
    added = call(
        "POST",
        f"/mailings/{mailing.id}/files",
        query_string={"name": "roh.bin"},
        data=big,
        as_=ANNA,
    )
    assert added.status_code == 201
    assert added.get_json()["data"]["size"] == len(big)
