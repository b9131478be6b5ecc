"""SendGrid's Signed Event Webhook over real HTTP: events as its Event Webhook reference
documents them, signed with a P-256 key made for the test (ECDSA over timestamp + body).

Anything not signed by the configured key, or signed too long ago, is refused and
nothing in it is acted on; events not tied to our deliveries are recorded, not acted on.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pipeline.clock import FakeClock
from pipeline.config import Settings
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

KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def public_text(key: ec.EllipticCurvePrivateKey) -> str:
    """The key as SendGrid's settings page shows it: base64 of the DER public key."""
    der = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def event(delivery_id: int, name: str, n: int = 1, **fields: Any) -> dict[str, Any]:
    """One event as the Event Webhook reference shows it, about a delivery of mailing 7
    (our transport's custom_args come back as top-level keys)."""
    body: dict[str, Any] = {
        "email": PEOPLE[delivery_id],
        "timestamp": 1781856137,
        "smtp-id": f"<rb-7-{delivery_id}@junge-buergermeister.example>",
        "event": name,
        "category": ["newsletter"],
        "sg_event_id": f"c2VuZGdyaWQtZXZlbnQt{delivery_id}-{name}-{n}",
        "sg_message_id": f"{provider_id(7, delivery_id)}.filterdrecv-5645d9c87f-78xgx-1-62F6.0",
        "delivery_id": str(delivery_id),
        **fields,
    }
    return body


def hard_bounce(delivery_id: int, **fields: Any) -> dict[str, Any]:
    return event(
        delivery_id,
        "bounce",
        type="bounce",
        status="5.1.1",
        reason="550 5.1.1 The email account that you tried to reach does not exist.",
        bounce_classification="Invalid Address",
        **fields,
    )


def signed(
    body: bytes, clock: FakeClock, *, key: ec.EllipticCurvePrivateKey = KEY, age: float = 0
) -> dict[str, str]:
    timestamp = str(int(clock.now().timestamp() - age))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }


@pytest.fixture
def sg_settings(settings_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("RUNDBRIEF_SECRET", SECRET)
    settings: Settings = settings_factory(
        delivery={"bounce_domain": BOUNCE_DOMAIN},
        bounces={"soft_bounces_before_suppress": 2},
        sendgrid={"webhook_public_key": public_text(KEY)},
    )
    return settings


@pytest.fixture
def sg_store(sg_settings: Settings) -> Iterator[Store]:
    store = Store.open(sg_settings.database_url())
    add_mailing(store, 7, PEOPLE)
    yield store
    store.close()


@pytest.fixture
def url(sg_settings: Settings, sg_store: Store, clock: FakeClock) -> Iterator[str]:
    with serving(sg_settings, sg_store, clock) as base:
        yield f"{base}/webhooks/sendgrid"


def post(url: str, events: list[dict[str, Any]], headers: dict[str, str]) -> requests.Response:
    return requests.post(url, data=json.dumps(events).encode(), headers=headers, timeout=5)


def test_documented_events_act_on_our_deliveries(
    url: str, sg_store: Store, clock: FakeClock
) -> None:
    events = [
        event(103, "processed"),
        event(103, "deferred", response="400 try again later", attempt="5"),
        hard_bounce(101),
        event(102, "bounce", type="blocked", status="5.7.1", reason="550 5.7.1 blocked by policy"),
        event(104, "dropped", reason="Bounced Address", status=""),
        event(105, "spamreport"),
        event(103, "delivered", response="250 OK"),
    ]
    body = json.dumps(events).encode()
    response = requests.post(url, data=body, headers=signed(body, clock), timeout=5)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["hard"], answer["soft"], answer["complaints"]) == (2, 1, 1)
    assert suppression_reasons(sg_store) == {
        PEOPLE[101]: "hard_bounce",
        PEOPLE[104]: "hard_bounce",
        PEOPLE[105]: "complaint",
    }
    # deferred, processed and delivered are no bounces: nothing recorded for them
    assert recorded_events(sg_store) == [
        ("hard", 101),
        ("soft", 102),
        ("hard", 104),
        ("complaint", 105),
    ]
    # SendGrid retries a batch whose answer it did not see: it counts once
    clock.advance(1)
    again = requests.post(url, data=body, headers=signed(body, clock), timeout=5)
    assert again.status_code == 200 and again.json()["duplicates"] == 4
    assert len(recorded_events(sg_store)) == 4


def test_dropped_unsubscribed_address_is_an_unsubscribe(
    url: str, sg_store: Store, clock: FakeClock
) -> None:
    events = [
        event(102, "dropped", reason="Unsubscribed Address"),
        event(103, "dropped", reason="Spam Content (if spam checker app enabled)"),
    ]
    body = json.dumps(events).encode()
    response = requests.post(url, data=body, headers=signed(body, clock), timeout=5)
    assert response.status_code == 200 and response.json()["unsubscribes"] == 1
    # a drop about our content is not the recipient's: no event at all
    assert suppression_reasons(sg_store) == {PEOPLE[102]: "unsubscribed"}
    assert recorded_events(sg_store) == [("unsubscribe", 102)]


@pytest.mark.parametrize("forgery", ["unsigned", "other key", "tampered", "stale", "garbled"])
def test_forged_or_unsigned_calls_are_refused_and_nothing_acted_on(
    url: str, sg_store: Store, clock: FakeClock, forgery: str
) -> None:
    body = json.dumps([hard_bounce(101)]).encode()
    headers = {
        "unsigned": {"Content-Type": "application/json"},
        "other key": signed(body, clock, key=OTHER_KEY),
        "tampered": signed(json.dumps([hard_bounce(102)]).encode(), clock),
        "stale": signed(body, clock, age=600),
        "garbled": {**signed(body, clock), "X-Twilio-Email-Event-Webhook-Signature": "%%%"},
    }[forgery]
    response = requests.post(url, data=body, headers=headers, timeout=5)
    assert response.status_code == 401
    expected = {"unsigned": "no signature", "stale": "stale timestamp"}.get(forgery)
    assert response.json()["error"] == (expected or "wrong signature")
    assert suppression_reasons(sg_store) == {} and recorded_events(sg_store) == []


def test_a_replayed_signed_call_is_refused(url: str, sg_store: Store, clock: FakeClock) -> None:
    body = json.dumps([hard_bounce(101)]).encode()
    headers = signed(body, clock)
    assert requests.post(url, data=body, headers=headers, timeout=5).status_code == 200
    clock.advance(30)
    replay = requests.post(url, data=body, headers=headers, timeout=5)
    assert replay.status_code == 401 and replay.json()["error"] == "replayed call"


def test_not_configured_answers_503(
    settings_factory: Any, sg_store: Store, clock: FakeClock
) -> None:
    settings = settings_factory()  # the same store, no [sendgrid] webhook_public_key
    with serving(settings, sg_store, clock) as base:
        body = json.dumps([hard_bounce(101)]).encode()
        response = requests.post(
            f"{base}/webhooks/sendgrid", data=body, headers=signed(body, clock), timeout=5
        )
    assert response.status_code == 503
    assert suppression_reasons(sg_store) == {}


def test_events_not_tied_to_our_deliveries_are_recorded_not_acted_on(
    url: str, sg_store: Store, clock: FakeClock
) -> None:
    # another application on the same SendGrid account mailed Anna: no custom args,
    # a message id that is not one of ours
    foreign = hard_bounce(101, sg_message_id="Qm9yaXNBbmRlcmVBcHA.filterdrecv-1.0")
    del foreign["delivery_id"]
    foreign["smtp-id"] = "<20260619.4711@app.fremd.example>"
    # our delivery id, but with a message id that is not that delivery's
    borrowed = hard_bounce(102, n=2, sg_message_id="Zm9yZ2VkLW1lc3NhZ2U.filterdrecv-2.0")
    borrowed["smtp-id"] = "<20260619.4712@app.fremd.example>"
    # Ben's delivery and message, but the event names Zoë
    crossed = hard_bounce(103, n=3, email=PEOPLE[104])
    body = json.dumps([foreign, borrowed, crossed]).encode()
    response = requests.post(url, data=body, headers=signed(body, clock), timeout=5)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["suppressed"], answer["unmatched"]) == (0, 3)
    assert [r["recipient"] for r in answer["unmatched_reports"]] == [
        PEOPLE[101],
        PEOPLE[102],
        PEOPLE[104],
    ]
    assert suppression_reasons(sg_store) == {}
    assert recorded_events(sg_store) == [("hard", None)] * 3


def test_a_body_that_is_no_event_array_is_400(url: str, clock: FakeClock) -> None:
    body = json.dumps({"event": "bounce"}).encode()
    response = requests.post(url, data=body, headers=signed(body, clock), timeout=5)
    assert response.status_code == 400
