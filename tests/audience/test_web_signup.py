"""Double opt-in over real HTTP, with the confirmation mail received by a real SMTP server.

The page records the confirmation in the system mail outbox and answers; the tests then
drain the outbox (as the daemon's ``mail`` job does) instead of waiting for a thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests

from pipeline.audience import is_receiving, is_suppressed
from pipeline.audience.suppression import suppress, unsubscribe
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.system import DrainReport, drain_system_mail
from pipeline.store import Store
from pipeline.store import audience as q
from tests.support.smtp import SmtpServer

CONFIRM_LINK = re.compile(
    r"http://rundbrief\.junge-buergermeister\.example(/confirm/[A-Za-z0-9._-]+)"
)


@pytest.fixture
def smtp_settings(settings_factory: Callable[..., Settings], smtp_server: SmtpServer) -> Settings:
    # http: the session cookie of the sign-up form (CSRF) is Secure under https and would
    # not travel to the plain-HTTP test server.
    return settings_factory(
        web={"base_url": "http://rundbrief.junge-buergermeister.example"},
        delivery={"transport": "smtp"},
        smtp={"host": "127.0.0.1", "port": smtp_server.port, "security": "none"},
        audience={"signups_per_ip_per_hour": 3, "confirm_days": 7},
    )


@pytest.fixture
def site(
    smtp_settings: Settings, store: Store, clock: FakeClock, live_app: Callable[..., Any]
) -> Any:
    from pipeline.deliver.factory import transport_from_settings

    return live_app(
        smtp_settings,
        store,
        clock,
        transport_factory=lambda: transport_from_settings(smtp_settings),
    )


def _form_signup(site: Any, **fields: str) -> requests.Response:
    session = requests.Session()
    page = session.get(f"{site.url}/signup?list=press", timeout=10)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    source = re.search(r'name="source" value="([^"]+)"', page.text)
    assert token and source
    data = {
        "csrf_token": token.group(1),
        "source": source.group(1),
        "list": "press",
        "consent": "yes",
    }
    data.update(fields)
    return session.post(f"{site.url}/signup", data=data, timeout=10)


@pytest.fixture
def drain(smtp_settings: Settings, store: Store, clock: FakeClock) -> Callable[[], DrainReport]:
    return lambda: drain_system_mail(store, smtp_settings, None, clock)


def _mails_to(smtp_server: SmtpServer, to: str) -> list[Any]:
    return [m for m in smtp_server.messages if to in m.rcpt_tos]


def _confirm_path(smtp_server: SmtpServer, to: str, drain: Callable[[], DrainReport]) -> str:
    drain()
    mails = _mails_to(smtp_server, to)
    assert len(mails) == 1, f"expected one mail to {to}, got {len(mails)}"
    message = mails[0].message
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    found = CONFIRM_LINK.search(text.get_content())
    assert found, "no confirmation link in the text part"
    return found.group(1)


def test_full_double_opt_in_flow(
    site: Any,
    smtp_server: SmtpServer,
    store: Store,
    clock: FakeClock,
    smtp_settings: Settings,
    drain: Callable[[], DrainReport],
) -> None:
    answer = _form_signup(
        site, email="Meryem.Oezdemir@Wochenblatt.example", first_name="Meryem", last_name="Özdemir"
    )
    assert answer.status_code == 200
    assert "Bitte bestätigen Sie Ihre Anmeldung" in answer.text
    email = "meryem.oezdemir@wochenblatt.example"
    assert not is_receiving(store, email, "press")  # pending until confirmed

    path = _confirm_path(smtp_server, email, drain)
    clock.advance(hours=5)
    page = requests.get(site.url + path, timeout=10)
    assert page.status_code == 200 and "Anmeldung bestätigen" in page.text
    assert not is_receiving(store, email, "press")  # the GET (a scanner) confirms nothing

    done = requests.post(site.url + path, timeout=10)
    assert done.status_code == 200 and "ist bestätigt" in done.text
    assert is_receiving(store, email, "press")

    with store.connect() as conn:
        person = q.find_subscriber(conn, email)
        assert person is not None
        sub = q.get_subscription(conn, person.id, "press")
    assert person.first_name == "Meryem" and person.last_name == "Özdemir"
    assert sub is not None and sub.status == "active"
    assert sub.signup_ip == "127.0.0.1" and sub.confirm_ip == "127.0.0.1"
    assert sub.consent_version == smtp_settings.audience.consent_version
    assert sub.source.startswith("form:http://127.0.0.1") and "/signup" in sub.source
    assert sub.signup_at is not None and sub.confirmed_at is not None
    assert sub.confirm_sent_at is not None
    assert (sub.confirmed_at - sub.signup_at).total_seconds() == 5 * 3600

    # Used again: still fine, nothing changes.
    assert requests.post(site.url + path, timeout=10).status_code == 200


def test_same_answer_whether_or_not_the_address_exists(
    site: Any,
    smtp_server: SmtpServer,
    store: Store,
    clock: FakeClock,
    drain: Callable[[], DrainReport],
) -> None:
    def post(email: str) -> requests.Response:
        return requests.post(
            f"{site.url}/signup",
            json={"email": email, "list": "press", "consent": True},
            timeout=10,
        )

    first = post("neu@zeitung.example")
    assert first.status_code == 202
    path = _confirm_path(smtp_server, "neu@zeitung.example", drain)
    requests.post(site.url + path, timeout=10)
    assert is_receiving(store, "neu@zeitung.example", "press")

    again = post("neu@zeitung.example")  # already active
    other = post("fremd@zeitung.example")  # unknown
    assert again.status_code == other.status_code == 202
    assert again.json()["status"] == other.json()["status"] == "pending"
    assert again.json()["message"].replace("neu@", "X@") == other.json()["message"].replace(
        "fremd@", "X@"
    )
    assert set(again.headers) == set(other.headers)
    # Behind the answer: no second mail to the active subscriber.
    assert drain().sent == 1
    assert len(_mails_to(smtp_server, "fremd@zeitung.example")) == 1
    assert len(_mails_to(smtp_server, "neu@zeitung.example")) == 1


def test_sign_ups_are_rate_limited_per_ip(
    site: Any, smtp_server: SmtpServer, clock: FakeClock, drain: Callable[[], DrainReport]
) -> None:
    statuses = []
    for n in range(4):
        response = requests.post(
            f"{site.url}/signup",
            json={"email": f"person{n}@zeitung.example", "list": "press", "consent": True},
            timeout=10,
        )
        statuses.append(response.status_code)
    assert statuses == [202, 202, 202, 429]
    assert 0 < int(response.headers["Retry-After"]) <= 3601
    assert drain().sent == 3
    for n in range(3):
        assert len(_mails_to(smtp_server, f"person{n}@zeitung.example")) == 1
    clock.advance(hours=1, seconds=1)
    response = requests.post(
        f"{site.url}/signup",
        json={"email": "person9@zeitung.example", "list": "press", "consent": True},
        timeout=10,
    )
    assert response.status_code == 202


def test_confirmation_link_expires(
    site: Any,
    smtp_server: SmtpServer,
    store: Store,
    clock: FakeClock,
    drain: Callable[[], DrainReport],
) -> None:
    _form_signup(site, email="spaet@zeitung.example")
    path = _confirm_path(smtp_server, "spaet@zeitung.example", drain)
    clock.advance(days=7, seconds=1)
    assert requests.get(site.url + path, timeout=10).status_code == 400
    assert requests.post(site.url + path, timeout=10).status_code == 400
    assert not is_receiving(store, "spaet@zeitung.example", "press")


def test_refusals(site: Any, smtp_server: SmtpServer, drain: Callable[[], DrainReport]) -> None:
    def post(payload: dict[str, Any]) -> requests.Response:
        return requests.post(f"{site.url}/signup", json=payload, timeout=10)

    assert post({"email": "a@zeitung.example", "list": "press"}).status_code == 400  # no consent
    bad = post({"email": "kein-at", "list": "press", "consent": True})
    assert bad.status_code == 400 and "ungültig" in bad.json()["error"]
    # The members list takes no sign-ups (members are members).
    assert (
        post({"email": "a@zeitung.example", "list": "members", "consent": True}).status_code == 400
    )
    # A form post without the CSRF token is refused before anything happens.
    forged = requests.post(
        f"{site.url}/signup",
        data={"email": "a@zeitung.example", "list": "press", "consent": "yes"},
        timeout=10,
    )
    assert forged.status_code == 400
    assert drain().claimed == 0
    assert smtp_server.messages == []


def test_honeypot_answers_the_same_and_sends_nothing(
    site: Any, smtp_server: SmtpServer, drain: Callable[[], DrainReport]
) -> None:
    answer = _form_signup(site, email="bot@spam.example", website="http://spam.example")
    assert answer.status_code == 200 and "Bitte bestätigen Sie Ihre Anmeldung" in answer.text
    assert drain().claimed == 0
    assert smtp_server.messages == []


def test_suppressed_addresses(
    site: Any,
    smtp_server: SmtpServer,
    store: Store,
    clock: FakeClock,
    drain: Callable[[], DrainReport],
) -> None:
    # A complaint stands: same answer, no mail.
    suppress(store, "beschwerde@zeitung.example", "complaint", clock=clock)
    answer = _form_signup(site, email="beschwerde@zeitung.example")
    assert answer.status_code == 200 and "Bitte bestätigen" in answer.text
    assert drain().claimed == 0
    assert smtp_server.messages == []

    # Someone who unsubscribed may come back by confirming again.
    _form_signup(site, email="zurueck@zeitung.example")
    requests.post(
        site.url + _confirm_path(smtp_server, "zurueck@zeitung.example", drain), timeout=10
    )
    unsubscribe(store, "zurueck@zeitung.example", None, clock=clock)
    assert is_suppressed(store, "zurueck@zeitung.example")
    smtp_server.sink.messages.clear()
    clock.advance(seconds=2)
    _form_signup(site, email="zurueck@zeitung.example")
    requests.post(
        site.url + _confirm_path(smtp_server, "zurueck@zeitung.example", drain), timeout=10
    )
    assert not is_suppressed(store, "zurueck@zeitung.example")
    assert is_receiving(store, "zurueck@zeitung.example", "press")
