"""Brevo's transactional webhook over real HTTP, with the payloads its "Transactional
webhooks" page documents and its "Secure webhook calls" options: user and password in
the URL (basic auth) or a bearer token (its ``auth`` option, or ``?token=`` in the URL).

Brevo does not sign calls: a call without a configured credential is refused and nothing
in it is acted on; events not tied to our deliveries are recorded, not acted on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.providers.brevo import custom_header
from pipeline.store import Store
from tests.bounces.conftest import (
    BOUNCE_DOMAIN,
    PEOPLE,
    SECRET,
    add_mailing,
    provider_id,
    recorded_events,
    serving,
    suppression_reasons,
)

USER, PASSWORD = "brevo", "Webhook-Passwort-für-Brevo"
TOKEN = "c2hhcmVkLXNlY3JldC1vZi10aGUtYnJldm8td2ViaG9vaw"


def brevo_event(delivery_id: int, name: str, **fields: Any) -> dict[str, Any]:
    """One event as Brevo's transactional webhook posts it, about a delivery of mailing 7
    (``X-Mailin-custom`` is the header our transport set; ``id`` is the webhook's)."""
    return {
        "event": name,
        "email": PEOPLE[delivery_id],
        "id": 1217735,
        "date": "2026-06-19 10:28:10",
        "ts": 1781857690,
        "message-id": f"<{provider_id(7, delivery_id)}>",
        "ts_event": 1781857690 + delivery_id,
        "subject": "Netzwerk Junge Bürgermeister*innen · Newsletter KW 25/2026",
        "X-Mailin-custom": custom_header(delivery_id),
        "sending_ip": "185.41.28.109",
        "ts_epoch": 1781857690123,
        "template_id": 0,
        "tags": ["newsletter"],
        **fields,
    }


@pytest.fixture
def brevo_settings(settings_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("RUNDBRIEF_SECRET", SECRET)
    monkeypatch.setenv("RUNDBRIEF_BREVO_WEBHOOK_USER", USER)
    monkeypatch.setenv("RUNDBRIEF_BREVO_WEBHOOK_PASSWORD", PASSWORD)
    monkeypatch.setenv("TEST_BREVO_TOKEN", TOKEN)
    settings: Settings = settings_factory(
        delivery={"bounce_domain": BOUNCE_DOMAIN},
        bounces={"soft_bounces_before_suppress": 2},
        brevo={"webhook_token_env": "TEST_BREVO_TOKEN"},
    )
    return settings


@pytest.fixture
def brevo_store(brevo_settings: Settings) -> Iterator[Store]:
    store = Store.open(brevo_settings.database_url())
    add_mailing(store, 7, PEOPLE)
    yield store
    store.close()


@pytest.fixture
def url(brevo_settings: Settings, brevo_store: Store, clock: FakeClock) -> Iterator[str]:
    with serving(brevo_settings, brevo_store, clock) as base:
        yield f"{base}/webhooks/brevo"


def test_documented_events_act_on_our_deliveries(url: str, brevo_store: Store) -> None:
    events = [
        brevo_event(101, "hard_bounce", reason="550 5.1.1 user unknown"),
        brevo_event(102, "soft_bounce", reason="452 4.2.2 mailbox full"),
        brevo_event(103, "invalid_email"),
        brevo_event(104, "unsubscribed"),
        brevo_event(105, "spam"),
        brevo_event(102, "blocked", reason="blocked : due to blacklist user"),
        brevo_event(101, "delivered"),
        brevo_event(101, "request"),
    ]
    for payload in events:
        response = requests.post(url, json=payload, auth=(USER, PASSWORD), timeout=5)
        assert response.status_code == 200, response.text
    assert suppression_reasons(brevo_store) == {
        PEOPLE[101]: "hard_bounce",
        PEOPLE[103]: "hard_bounce",
        PEOPLE[104]: "unsubscribed",
        PEOPLE[105]: "complaint",
    }  # soft bounces count per delivery: two soft events about one message are one
    assert recorded_events(brevo_store) == [
        ("hard", 101),
        ("soft", 102),
        ("hard", 103),
        ("unsubscribe", 104),
        ("complaint", 105),
        ("soft", 102),
    ]
    # Brevo retries a call it saw fail: the same event counts once
    again = requests.post(url, json=events[0], auth=(USER, PASSWORD), timeout=5)
    assert again.status_code == 200 and again.json()["duplicates"] == 1


@pytest.mark.parametrize("how", ["bearer header", "token in the URL"])
def test_bearer_token_is_accepted(url: str, brevo_store: Store, how: str) -> None:
    payload = brevo_event(101, "hard_bounce")
    if how == "bearer header":
        response = requests.post(
            url, json=payload, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        )
    else:
        response = requests.post(url, json=payload, params={"token": TOKEN}, timeout=5)
    assert response.status_code == 200, response.text
    assert suppression_reasons(brevo_store) == {PEOPLE[101]: "hard_bounce"}


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"auth": (USER, "falsch")},
        {"auth": ("jemand", PASSWORD)},
        {"headers": {"Authorization": "Bearer falsch"}},
        {"params": {"token": TOKEN + "x"}},
        {"headers": {"Authorization": f"Basic {TOKEN}"}},
    ],
)
def test_forged_or_unauthenticated_calls_are_refused(
    url: str, brevo_store: Store, credentials: dict[str, Any]
) -> None:
    response = requests.post(url, json=brevo_event(101, "hard_bounce"), timeout=5, **credentials)
    assert response.status_code == 401
    assert suppression_reasons(brevo_store) == {} and recorded_events(brevo_store) == []


def test_not_configured_answers_503(
    settings_factory: Any, brevo_store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("RUNDBRIEF_BREVO_WEBHOOK_PASSWORD", "TEST_BREVO_TOKEN"):
        monkeypatch.delenv(name)
    settings = settings_factory(brevo={"webhook_token_env": "TEST_BREVO_TOKEN"})
    with serving(settings, brevo_store, clock) as base:
        response = requests.post(
            f"{base}/webhooks/brevo",
            json=brevo_event(101, "hard_bounce"),
            auth=(USER, ""),
            timeout=5,
        )
    assert response.status_code == 503
    assert suppression_reasons(brevo_store) == {}


def test_events_not_tied_to_our_deliveries_are_recorded_not_acted_on(
    url: str, brevo_store: Store
) -> None:
    # another sender on the same Brevo account mailed Anna
    foreign = brevo_event(
        101, "hard_bounce", **{"message-id": "<202606191028.1@smtp-relay.mailin.fr>"}
    )
    del foreign["X-Mailin-custom"]
    # our custom header copied onto someone else's message
    borrowed = brevo_event(102, "spam", **{"message-id": "<202606191028.2@smtp-relay.mailin.fr>"})
    # Ben's message, but the event names Eva
    crossed = brevo_event(103, "unsubscribed", email=PEOPLE[105])
    for payload in (foreign, borrowed, crossed):
        response = requests.post(url, json=payload, auth=(USER, PASSWORD), timeout=5)
        assert response.status_code == 200, response.text
        assert (response.json()["suppressed"], response.json()["unmatched"]) == (0, 1)
    assert suppression_reasons(brevo_store) == {}
    assert recorded_events(brevo_store) == [
        ("hard", None),
        ("complaint", None),
        ("unsubscribe", None),
    ]


def test_a_body_that_is_no_event_is_400(url: str) -> None:
    response = requests.post(
        url,
        data=b"[1, 2]",
        headers={"Content-Type": "application/json"},
        auth=(USER, PASSWORD),
        timeout=5,
    )
    assert response.status_code == 400
