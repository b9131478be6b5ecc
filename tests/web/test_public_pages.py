"""The public sign-up and archive pages say one thing: the newsletter link leads to the
newsletter's own form, each list has its own address, the link's validity is the one
the mail states."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from tests.support.settings import BASE
from tests.support.web import make_app, set_editor_env


@pytest.fixture
def public_client(
    settings_factory: Callable[..., Settings],
    store: Store,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> FlaskClient:
    lists = [dict(m, double_opt_in=True) for m in BASE["lists"]]
    settings = settings_factory(lists=lists, audience={"confirm_days": 5})
    set_editor_env(monkeypatch, settings)
    return make_app(settings, store, clock).test_client()


def test_archive_subscribe_link_leads_to_the_newsletter_form(public_client: FlaskClient) -> None:
    page = public_client.get("/archive").get_data(as_text=True)
    assert 'href="/signup/members"' in page
    form = public_client.get("/signup/members").get_data(as_text=True)
    assert 'name="list" value="members"' in form and 'value="press"' not in form


def test_query_form_redirects_to_the_lists_own_address(public_client: FlaskClient) -> None:
    answer = public_client.get("/signup?list=members")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/signup/members")


def test_unknown_list_is_a_404_in_the_site_frame(public_client: FlaskClient) -> None:
    answer = public_client.get("/signup/geheim")
    assert answer.status_code == 404 and "site-header" in answer.get_data(as_text=True)


def test_done_page_names_the_configured_validity(public_client: FlaskClient) -> None:
    form = public_client.get("/signup/members").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    done = public_client.post(
        "/signup",
        data={
            "csrf_token": token.group(1),
            "list": "members",
            "email": "anna@gemeinde.example",
            "consent": "yes",
        },
    )
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and "5 Tage" in body and "einige" not in body


def test_address_error_speaks_the_pages_language(public_client: FlaskClient) -> None:
    import re

    form = public_client.get("/signup/members?lang=en").get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)"', form)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert action and token
    answer = public_client.post(
        action.group(1).replace("&amp;", "&"),
        data={
            "csrf_token": token.group(1),
            "list": "members",
            "email": "anna.gemeinde.example",
            "language": "de",
            "consent": "yes",
        },
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "This e-mail address is not valid: The @ sign is missing." in body
    assert "ungültig" not in body and "An email address" not in body
    assert 'value="anna.gemeinde.example"' in body


def test_preferences_ask_for_confirmation_of_a_double_opt_in_list(
    settings: Settings, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.audience import is_receiving
    from pipeline.audience.links import preferences_url
    from pipeline.store import audience as q
    from pipeline.store import system_mail as db
    from tests.support.web import SECRET

    now = clock.now()
    with store.begin() as conn:
        person = q.create_subscriber(
            conn,
            {
                "email": "anna@gemeinde.example",
                "email_hash": "x",
                "first_name": "Anna",
                "last_name": "",
                "language": "de",
                "attributes": {},
                "created_at": now,
                "updated_at": now,
            },
        )
        q.upsert_subscription(
            conn,
            person,
            "members",
            {"status": "active", "source": "import", "created_at": now, "updated_at": now},
        )
    set_editor_env(monkeypatch, settings)
    client = make_app(settings, store, clock).test_client()
    url = preferences_url(settings, SECRET, person, "members")
    path = url[url.index("/p/") :]
    answer = client.post(path, data={"lists": ["members", "press"], "language": "de"})
    assert answer.status_code == 200
    assert "wartet auf Ihre Bestätigung" in answer.get_data(as_text=True)
    assert not is_receiving(store, "anna@gemeinde.example", "press")
    kinds = [(m.kind, m.list_name) for m in db.list_mail(store)]
    assert kinds == [("confirmation", "press")]
