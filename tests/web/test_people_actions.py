"""What an editor does to people from the browser: unsubscribe, suppress, erase (admins,
typing the address), and a CSV upload with the CLI's line-by-line report."""

from __future__ import annotations

import io
from html import unescape

import pytest
from flask.testing import FlaskClient

from pipeline import audit
from pipeline.access import Role
from pipeline.accounts import Accounts
from pipeline.audience import Signup, subscriber_id, subscriber_record
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.signup import sign_up
from pipeline.store import Store
from tests.support.web import EDITOR, PASSWORD, SECRET, csrf_from, login

PERSON = "k.brandt@stadtanzeiger.example"
ANNA = "anna@junge-buergermeister.example"


@pytest.fixture
def person(settings: Settings, store: Store, clock: FakeClock) -> int:
    sign_up(
        settings,
        store,
        Signup(email=PERSON, list_name="press", ip="192.0.2.7", source="web form"),
        clock=clock,
        secret=SECRET,
    )
    ident = subscriber_id(store, PERSON)
    assert ident is not None
    return ident


def _page(client: FlaskClient, ident: int) -> str:
    return unescape(client.get(f"/editor/subscribers/{ident}").get_data(as_text=True))


def _post(client: FlaskClient, ident: int, action: str, **data: str) -> str:
    token = csrf_from(client.get(f"/editor/subscribers/{ident}").get_data(as_text=True))
    answer = client.post(
        f"/editor/subscribers/{ident}/{action}",
        data={"csrf_token": token, **data},
        follow_redirects=True,
    )
    return unescape(answer.get_data(as_text=True))


def _statuses(store: Store, ident: int) -> dict[str, str]:
    record = subscriber_record(store, ident)
    return {} if record is None else {s.list_name: s.status for s in record.subscriptions}


def test_the_person_page_shows_the_consent_evidence(client: FlaskClient, person: int) -> None:
    assert login(client).status_code == 303
    page = _page(client, person)
    assert "192.0.2.7" in page and "web form" in page
    assert "Bestätigungsmail" in page and "Zustellungen" in page and "Nicht gesperrt." in page


def test_unsubscribing_needs_the_tick_and_ends_only_that_list(
    client: FlaskClient, store: Store, person: int
) -> None:
    assert login(client).status_code == 303
    page = _post(client, person, "unsubscribe", list="press")
    assert "bestätigen Sie die Abmeldung" in page and _statuses(store, person) == {
        "press": "pending"
    }
    page = _post(client, person, "unsubscribe", list="press", confirm="yes")
    assert f"{PERSON} ist abgemeldet von:" in page
    assert _statuses(store, person) == {"press": "unsubscribed"}
    summaries = [e.summary for e in audit.entries(store, subscriber=person)]
    assert any("unsubscribed subscriber" in s and "press" in s for s in summaries)


def test_suppressing_puts_the_address_on_the_list_once(
    client: FlaskClient, store: Store, person: int
) -> None:
    assert login(client).status_code == 303
    page = _post(client, person, "suppress", detail="bat am Telefon darum", confirm="yes")
    assert "ist gesperrt" in page
    assert "Gesperrt seit" in _page(client, person)
    again = _post(client, person, "suppress", confirm="yes")
    assert "war schon gesperrt" in again


def test_erasing_needs_the_address_typed_and_then_removes_the_person(
    client: FlaskClient, store: Store, person: int
) -> None:
    assert login(client).status_code == 303
    page = _post(client, person, "erase", confirm_email="jemand@anders.example")
    assert "nichts wurde gelöscht" in page and subscriber_record(store, person) is not None
    page = _post(client, person, "erase", confirm_email=PERSON.upper())
    assert "Die Person ist gelöscht" in page
    assert subscriber_record(store, person) is None
    assert PERSON not in _page(client, person)


def test_an_editor_sees_no_erase_form_and_is_refused_with_403(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock, person: int
) -> None:
    service = Accounts(store, settings, clock)
    service.add(service.actor_for(EDITOR), ANNA, Role.EDITOR, PASSWORD)
    assert login(client, ANNA, PASSWORD).status_code == 303
    page = _page(client, person)
    assert "Endgültig löschen" not in page and "Adresse sperren" not in page
    token = csrf_from(client.get(f"/editor/subscribers/{person}").get_data(as_text=True))
    answer = client.post(
        f"/editor/subscribers/{person}/erase", data={"csrf_token": token, "confirm_email": PERSON}
    )
    assert answer.status_code == 403
    assert "braucht die Rolle Administration" in unescape(answer.get_data(as_text=True))
    assert subscriber_record(store, person) is not None


def _upload(client: FlaskClient, body: str, **fields: str) -> tuple[int, str]:
    token = csrf_from(client.get("/editor/subscribers/import").get_data(as_text=True))
    answer = client.post(
        "/editor/subscribers/import",
        data={"csrf_token": token, "file": (io.BytesIO(body.encode()), "presse.csv"), **fields},
        content_type="multipart/form-data",
    )
    return answer.status_code, unescape(answer.get_data(as_text=True))


CSV = (
    "email,first_name,last_name,language\n"
    "j.koehler@tageszeitung-ost.example,Jana,Köhler,de\n"
    "kein-at-zeichen,Björn,Grün,de\n"
    "m.huber@kurier.example,Max,Huber,de\n"
)


def test_a_dry_run_reports_every_bad_line_and_changes_nothing(
    client: FlaskClient, store: Store
) -> None:
    assert login(client).status_code == 303
    status, page = _upload(client, CSV, list="press", dry_run="yes")
    assert status == 422
    assert "Probelauf: nichts wurde geändert" in page and "presse.csv" in page
    assert "Zeile 3:" in page and "kein-at-zeichen" in page
    assert subscriber_id(store, "j.koehler@tageszeitung-ost.example") is None


def test_an_upload_keeps_every_good_row_and_names_the_bad_one(
    client: FlaskClient, store: Store
) -> None:
    assert login(client).status_code == 303
    status, page = _upload(client, CSV, list="press")
    assert status == 422  # like the CLI's exit code: the file had a bad row
    assert 'data-count="created">2<' in page and 'data-count="errors">1<' in page
    assert "Zeile 3:" in page
    for good in ("j.koehler@tageszeitung-ost.example", "m.huber@kurier.example"):
        ident = subscriber_id(store, good)
        assert ident is not None and _statuses(store, ident) == {"press": "active"}
    status, page = _upload(
        client, CSV.replace("kein-at-zeichen", "b.gruen@landesfunk.example"), list="press"
    )
    assert status == 200 and "Ergebnis" in page


def test_an_upload_without_a_file_keeps_the_choices(client: FlaskClient) -> None:
    assert login(client).status_code == 303
    token = csrf_from(client.get("/editor/subscribers/import").get_data(as_text=True))
    answer = client.post(
        "/editor/subscribers/import",
        data={"csrf_token": token, "list": "press", "welcome": "yes"},
        content_type="multipart/form-data",
    )
    page = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 422 and "Bitte wählen Sie eine CSV-Datei." in page
    assert '<option value="press" selected>' in page
    assert 'name="welcome" value="yes" checked' in page


def test_the_search_finds_people_by_attribute_and_explains_a_typo(client: FlaskClient) -> None:
    assert login(client).status_code == 303
    body = (
        "email,first_name,region\n"
        "j.koehler@tageszeitung-ost.example,Jana,Brandenburg\n"
        "m.huber@kurier.example,Max,Bayern\n"
    )
    assert _upload(client, body, list="press")[0] == 200
    answer = client.get('/editor/subscribers?where=region = "Brandenburg"')
    page = unescape(answer.get_data(as_text=True))
    assert "j.koehler@tageszeitung-ost.example" in page and "m.huber" not in page
    answer = client.get('/editor/subscribers?where=region = "Brandenburg')
    page = unescape(answer.get_data(as_text=True))
    assert "Die Merkmale sind so nicht lesbar" in page and "j.koehler" not in page
    assert 'value="region = &#34;Brandenburg"' in answer.get_data(as_text=True)


def test_the_lists_page_shows_consent_text_and_live_segment_counts(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    from pipeline.access import Actor
    from pipeline.mailings import Segments

    Segments(settings, store, clock).save(
        "osten", 'region = "Brandenburg"', by=Actor(EDITOR, Role.ADMIN)
    )
    assert login(client).status_code == 303
    body = (
        "email,first_name,region\n"
        "j.koehler@tageszeitung-ost.example,Jana,Brandenburg\n"
        "m.huber@kurier.example,Max,Bayern\n"
    )
    assert _upload(client, body, list="press")[0] == 200
    page = unescape(client.get("/editor/lists").get_data(as_text=True))
    press = page[page.index('id="list-press"') :]
    consent = settings.list_named("press").consent_in("de", settings.audience.consent_text)
    assert consent and consent in press
    assert 'data-segment="osten">1<' in press and "#saved-osten" in press


def test_the_signups_page_says_since_when_a_sign_up_waits(
    client: FlaskClient, clock: FakeClock, person: int
) -> None:
    clock.advance(days=2)
    assert login(client).status_code == 303
    page = unescape(client.get("/editor/signups").get_data(as_text=True))
    row = page[page.index(PERSON) :]
    assert "19.06.2026, 10:00" in row  # signed up two days ago, 08:00 UTC
