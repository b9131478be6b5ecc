"""RFC 8058 one-click unsubscribe, the unsubscribe page and preferences over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from pipeline.audience import is_receiving, is_suppressed, iter_recipients
from pipeline.audience.csv_import import import_file
from pipeline.audience.links import preferences_url, unsubscribe_url
from pipeline.audience.tokens import make_token
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store import audience as q

CSV = (
    "email,first_name,last_name,language,lists\n"
    "jana@zeitung.example,Jana,Köhler,de,members press\n"
    "otto@verein.example,Otto,Öhler,de,members\n"
)


@pytest.fixture
def server(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    write_csv: Callable[..., Path],
    live_app: Callable[..., Any],
) -> Any:
    assert import_file(settings, store, write_csv(CSV), clock=clock).ok
    return live_app(settings, store, clock)


def _local(url: str, server: Any) -> str:
    """The link as mailed, pointed at the test server instead of base_url."""
    return server.url + url[url.index("/", len("https://")) :]


def _jana(store: Store) -> int:
    with store.connect() as conn:
        person = q.find_subscriber(conn, "jana@zeitung.example")
    assert person is not None
    return person.id


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_rfc8058_one_click_post(
    encoding: str, server: Any, settings: Settings, store: Store, secret: str
) -> None:
    url = _local(unsubscribe_url(settings, secret, _jana(store), "press"), server)
    if encoding == "urlencoded":
        response = requests.post(
            url,
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            timeout=10,
        )
    else:
        response = requests.post(
            url,
            files={"List-Unsubscribe": (None, "One-Click")},
            allow_redirects=False,
            timeout=10,
        )
        assert response.request.headers["Content-Type"].startswith("multipart/form-data")
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert "abgemeldet" in response.text
    assert not is_receiving(store, "jana@zeitung.example", "press")
    # One list only: she stays on the members list and is not suppressed as a whole.
    assert is_receiving(store, "jana@zeitung.example", "members")
    assert not is_suppressed(store, "jana@zeitung.example")
    # Repeating it (mail clients retry) is fine.
    again = requests.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert again.status_code == 200


def test_get_shows_a_button_and_changes_nothing(
    server: Any, settings: Settings, store: Store, secret: str
) -> None:
    url = _local(unsubscribe_url(settings, secret, _jana(store), "press"), server)
    for _ in range(3):  # scanners prefetch, some twice
        page = requests.get(url, timeout=10)
        assert page.status_code == 200
        assert 'method="post"' in page.text and "Jetzt abmelden" in page.text
        assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert is_receiving(store, "jana@zeitung.example", "press")
    # The button posts the same form the RFC 8058 client does.
    done = requests.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert done.status_code == 200 and not is_receiving(store, "jana@zeitung.example", "press")
    assert "Sie sind abgemeldet" in requests.get(url, timeout=10).text


def test_last_list_left_suppresses_the_address(
    server: Any, settings: Settings, store: Store, secret: str
) -> None:
    with store.connect() as conn:
        otto = q.find_subscriber(conn, "otto@verein.example")
    assert otto is not None
    url = _local(unsubscribe_url(settings, secret, otto.id, "members"), server)
    assert requests.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10).status_code == 200
    assert is_suppressed(store, "otto@verein.example")
    assert [r.email for r in iter_recipients(store, ["members"])] == ["jana@zeitung.example"]


def test_bad_altered_and_foreign_tokens_get_the_same_plain_page(
    server: Any, settings: Settings, store: Store, secret: str
) -> None:
    good = make_token(secret, _jana(store), "press")
    altered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    foreign = make_token("the-secret-of-another-installation", _jana(store), "press")
    wrong_purpose = make_token(secret, _jana(store), "press", purpose="preferences")
    bodies = set()
    for token in (altered, foreign, wrong_purpose, "nonsense", "a.b"):
        for method in ("GET", "POST"):
            response = requests.request(
                method,
                f"{server.url}/u/{token}",
                data={"List-Unsubscribe": "One-Click"},
                timeout=10,
            )
            assert response.status_code == 400
            assert "Set-Cookie" not in response.headers
            bodies.add(response.text)
    # An unsubscribe token is of the wrong purpose for the preferences and confirm pages.
    for token in (altered, foreign, good, "nonsense"):
        prefs = requests.get(f"{server.url}/p/{token}", timeout=10)
        assert prefs.status_code == 400
        bodies.add(prefs.text)
        for method in ("GET", "POST"):
            confirm = requests.request(method, f"{server.url}/confirm/{token}", timeout=10)
            assert confirm.status_code == 400
            bodies.add(confirm.text)
    assert len(bodies) == 1
    (body,) = bodies
    assert "ungültig" in body
    assert "zeitung.example" not in body and "Presseverteiler" not in body
    assert is_receiving(store, "jana@zeitung.example", "press")


def test_preferences_change_lists_and_language(
    server: Any, settings: Settings, store: Store, secret: str, clock: FakeClock
) -> None:
    url = _local(preferences_url(settings, secret, _jana(store), "press"), server)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "jana@zeitung.example" in page.text
    assert page.text.count('name="lists"') == 2 and "Set-Cookie" not in page.headers

    saved = requests.post(url, data={"lists": ["members"], "language": "en"}, timeout=10)
    # the answer already speaks the language just chosen
    assert saved.status_code == 200 and "Saved." in saved.text and '<html lang="en">' in saved.text
    assert not is_receiving(store, "jana@zeitung.example", "press")
    assert is_receiving(store, "jana@zeitung.example", "members")
    with store.connect() as conn:
        person = q.find_subscriber(conn, "jana@zeitung.example")
    assert person is not None and person.language == "en"

    # Ticking press (double opt-in) again asks for a confirmation: pending, with evidence.
    clock.advance(hours=1)
    requests.post(url, data={"lists": ["members", "press"], "language": "en"}, timeout=10)
    assert not is_receiving(store, "jana@zeitung.example", "press")
    with store.connect() as conn:
        sub = q.get_subscription(conn, _jana(store), "press")
    assert sub is not None and sub.status == "pending" and sub.source.startswith("preferences:")
    assert sub.signup_ip == "127.0.0.1" and sub.confirmed_at is None

    # Unticking everything ends every subscription and suppresses the address.
    requests.post(url, data={"language": "de"}, timeout=10)
    assert is_suppressed(store, "jana@zeitung.example")
    assert list(iter_recipients(store, ["members", "press"])) == [
        r for r in iter_recipients(store, ["members", "press"]) if r.email != "jana@zeitung.example"
    ]


def test_unsubscribe_takes_effect_for_a_mailing_being_sent(
    server: Any, settings: Settings, store: Store, secret: str, clock: FakeClock
) -> None:
    from sqlalchemy import insert, select

    from pipeline.store.schema import deliveries, mailings

    now = clock.now()
    with store.begin() as conn:
        mailing_id = conn.execute(
            insert(mailings).values(
                kind="press",
                status="sending",
                subject="Pressemitteilung",
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(deliveries),
            [
                {
                    "mailing_id": mailing_id,
                    "email": email,
                    "list_name": "press",
                    "status": "queued",
                    "created_at": now,
                }
                for email in ("jana@zeitung.example", "otto@verein.example")
            ],
        )
    url = _local(unsubscribe_url(settings, secret, _jana(store), "press"), server)
    assert requests.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10).status_code == 200
    with store.connect() as conn:
        rows = dict(conn.execute(select(deliveries.c.email, deliveries.c.status)).all())
    assert rows == {"jana@zeitung.example": "suppressed", "otto@verein.example": "queued"}
