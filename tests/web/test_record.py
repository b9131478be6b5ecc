"""Issue 13, item 5 in the web app: the "Versandprotokoll" section of the editor's
mailing page (server-rendered, in pages, fits 320 px) and its CSV download."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from tests.support.browser import HAVE_CHROMIUM, chromium
from tests.support.press_record import (
    BOUNCED_HARD,
    COMPLAINED,
    HOSTILE,
    JOURNALISTS,
    QueueIdSink,
    queue_id,
    report_back,
    send_release,
)
from tests.support.smtp import SmtpServer
from tests.support.web import EDITOR, PASSWORD, login, make_app, seed_mailing, set_editor_env


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer(QueueIdSink()).start()
    yield server
    server.stop()


@pytest.fixture
def sent(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")
    mailing_id = send_release(settings, store, clock, tmp_path, server, hostile=True)
    report_back(settings, store, clock, mailing_id)
    return mailing_id


@pytest.fixture
def editor(client: FlaskClient) -> FlaskClient:
    assert login(client).status_code == 303
    return client


def test_the_mailing_page_shows_the_record(editor: FlaskClient, sent: int) -> None:
    page = editor.get(f"/editor/mailings/{sent}").get_data(as_text=True)
    section = page[page.index('id="record"') :]
    assert "Versandprotokoll" in section
    for email, *_rest in JOURNALISTS[:4]:
        assert email in section
    assert "Tageszeitung Ost" in section and "Kommunalpolitik" in section
    assert "19.06.2026, 10:02" in section  # Berlin time
    assert queue_id(JOURNALISTS[0][0]) in section
    row = section[section.index(BOUNCED_HARD) :]
    assert (
        "unzustellbar (dauerhaft)" in row[: row.index("</tr>")]
        and "5.1.1" in row[: row.index("</tr>")]
    )
    row = section[section.index(COMPLAINED) :]
    assert "Beschwerde" in row[: row.index("</tr>")]
    assert "[gelöscht]" in section
    assert "Schäfer" not in page and "Kulturradio" not in page
    # imported text is text, never markup
    assert "=HYPERLINK(&#34;http://boese.example&#34;" in section or "=HYPERLINK(&quot;" in section
    assert f'href="/editor/mailings/{sent}/record.csv"' in section


def test_the_record_is_paged(
    editor: FlaskClient, sent: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.web import record as web_record

    monkeypatch.setattr(web_record, "PAGE", 4)
    first = editor.get(f"/editor/mailings/{sent}").get_data(as_text=True)
    shown = [e for e, *_ in [*JOURNALISTS, HOSTILE] if e in first]
    assert len(shown) == 4
    link = first.index("protokoll_ab=")
    after = first[link + len("protokoll_ab=") : first.index("#", link)]
    second = editor.get(f"/editor/mailings/{sent}?protokoll_ab={after}").get_data(as_text=True)
    rest = [e for e, *_ in [*JOURNALISTS, HOSTILE] if e in second[second.index('id="record"') :]]
    assert not set(shown) & set(rest)
    assert len(rest) == 1  # the sixth line, the erased person's, names nobody
    assert "[gelöscht]" in second
    assert "protokoll_ab=" not in second[second.index('id="record"') :]


def test_a_draft_has_no_record_section(editor: FlaskClient, store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock)
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert "Versandprotokoll" not in page


def test_the_csv_download(editor: FlaskClient, sent: int) -> None:
    answer = editor.get(f"/editor/mailings/{sent}/record.csv")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert f"versandprotokoll-{sent}.csv" in answer.headers["Content-Disposition"]
    data = answer.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # so a spreadsheet reads the umlauts as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == len(JOURNALISTS) + 1
    hostile = next(r for r in rows if r["email"] == HOSTILE[0])
    assert hostile["outlet"].startswith("'=") and hostile["beat"].startswith("'+")
    assert next(r for r in rows if r["email"] == JOURNALISTS[0][0])["outlet"] == "Tageszeitung Ost"


def test_the_record_needs_a_login(client: FlaskClient, sent: int) -> None:
    for path in (f"/editor/mailings/{sent}", f"/editor/mailings/{sent}/record.csv"):
        answer = client.get(path)
        assert answer.status_code in (302, 303) and "/editor/login" in answer.headers["Location"]
    assert client.get("/editor/mailings/999/record.csv").status_code in (302, 303)


def test_an_unknown_mailing_has_no_csv(editor: FlaskClient) -> None:
    assert editor.get("/editor/mailings/999/record.csv").status_code == 404


@pytest.mark.browser
@pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is missing")
def test_the_record_fits_a_320_px_phone(
    settings_factory: Any,
    store: Store,
    clock: FakeClock,
    sent: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_factory()
    set_editor_env(monkeypatch, settings)
    app: Flask = make_app(settings, store, clock)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{http.server_port}"
    try:
        with chromium() as browser:
            page = browser.new_context(
                viewport={"width": 320, "height": 640}, locale="de-DE"
            ).new_page()
            page.goto(f"{base}/editor/mailings/{sent}")
            page.get_by_label("E-Mail-Adresse").fill(EDITOR)
            page.get_by_label("Passwort").fill(PASSWORD)
            page.get_by_role("button", name="Anmelden").click()
            page.wait_for_url(f"{base}/editor/mailings/{sent}")
            page.locator("#record").scroll_into_view_if_needed()
            # (the rest of the page is measured at 375 px by test_browser.py)
            widest = page.evaluate(
                "Math.max(...[...document.querySelectorAll('#record, #record *')]"
                ".map(e => e.getBoundingClientRect().right))"
            )
            assert widest <= 320, f"the record reaches {widest} px at a 320 px viewport"
            table = page.locator("#record table")
            assert table.evaluate("t => t.getBoundingClientRect().right") <= 320
    finally:
        http.shutdown()
        thread.join(5)
        http.server_close()
