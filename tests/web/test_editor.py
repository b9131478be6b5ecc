"""Editors' pages through Flask's test client: login, access control, CSRF, editing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.models import MailingStatus
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from pipeline.web.editor import item_order
from tests.support import mailings as mailing_ops
from tests.support.smtp import free_port
from tests.support.web import (
    EDITOR,
    PASSWORD,
    csrf_from,
    login,
    make_app,
    seed_mailing,
    set_editor_env,
    wait_until_serving,
    write_serve_config,
)


@pytest.fixture
def editor(client: FlaskClient) -> FlaskClient:
    response = login(client)
    assert response.status_code == 303
    return client


def _editor_rules(app: Flask) -> list[Any]:
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith(("editor.", "people."))]


def _url(rule: Any) -> str:
    url = rule.rule
    for name in rule.arguments:
        url = url.replace(f"<int:{name}>", "1").replace(f"<{name}>", "de")
    return str(url)


# --- access control --------------------------------------------------------------------


def test_every_editor_page_refuses_without_login(
    app: Flask, client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    seed_mailing(store, clock)
    rules = _editor_rules(app)
    assert len(rules) >= 9  # the list, the preview, the render and every action
    for rule in rules:
        url = _url(rule)
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/editor/login?next="), url
        if "POST" in rule.methods:
            response = client.post(url, data={"subject": "Gekapert"})
            assert response.status_code == 401, url
    assert store_mailings.get_mailing(store, 1).subject != "Gekapert"
    assert store_mailings.get_mailing(store, 1).status == MailingStatus.DRAFT


def test_login_with_wrong_password_fails(client: FlaskClient) -> None:
    response = login(client, password="falsch")
    assert response.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch" in response.get_data(as_text=True)
    assert client.get("/editor/").status_code == 302


def test_login_with_wrong_user_fails(client: FlaskClient) -> None:
    assert login(client, user="jemand@example.org").status_code == 401
    assert client.get("/editor/").status_code == 302


def test_login_sets_a_hardened_session_cookie(client: FlaskClient) -> None:
    response = login(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/editor/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("rundbrief_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie  # base_url of the test settings is https
    page = client.get("/editor/")
    assert page.status_code == 200
    assert '<html lang="de">' in page.get_data(as_text=True)


def test_cookie_not_secure_on_plain_http(
    settings_factory: Any, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_factory(web={"base_url": "http://127.0.0.1:8000"})
    set_editor_env(monkeypatch, settings)
    with make_app(settings, store, clock).test_client() as client:
        cookie = login(client).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" not in cookie


def test_login_form_needs_its_csrf_token(client: FlaskClient) -> None:
    client.get("/editor/login")
    response = client.post("/editor/login", data={"username": EDITOR, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/editor/").status_code == 302


def test_login_is_rate_limited(client: FlaskClient, clock: FakeClock) -> None:
    for _ in range(4):  # 3 free tries, then the delay doubles with every failure
        assert login(client, password="rate-mal").status_code == 401
    blocked = login(client)  # even the right password waits while blocked
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Zu viele Fehlversuche" in blocked.get_data(as_text=True)
    assert client.get("/editor/").status_code == 302
    clock.advance(int(blocked.headers["Retry-After"]))
    assert login(client).status_code == 303
    assert client.get("/editor/").status_code == 200


def test_login_redirects_only_to_editor_pages(client: FlaskClient) -> None:
    page = client.get("/editor/login?next=https://evil.example/phish")
    token = csrf_from(page.get_data(as_text=True))
    response = client.post(
        "/editor/login",
        data={
            "username": EDITOR,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/editor",
        },
    )
    assert response.headers["Location"] == "/editor/"


def test_login_returns_to_the_page_asked_for(client: FlaskClient) -> None:
    first = client.get("/editor/?status=draft")
    next_url = first.headers["Location"].split("next=", 1)[1]
    page = client.get(f"/editor/login?next={next_url}")
    token = csrf_from(page.get_data(as_text=True))
    response = client.post(
        "/editor/login",
        data={
            "username": EDITOR,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/editor/?status=draft",
        },
    )
    assert response.headers["Location"] == "/editor/?status=draft"


def test_session_ends_after_twelve_hours(editor: FlaskClient, clock: FakeClock) -> None:
    assert editor.get("/editor/").status_code == 200
    clock.advance(hours=12, minutes=1)
    assert editor.get("/editor/").status_code == 302


def test_logout_needs_csrf_and_ends_the_session(editor: FlaskClient) -> None:
    page = editor.get("/editor/").get_data(as_text=True)
    assert editor.post("/editor/logout").status_code == 400
    assert editor.get("/editor/").status_code == 200
    response = editor.post("/editor/logout", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert editor.get("/editor/").status_code == 302


def test_login_refused_when_not_configured(
    settings: Settings, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.web.secret_env, "s" * 40)
    monkeypatch.delenv(settings.web.editor_user_env, raising=False)
    monkeypatch.delenv(settings.web.editor_password_env, raising=False)
    with make_app(settings, store, clock).test_client() as client:
        page = client.get("/editor/login").get_data(as_text=True)
        assert "nicht eingerichtet" in page
        monkeypatch.setenv(settings.web.editor_password_env, "")
        response = client.post("/editor/login", data={"username": "", "password": ""})
        assert response.status_code in (400, 503)
        assert client.get("/editor/").status_code == 302


def test_pages_carry_security_headers(editor: FlaskClient) -> None:
    response = editor.get("/editor/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp  # no script source at all
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- CSRF on the editor forms ----------------------------------------------------------


def _version(store: Store, mailing_id: int) -> str:
    return store_mailings.get_mailing(store, mailing_id).updated_at.isoformat()


@pytest.mark.parametrize("token", [None, "", "falsch-aber-lang-genug-0123456789abcdef"])
def test_forms_refuse_a_missing_or_wrong_csrf_token(
    editor: FlaskClient, store: Store, clock: FakeClock, token: str | None
) -> None:
    mailing = seed_mailing(store, clock)
    before = store_mailings.get_mailing(store, mailing.id)
    actions = {
        "content": {"subject": "Gekapert", "intro": "x"},
        "items": {f"drop-{mailing.item_ids[0]}": "1"},
        "approve": {},
        "cancel": {"confirm": "yes"},
        "test": {"to": "redaktion@junge-buergermeister.example"},
        "rerender": {},
    }
    for action, data in actions.items():
        if token is not None:
            data = {**data, "csrf_token": token}
        response = editor.post(f"/editor/mailings/{mailing.id}/{action}", data=data)
        assert response.status_code == 400, action
        assert "Sicherheitsprüfung" in response.get_data(as_text=True)
    assert store_mailings.get_mailing(store, mailing.id) == before


def test_every_editor_form_carries_a_csrf_field(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    html = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    forms = re.findall(r"<form\b.*?</form>", html, flags=re.S)
    assert len(forms) >= 6
    for form in forms:
        if 'method="post"' in form:
            assert 'name="csrf_token"' in form, form[:120]


# --- the mailing pages -----------------------------------------------------------------


def test_list_shows_mailings_with_status(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    draft = seed_mailing(store, clock)
    html = editor.get("/editor/").get_data(as_text=True)
    assert "Newsletter KW 25/2026" in html
    assert "Entwurf" in html
    assert f'href="/editor/mailings/{draft.id}"' in html
    filtered = editor.get("/editor/mailings?status=sent").get_data(as_text=True)
    assert f'href="/editor/mailings/{draft.id}"' not in filtered
    assert editor.get("/editor/mailings?status=kaputt").status_code == 400


def test_preview_page_shows_both_widths_and_the_text_part(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    response = editor.get(f"/editor/mailings/{mailing.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    render_url = f"/editor/mailings/{mailing.id}/render/de"
    assert html.count(f'src="{render_url}"') == 2
    assert 'width="600"' in html and 'width="375"' in html
    assert "Textfassung" in html
    assert "Netzwerktreffen der jungen Bürgermeister" in html  # the text part and item list
    assert "Liebe Erika" in html  # the sample recipient's salutation, in the text part


def test_render_is_served_under_a_no_script_policy(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    response = editor.get(f"/editor/mailings/{mailing.id}/render/de")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "sandbox" in csp
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    html = response.get_data(as_text=True)
    assert "<script" not in html.lower()
    assert "⟦" not in html  # every placeholder filled
    assert "Netzwerktreffen der jungen Bürgermeister" in html
    assert editor.get(f"/editor/mailings/{mailing.id}/render/fr").status_code == 404
    assert editor.get("/editor/mailings/999/render/de").status_code == 404


def test_unknown_mailing_is_404(editor: FlaskClient) -> None:
    response = editor.get("/editor/mailings/4711")
    assert response.status_code == 404
    assert "Das Mailing 4711 gibt es nicht" in response.get_data(as_text=True)


def _post(client: FlaskClient, mailing_id: int, action: str, **data: str) -> Any:
    page = client.get(f"/editor/mailings/{mailing_id}").get_data(as_text=True)
    return client.post(
        f"/editor/mailings/{mailing_id}/{action}", data={"csrf_token": csrf_from(page), **data}
    )


def test_edit_subject_and_intro(editor: FlaskClient, store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock)
    clock.advance(60)
    response = _post(
        editor,
        mailing.id,
        "content",
        subject="Sommer-Ausgabe: Grüße aus Görlitz",
        intro="Liebe Mitglieder,\r\n\r\ndiese Woche **zwei** Termine.",
        preheader="Zwei Termine und ein Rückblick",
        version=_version(store, mailing.id),
    )
    assert response.status_code == 303
    stored = store_mailings.get_mailing(store, mailing.id)
    assert stored.subject == "Sommer-Ausgabe: Grüße aus Görlitz"
    assert stored.intro_md == "Liebe Mitglieder,\n\ndiese Woche **zwei** Termine."
    assert stored.preheader == "Zwei Termine und ein Rückblick"
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "gespeichert" in page
    rendered = editor.get(f"/editor/mailings/{mailing.id}/render/de").get_data(as_text=True)
    assert "<strong>zwei</strong>" in rendered  # the new intro, rendered from Markdown


def test_empty_subject_is_refused(editor: FlaskClient, store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock)
    _post(editor, mailing.id, "content", subject="  ", intro="")
    assert store_mailings.get_mailing(store, mailing.id).subject == mailing.subject


def test_stale_form_changes_nothing(editor: FlaskClient, store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock)
    old_version = _version(store, mailing.id)
    clock.advance(60)
    mailing_ops.edit_mailing(store, mailing.id, clock=clock, subject="Von jemand anderem")
    response = _post(editor, mailing.id, "content", subject="Meins", intro="", version=old_version)
    assert response.status_code == 409
    assert store_mailings.get_mailing(store, mailing.id).subject == "Von jemand anderem"


def test_drop_and_reorder_items(editor: FlaskClient, store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock, items=4)
    a, b, c, d = mailing.item_ids
    response = _post(
        editor,
        mailing.id,
        "items",
        **{f"position-{a}": "3", f"position-{b}": "1", f"position-{c}": "2"},
        **{f"position-{d}": "4", f"drop-{c}": "1"},
    )
    assert response.status_code == 303
    assert store_mailings.get_mailing(store, mailing.id).item_ids == (b, a, d)
    _post(editor, mailing.id, "items", move=f"{d}:up")
    assert store_mailings.get_mailing(store, mailing.id).item_ids == (b, d, a)


def test_cannot_drop_every_item(editor: FlaskClient, store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock, items=2)
    data = {f"drop-{item_id}": "1" for item_id in mailing.item_ids}
    _post(editor, mailing.id, "items", **data)
    assert store_mailings.get_mailing(store, mailing.id).item_ids == mailing.item_ids


def test_item_order_rules() -> None:
    assert item_order((1, 2, 3), {}) == [1, 2, 3]
    assert item_order((1, 2, 3), {"position-3": "1"}) == [3, 1, 2]  # ties keep the old order
    assert item_order((1, 2, 3), {"drop-2": "1"}) == [1, 3]
    assert item_order((1, 2, 3), {"move": "1:up"}) == [1, 2, 3]
    assert item_order((1, 2, 3), {"move": "1:down"}) == [2, 1, 3]
    with pytest.raises(ValueError):
        item_order((1, 2), {"position-1": "eins"})
    with pytest.raises(ValueError):
        item_order((1, 2), {"move": "9:up"})


def test_approve_then_edit_returns_to_draft(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    response = _post(editor, mailing.id, "approve", version=_version(store, mailing.id))
    assert response.status_code == 303
    approved = store_mailings.get_mailing(store, mailing.id)
    assert approved.status == MailingStatus.APPROVED
    assert store_mailings.approved_by(store, mailing.id) == EDITOR
    clock.advance(60)
    _post(editor, mailing.id, "content", subject="Noch eine Änderung", intro="")
    assert store_mailings.get_mailing(store, mailing.id).status == MailingStatus.DRAFT
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert "Noch eine Änderung" in page


def test_cancel_needs_confirmation(editor: FlaskClient, store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock)
    _post(editor, mailing.id, "cancel")
    assert store_mailings.get_mailing(store, mailing.id).status == MailingStatus.DRAFT
    _post(editor, mailing.id, "cancel", confirm="yes")
    assert store_mailings.get_mailing(store, mailing.id).status == MailingStatus.CANCELLED
    refused = _post(editor, mailing.id, "content", subject="Zu spät", intro="")
    assert refused.status_code == 409


# --- test copies -----------------------------------------------------------------------


@pytest.fixture
def smtp_app(
    settings_factory: Any,
    store: Store,
    clock: FakeClock,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Flask:
    settings = settings_factory(
        delivery={"transport": "smtp", "per_second": 1000},
        smtp={"host": "127.0.0.1", "port": smtp_server.port, "security": "none"},
    )
    set_editor_env(monkeypatch, settings)
    return make_app(settings, store, clock)


def test_test_copy_goes_to_an_editor(
    smtp_app: Flask, store: Store, clock: FakeClock, smtp_server: Any
) -> None:
    mailing = seed_mailing(store, clock)
    with smtp_app.test_client() as client:
        login(client)
        page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
        assert f'<option value="{EDITOR}">' in page
        assert '<option value="redaktion@junge-buergermeister.example">' in page
        response = _post(client, mailing.id, "test", to=EDITOR)
        assert response.status_code == 303
        message = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Testkopie" in message and "unterwegs" in message
    received = smtp_server.messages
    assert [r.rcpt_tos for r in received] == [[EDITOR]]
    assert "Bürgermeister" in received[0].message["Subject"]
    assert store_mailings.get_mailing(store, mailing.id).status == MailingStatus.DRAFT


def test_test_copy_never_goes_to_a_foreign_address(
    smtp_app: Flask, store: Store, clock: FakeClock, smtp_server: Any
) -> None:
    mailing = seed_mailing(store, clock)
    with smtp_app.test_client() as client:
        login(client)
        response = _post(client, mailing.id, "test", to="opfer@example.org")
        message = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "nur an Adressen der Redaktion" in message
    assert smtp_server.messages == []


def test_hostile_item_text_is_escaped_on_the_page(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    from sqlalchemy import update

    from pipeline.store.schema import items

    mailing = seed_mailing(store, clock)
    with store.begin() as conn:
        conn.execute(
            update(items)
            .where(items.c.id == mailing.item_ids[0])
            .values(title='<script>alert("x")</script><img src=x onerror=alert(1)>')
        )
    html = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert" in html


# --- rundbrief serve -------------------------------------------------------------------


def test_serve_refuses_to_start_without_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNDBRIEF_SECRET", raising=False)
    env = {k: v for k, v in os.environ.items() if k != "RUNDBRIEF_SECRET"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "--config",
            str(write_serve_config(tmp_path, 8000)),
            "serve",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2
    assert "RUNDBRIEF_SECRET" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_answers_over_http(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "RUNDBRIEF_SECRET": "s" * 40}
    env.pop("RUNDBRIEF_EDITOR_USER", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "--config",
            str(write_serve_config(tmp_path, port)),
            "serve",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/archive", timeout=10) as r:
            body = r.read().decode("utf-8")
        assert "<h1>Archiv</h1>" in body
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert "there is no account yet, so nobody can log in" in stderr
    assert "rundbrief users add EMAIL --role admin" in stderr


def test_sent_mailing_shows_delivery_counts(
    editor: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    from pipeline.store.schema import deliveries
    from tests.support.mailings import render_mailing

    mailing = seed_mailing(store, clock)
    render_mailing(settings, store, mailing.id, clock=clock)
    mailing_ops.approve(store, mailing.id, clock=clock, by="redaktion")
    mailing_ops.set_status(store, mailing.id, MailingStatus.SENDING, clock=clock)
    rows = [
        {"email": "anna.schulz@example.org", "status": "sent", "last_error": None},
        {"email": "jonas.weber@example.org", "status": "sent", "last_error": None},
        {"email": "kim.meyer@example.org", "status": "failed", "last_error": "550 5.1.1 unbekannt"},
    ]
    with store.begin() as conn:
        for row in rows:
            conn.execute(
                deliveries.insert().values(
                    mailing_id=mailing.id, list_name="members", created_at=clock.now(), **row
                )
            )
    mailing_ops.set_status(store, mailing.id, MailingStatus.SENT, clock=clock)
    html = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert "Versand" in html
    assert re.search(r"zugestellt</th><td>2<", html)
    assert re.search(r"fehlgeschlagen</th><td>1<", html)
    assert "1 × 550 5.1.1 unbekannt" in html
    assert "Freigeben</button>" not in html
    assert f'action="/editor/mailings/{mailing.id}/content"' not in html


def test_a_throttled_address_does_not_block_another(app: Flask, clock: FakeClock) -> None:
    with app.test_client() as stranger:
        stranger.environ_base["REMOTE_ADDR"] = "203.0.113.66"
        for _ in range(8):
            answer = login(stranger, password="rate-mal")
            if answer.status_code == 429:
                clock.advance(int(answer.headers["Retry-After"]))
                assert login(stranger, password="rate-mal").status_code == 401
        assert login(stranger).status_code == 429  # this address waits, even with it right
    with app.test_client() as editor:  # the editor in the office, at once
        editor.environ_base["REMOTE_ADDR"] = "198.51.100.7"
        assert login(editor).status_code == 303
        assert editor.get("/editor/").status_code == 200


def test_many_addresses_slow_the_account_for_a_minute_at_most(app: Flask, clock: FakeClock) -> None:
    for n in range(101):  # the account's free tries from all addresses together
        with app.test_client() as other:
            other.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"
            assert login(other, password="rate-mal").status_code == 401
    with app.test_client() as client:
        client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
        slowed = login(client)
        assert slowed.status_code == 429
        assert int(slowed.headers["Retry-After"]) <= 60
        clock.advance(int(slowed.headers["Retry-After"]))
        assert login(client).status_code == 303


def test_hostile_intro_is_rendered_harmless(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    intro = (
        "Hallo <script>alert('x')</script> und <img src=x onerror=alert(1)>\n\n"
        "[Klick](javascript:alert(1)) und [sicher](https://www.junge-buergermeister.example/)"
    )
    _post(editor, mailing.id, "content", subject=mailing.subject, intro=intro)
    assert store_mailings.get_mailing(store, mailing.id).intro_md == intro
    html = editor.get(f"/editor/mailings/{mailing.id}/render/de").get_data(as_text=True)
    assert not re.search(r"<script", html, re.I)
    assert not re.search(r"<[^>]*\son\w+\s*=", html, re.I)  # no event handler attribute
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", html, re.I)
    assert "&lt;script&gt;" in html  # shown as text, harmless
    assert 'href="https://www.junge-buergermeister.example/"' in html


def test_embargo_is_read_in_the_organisations_time_zone(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    press = seed_mailing(store, clock, items=1, kind="press", lists=["press"])
    _post(editor, press.id, "content", subject=press.subject, intro="", embargo="2026-06-20T09:30")
    stored = store_mailings.get_mailing(store, press.id)
    assert stored.embargo_at is not None and stored.send_at is None
    assert stored.embargo_at.isoformat() == "2026-06-20T07:30:00+00:00"  # CEST is UTC+2
    page = editor.get(f"/editor/mailings/{press.id}").get_data(as_text=True)
    assert "Sperrfrist" in page and 'value="2026-06-20T09:30"' in page
    assert "20.06.2026, 09:30" in page and "sobald freigegeben" in page
    assert "Sperrfrist 20.06.2026, 09:30" in editor.get("/editor/mailings").get_data(as_text=True)
    _post(editor, press.id, "content", subject=press.subject, intro="", embargo="morgen früh")
    assert store_mailings.get_mailing(store, press.id).embargo_at == stored.embargo_at
    _post(editor, press.id, "content", subject=press.subject, intro="", embargo="")
    assert store_mailings.get_mailing(store, press.id).embargo_at is None


def test_send_time_and_embargo_against_the_rule_are_refused_in_german(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    press = seed_mailing(store, clock, items=1, kind="press", lists=["press"])
    # the fixture clock: 19 June 2026, 10:00 in Berlin
    past = _post(
        editor, press.id, "content", subject=press.subject, intro="", embargo="2026-06-19T09:00"
    )
    page = editor.get(past.headers["Location"]).get_data(as_text=True)
    assert "Die Sperrfrist 19.06.2026, 09:00 Uhr liegt in der Vergangenheit" in page
    assert store_mailings.get_mailing(store, press.id).embargo_at is None
    before = _post(
        editor,
        press.id,
        "content",
        subject=press.subject,
        intro="",
        send_at="2026-06-20T12:00",
        embargo="2026-06-20T10:00",
    )
    page = editor.get(before.headers["Location"]).get_data(as_text=True)
    assert "Die Sperrfrist (20.06.2026, 10:00 Uhr) liegt vor dem Versand (20.06.2026, 12:00" in page
    unchanged = store_mailings.get_mailing(store, press.id)
    assert (unchanged.send_at, unchanged.embargo_at) == (None, None)
    _post(
        editor,
        press.id,
        "content",
        subject=press.subject,
        intro="",
        send_at="2026-06-20T08:00",
        embargo="2026-06-20T10:00",
    )
    saved = store_mailings.get_mailing(store, press.id)
    assert saved.send_at is not None and saved.embargo_at is not None
    assert saved.embargo_at - saved.send_at == timedelta(hours=2)


def test_the_navigation_links_only_existing_areas_and_marks_the_current_one(
    editor: FlaskClient,
) -> None:
    page = editor.get("/editor/mailings").get_data(as_text=True)
    nav = page[page.index('<nav aria-label="Redaktion">') : page.index("</nav>")]
    assert '<a href="/editor/mailings" aria-current="page">Mailings</a>' in nav
    assert '<a href="/editor/segments">Segmente</a>' in nav  # another area: not current
    assert '<a href="/editor/subscribers">Abonnenten</a>' in nav
    assert '<a href="/editor/signups">Anmeldungen</a>' in nav
