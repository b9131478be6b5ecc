"""The editor's page "Segmente" and the segment form of a draft (issue 13): counts per
list, a "Vorschau" that saves nothing, refusals that keep what was typed and point at the
column, hostile input that stays text, deletion only with the confirmation box."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Segments, Workflow
from pipeline.store import Store
from pipeline.store import audit as store_audit
from tests.mailings.test_segment_send import ANNA, BAYERN, BERT
from tests.support.mail_items import add_items
from tests.support.press_app import press_contacts_app
from tests.support.settings import make_settings
from tests.support.web import EDITOR, csrf_from, login

LANDESFUNK = 'outlet = "Landesfunk"'


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, segments={"bayern": BAYERN})


@pytest.fixture
def app(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Flask:
    return press_contacts_app(settings, store, clock, monkeypatch, tmp_path)


@pytest.fixture
def editor(client: FlaskClient) -> FlaskClient:
    assert login(client).status_code == 303
    return client


def _escaped(text: str) -> str:
    """``text`` as the templates write it (Jinja's escaping)."""
    return str(escape(text))


def _token(client: FlaskClient, path: str = "/editor/segments") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def _post(client: FlaskClient, path: str, **data: str) -> tuple[int, str]:
    answer = client.post(path, data={"csrf_token": _token(client), **data})
    return answer.status_code, answer.get_data(as_text=True)


def test_the_page_lists_config_and_saved_segments_with_counts(
    editor: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    Segments(settings, store, clock).save("landesfunk", LANDESFUNK, by=ANNA)
    page = editor.get("/editor/segments").get_data(as_text=True)
    assert '<a href="/editor/segments" aria-current="page">Segmente</a>' in page  # navigation
    config = page[page.index('id="config-bayern"') :]
    assert "2 Personen: members 0 · press 2" in config[: config.index("</li>")]
    saved = page[page.index('id="saved-landesfunk"') :]
    saved = saved[: saved.index("</li>")]
    assert _escaped(LANDESFUNK) in saved
    assert "2 Personen: members 0 · press 2" in saved
    assert "Löschen" in saved and "Löschen" not in config[: config.index("</li>")]


def test_preview_counts_without_saving_and_keeps_the_form(
    editor: FlaskClient, store: Store
) -> None:
    status, page = _post(
        editor, "/editor/segments", name="digital", expression='beat = "Digitales"', do="preview"
    )
    assert status == 200
    assert "<strong>Vorschau:</strong> 2 Personen (noch nicht gespeichert)" in page
    assert "<li>press: 2</li>" in page
    assert 'value="digital"' in page and "beat = &#34;Digitales&#34;</textarea>" in page
    assert 'id="saved-digital"' not in page
    assert not [e for e in store_audit.select_entries(store) if e.target_kind == "segment"]


def test_save_then_delete_with_confirmation(editor: FlaskClient, store: Store) -> None:
    answer = editor.post(
        "/editor/segments",
        data={
            "csrf_token": _token(editor),
            "name": "landesfunk",
            "expression": LANDESFUNK,
            "do": "save",
        },
    )
    assert answer.status_code == 303
    page = editor.get("/editor/segments").get_data(as_text=True)
    assert "Das Segment „landesfunk“ ist gespeichert; es erreicht jetzt 2 Personen." in page
    assert 'id="saved-landesfunk"' in page
    (entry,) = store_audit.select_entries(store, targets=[("segment", "landesfunk")])
    assert (entry.actor_email, entry.channel) == (EDITOR, "web")

    status, _ = _post(editor, "/editor/segments/landesfunk/delete")
    assert status == 303
    page = editor.get("/editor/segments").get_data(as_text=True)
    assert "Bitte bestätigen Sie das Löschen von „landesfunk“" in page
    assert 'id="saved-landesfunk"' in page
    status, _ = _post(editor, "/editor/segments/landesfunk/delete", confirm="yes")
    page = editor.get("/editor/segments").get_data(as_text=True)
    assert "Das Segment „landesfunk“ ist gelöscht." in page
    assert 'id="saved-landesfunk"' not in page


@pytest.mark.parametrize(
    ("expression", "where", "caret"),
    [
        ('region = "Bayern" or', "an Zeichen 21", " " * 20 + "^"),
        ("region = Bayern", "an Zeichen 10", " " * 9 + "^"),
        ("'; DROP TABLE subscribers; --", "an Zeichen 1", "^"),
        ('region = "Bayern"\nand beat = Digitales', "in Zeile 2 an Zeichen 12", " " * 11 + "^"),
    ],
)
def test_a_condition_that_cannot_be_read_is_marked_and_kept(
    editor: FlaskClient, expression: str, where: str, caret: str
) -> None:
    status, page = _post(editor, "/editor/segments", name="test", expression=expression, do="save")
    assert status == 422
    assert f"Die Bedingung ist {where} nicht lesbar" in page
    mark = re.search(r'<pre class="segment-mark"[^>]*><code>(.*?)</code></pre>', page, re.S)
    assert mark is not None
    line, marker = html.unescape(mark.group(1)).split("\n")
    assert marker == caret and line in expression
    assert f"{_escaped(expression)}</textarea>" in page  # what was typed, kept
    assert 'aria-invalid="true" aria-describedby="segment-error"' in page
    assert 'id="saved-test"' not in page


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("bayern", "config.toml"),
        ("<script>alert(1)</script>", "is not a letter"),
        ("../../etc/passwd", "is not a letter"),
        ("", "is not a letter"),
    ],
)
def test_a_bad_name_is_refused_and_nothing_is_injected(
    editor: FlaskClient, store: Store, name: str, says: str
) -> None:
    status, page = _post(editor, "/editor/segments", name=name, expression=LANDESFUNK, do="save")
    assert status == 422 and says in html.unescape(page)
    assert "<script>alert(1)</script>" not in page  # shown as text, never as markup
    assert 'aria-invalid="true"' in page
    assert not [e for e in store_audit.select_entries(store) if e.target_kind == "segment"]


def test_a_hostile_value_is_saved_as_text_and_matches_nobody(
    editor: FlaskClient, store: Store, settings: Settings, clock: FakeClock
) -> None:
    hostile = 'outlet = "x\' OR 1=1; --" or region = "</code><script>alert(1)</script>"'
    status, _ = _post(editor, "/editor/segments", name="boese", expression=hostile, do="save")
    assert status == 303
    page = editor.get("/editor/segments").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    saved = page[page.index('id="saved-boese"') :]
    assert "0 Personen" in saved[: saved.index("</li>")]
    assert Segments(settings, store, clock).count(LANDESFUNK, by=ANNA).total == 2


def test_a_form_without_its_token_changes_nothing(editor: FlaskClient, store: Store) -> None:
    answer = editor.post(
        "/editor/segments", data={"name": "x", "expression": LANDESFUNK, "do": "save"}
    )
    assert answer.status_code == 400
    assert not [e for e in store_audit.select_entries(store) if e.target_kind == "segment"]


def test_the_segment_of_a_draft_is_counted_then_taken(
    editor: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    Segments(settings, store, clock).save("landesfunk", LANDESFUNK, by=ANNA)
    flow = Workflow(settings, store, clock)
    mailing = flow.compose_press(add_items(store, clock.now(), 1)[0], by=ANNA)
    flow.approve(mailing.id, by=BERT)
    path = f"/editor/mailings/{mailing.id}"
    page = editor.get(path).get_data(as_text=True)
    assert '<option value="" selected>keins (alle auf den Listen)</option>' in page
    assert '<option value="bayern" >bayern (config.toml)</option>' in page
    assert '<option value="landesfunk" >landesfunk (gespeichert)</option>' in page
    version = re.search(r'name="version" value="([^"]+)"', page)
    assert version is not None

    counted = editor.post(
        f"{path}/segment",
        data={"csrf_token": csrf_from(page), "segment": "landesfunk", "do": "preview"},
    )
    assert counted.status_code == 303 and counted.location.endswith("?segment=landesfunk")
    page = editor.get(counted.location).get_data(as_text=True)
    assert "Mit dem Segment „landesfunk“ erreicht das Mailing jetzt 2 Personen" in page
    assert "Noch nicht übernommen." in page
    assert '<option value="landesfunk" selected>' in page
    assert flow.get(mailing.id).segment_where is None  # only counted

    clock.advance(seconds=60)  # the edit gives the mailing a new version
    taken = editor.post(
        f"{path}/segment",
        data={
            "csrf_token": csrf_from(page),
            "segment": "landesfunk",
            "do": "save",
            "version": version.group(1),
        },
    )
    assert taken.status_code == 303
    page = editor.get(path).get_data(as_text=True)
    assert "Das Mailing geht jetzt an das Segment „landesfunk“." in page
    assert "wieder ein Entwurf" in page
    after = flow.get(mailing.id)
    assert (after.segment_name, after.segment_where, after.status) == (
        "landesfunk",
        LANDESFUNK,
        "draft",
    )
    assert '<dd id="recipients">2 (Stand jetzt)</dd>' in page

    # a form older than the mailing changes nothing
    stale = editor.post(
        f"{path}/segment",
        data={
            "csrf_token": csrf_from(page),
            "segment": "",
            "do": "save",
            "version": version.group(1),
        },
    )
    assert stale.status_code == 303
    assert "Nicht gespeichert" in editor.get(path).get_data(as_text=True)
    assert flow.get(mailing.id).segment_name == "landesfunk"


def test_a_condition_of_the_draft_s_own_is_kept_until_another_is_chosen(
    editor: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    flow = Workflow(settings, store, clock)
    mailing = flow.compose_press(add_items(store, clock.now(), 1)[0], by=ANNA, where=LANDESFUNK)
    path = f"/editor/mailings/{mailing.id}"
    page = editor.get(path).get_data(as_text=True)
    assert (
        f'<option value="=where" selected>eigene Bedingung: {_escaped(LANDESFUNK)}</option>' in page
    )
    kept = editor.post(
        f"{path}/segment", data={"csrf_token": csrf_from(page), "segment": "=where", "do": "save"}
    )
    assert kept.status_code == 303
    assert "Das Segment ist unverändert" in editor.get(path).get_data(as_text=True)
    assert flow.get(mailing.id).segment_where == LANDESFUNK
    # an unknown name (a forged form) is refused by the workflow, nothing changes
    forged = editor.post(
        f"{path}/segment",
        data={"csrf_token": csrf_from(page), "segment": "berlin", "do": "save"},
    )
    assert forged.status_code == 303
    assert "unknown segment" in editor.get(path).get_data(as_text=True)
    assert flow.get(mailing.id).segment_where == LANDESFUNK


def test_a_draft_keeps_a_saved_segment_deleted_since(
    editor: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    segments = Segments(settings, store, clock)
    segments.save("landesfunk", LANDESFUNK, by=ANNA)
    flow = Workflow(settings, store, clock)
    mailing = flow.compose_press(add_items(store, clock.now(), 1)[0], by=ANNA, segment="landesfunk")
    segments.delete("landesfunk", by=ANNA)
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert f'<option value="=where" selected>landesfunk: {_escaped(LANDESFUNK)}</option>' in page
    assert '<option value="" >keins' in page
