"""Postmark and Mailgun webhooks over real HTTP (werkzeug on 127.0.0.1), with their auth."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from pipeline.audience.suppression import is_suppressed
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.providers import provider_settings
from pipeline.store import Store
from pipeline.store.schema import bounce_events, suppressions
from pipeline.web import create_app
from tests.bounces.conftest import PEOPLE, provider_id

PM_USER, PM_PASSWORD = "postmark", "Geheimes-Passwort-für-Postmark"
MG_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


@pytest.fixture
def base_url(
    verp_settings: Settings, sent_store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv(provider_settings(verp_settings, "postmark").webhook_user_env, PM_USER)
    monkeypatch.setenv(
        provider_settings(verp_settings, "postmark").webhook_password_env, PM_PASSWORD
    )
    monkeypatch.setenv(provider_settings(verp_settings, "mailgun").webhook_signing_key_env, MG_KEY)
    app = create_app(verp_settings, sent_store, clock=clock)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


def reasons(store: Store) -> dict[str, str]:
    with store.connect() as conn:
        rows = conn.execute(select(suppressions.c.email, suppressions.c.reason)).all()
    return {str(e): str(r) for e, r in rows}


def event_count(store: Store) -> int:
    with store.connect() as conn:
        return len(conn.execute(select(bounce_events.c.id)).all())


# --- Postmark ----------------------------------------------------------------------------


def postmark_bounce(
    delivery_id: int, *, type_: str = "HardBounce", id_: int = 4323372036
) -> dict[str, Any]:
    return {
        "RecordType": "Bounce",
        "ID": id_,
        "Type": type_,
        "TypeCode": 1 if type_ == "HardBounce" else 4096,
        "Name": "Hard bounce",
        "MessageID": provider_id(7, delivery_id),
        "MessageStream": "broadcast",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": PEOPLE[delivery_id],
        "From": "newsletter@junge-buergermeister.example",
        "BouncedAt": "2026-06-19T10:28:10.2735393+02:00",
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Netzwerk Junge Bürgermeister*innen · Newsletter KW 25/2026",
        "Metadata": {"delivery_id": str(delivery_id)},
    }


def test_postmark_hard_bounce_suppresses(base_url: str, sent_store: Store) -> None:
    response = requests.post(
        f"{base_url}/webhooks/postmark",
        json=postmark_bounce(101),
        auth=(PM_USER, PM_PASSWORD),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    assert response.json()["hard"] == 1
    assert reasons(sent_store) == {PEOPLE[101]: "hard_bounce"}
    # Postmark retries a call whose answer it did not see: counted once
    again = requests.post(
        f"{base_url}/webhooks/postmark",
        json=postmark_bounce(101),
        auth=(PM_USER, PM_PASSWORD),
        timeout=5,
    )
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert event_count(sent_store) == 1


def test_postmark_spam_complaint_and_soft_bounce(base_url: str, sent_store: Store) -> None:
    complaint = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 100001,
        "MessageID": provider_id(7, 105),
        "Email": PEOPLE[105],
        "Metadata": {"delivery_id": "105"},
    }
    soft = postmark_bounce(102, type_="SoftBounce", id_=43)
    soft["Details"] = "smtp;452 4.2.2 Mailbox full"
    for payload in (complaint, soft):
        response = requests.post(
            f"{base_url}/webhooks/postmark", json=payload, auth=(PM_USER, PM_PASSWORD), timeout=5
        )
        assert response.status_code == 200
    assert reasons(sent_store) == {PEOPLE[105]: "complaint"}
    assert not is_suppressed(sent_store, PEOPLE[102])


def test_postmark_delivery_events_are_ignored(base_url: str, sent_store: Store) -> None:
    delivery = {"RecordType": "Delivery", "MessageID": "x", "Recipient": PEOPLE[101]}
    response = requests.post(
        f"{base_url}/webhooks/postmark", json=delivery, auth=(PM_USER, PM_PASSWORD), timeout=5
    )
    assert response.status_code == 200
    assert event_count(sent_store) == 0


@pytest.mark.parametrize(
    "auth", [None, (PM_USER, "falsch"), ("jemand", PM_PASSWORD), (PM_USER, PM_PASSWORD + "x")]
)
def test_postmark_wrong_auth_is_refused(
    base_url: str, sent_store: Store, auth: tuple[str, str] | None
) -> None:
    response = requests.post(
        f"{base_url}/webhooks/postmark", json=postmark_bounce(101), auth=auth, timeout=5
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert reasons(sent_store) == {} and event_count(sent_store) == 0


def test_postmark_not_configured_answers_503(
    sent_store: Store, verp_settings: Settings, clock: FakeClock
) -> None:
    # Secrets are read once at start: this app started without the webhook password.
    started = verp_settings.with_secrets(
        {provider_settings(verp_settings, "postmark").webhook_user_env: PM_USER}
    )
    client = create_app(started, sent_store, clock=clock).test_client()
    response = client.post(
        "/webhooks/postmark",
        json=postmark_bounce(101),
        headers={"Authorization": "Basic " + base64.b64encode(f"{PM_USER}:".encode()).decode()},
    )
    assert response.status_code == 503
    assert reasons(sent_store) == {}


def test_postmark_malformed_body_is_400(base_url: str) -> None:
    response = requests.post(
        f"{base_url}/webhooks/postmark", data="kein json", auth=(PM_USER, PM_PASSWORD), timeout=5
    )
    assert response.status_code == 400


# --- Mailgun -----------------------------------------------------------------------------


def signed(clock: FakeClock, token: str, *, key: str = MG_KEY, age: float = 0) -> dict[str, str]:
    timestamp = str(int(clock.now().timestamp() - age))
    digest = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest}


def mailgun_event(
    delivery_id: int, *, event: str = "failed", severity: str = "permanent"
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "event": event,
        "id": f"G9Bn5sl1TC6nu79C8C0bwg-{delivery_id}-{event}-{severity}",
        "timestamp": 1781856137.0,
        "recipient": PEOPLE[delivery_id],
        "recipient-domain": PEOPLE[delivery_id].split("@")[1],
        "user-variables": {"delivery_id": str(delivery_id)},
        "message": {"headers": {"message-id": f"rb-7-{delivery_id}@junge-buergermeister.example"}},
    }
    if event == "failed":
        data["severity"] = severity
        data["reason"] = "bounce" if severity == "permanent" else "generic"
        data["delivery-status"] = (
            {
                "code": 550,
                "message": "5.1.1 The email account that you tried to reach does not exist",
                "description": "",
            }
            if severity == "permanent"
            else {"code": 452, "message": "4.2.2 Mailbox full", "description": ""}
        )
    return data


def test_mailgun_permanent_failure_suppresses(
    base_url: str, sent_store: Store, clock: FakeClock
) -> None:
    body = {"signature": signed(clock, "a" * 50), "event-data": mailgun_event(103)}
    response = requests.post(f"{base_url}/webhooks/mailgun", json=body, timeout=5)
    assert response.status_code == 200, response.text
    assert reasons(sent_store) == {PEOPLE[103]: "hard_bounce"}


def test_mailgun_complaint_and_temporary_failure(
    base_url: str, sent_store: Store, clock: FakeClock
) -> None:
    for token, event in (
        ("b" * 50, mailgun_event(105, event="complained")),
        ("c" * 50, mailgun_event(102, severity="temporary")),
    ):
        response = requests.post(
            f"{base_url}/webhooks/mailgun",
            json={"signature": signed(clock, token), "event-data": event},
            timeout=5,
        )
        assert response.status_code == 200
    assert reasons(sent_store) == {PEOPLE[105]: "complaint"}
    with sent_store.connect() as conn:
        kinds = sorted(r[0] for r in conn.execute(select(bounce_events.c.kind)).all())
    assert kinds == ["complaint", "soft"]


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        ("wrong-key", "wrong signature"),
        ("stale", "stale timestamp"),
        ("missing", "no signature"),
    ],
)
def test_mailgun_bad_signatures_are_refused(
    base_url: str, sent_store: Store, clock: FakeClock, signature: str, reason: str
) -> None:
    body: dict[str, Any] = {"event-data": mailgun_event(103)}
    if signature == "wrong-key":
        body["signature"] = signed(clock, "d" * 50, key="key-someone-else")
    elif signature == "stale":
        body["signature"] = signed(clock, "e" * 50, age=600)
    response = requests.post(f"{base_url}/webhooks/mailgun", json=body, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"] == reason
    assert reasons(sent_store) == {}


def test_mailgun_replayed_token_is_refused(
    base_url: str, sent_store: Store, clock: FakeClock
) -> None:
    body = {"signature": signed(clock, "f" * 50), "event-data": mailgun_event(101)}
    assert requests.post(f"{base_url}/webhooks/mailgun", json=body, timeout=5).status_code == 200
    clock.advance(30)
    replay = requests.post(f"{base_url}/webhooks/mailgun", json=body, timeout=5)
    assert replay.status_code == 401
    assert replay.json()["error"] == "replayed call"
    assert event_count(sent_store) == 1


def test_mailgun_not_configured_answers_503(
    sent_store: Store, clock: FakeClock, verp_settings: Settings
) -> None:
    # Secrets are read once at start: this app started without the signing key.
    client = create_app(verp_settings.with_secrets({}), sent_store, clock=clock).test_client()
    body = {"signature": signed(clock, "g" * 50), "event-data": mailgun_event(101)}
    assert client.post("/webhooks/mailgun", json=body).status_code == 503


# --- events that name a subscriber but no delivery of ours -------------------------------


def unmatched_reports(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["suppressed"], body["unmatched"]) == (0, 1)
    reports: list[dict[str, Any]] = body["unmatched_reports"]
    return reports


def test_postmark_event_for_a_message_we_did_not_send_suppresses_nobody(
    base_url: str, sent_store: Store
) -> None:
    # another application on the same Postmark server mailed Anna; that mail bounced
    other = postmark_bounce(101, id_=7001)
    del other["Metadata"]
    other["MessageID"] = "5b0e4c2a-9d1f-4e55-8a3b-6c7d8e9f0a1b"
    response = requests.post(
        f"{base_url}/webhooks/postmark", json=other, auth=(PM_USER, PM_PASSWORD), timeout=5
    )
    assert unmatched_reports(response)[0]["recipient"] == PEOPLE[101]
    assert reasons(sent_store) == {}
    assert event_count(sent_store) == 1  # recorded for the operator


def test_postmark_metadata_must_agree_with_the_message_and_recipient(
    base_url: str, sent_store: Store
) -> None:
    # the same metadata key used by someone else's mail: a delivery id, but not its message
    foreign = postmark_bounce(101, id_=7002)
    foreign["MessageID"] = "5b0e4c2a-9d1f-4e55-8a3b-6c7d8e9f0a1c"
    # our message of delivery 103 (Ben's), but the event names Anna
    crossed = postmark_bounce(103, id_=7003)
    crossed["Email"] = PEOPLE[101]
    for payload in (foreign, crossed):
        response = requests.post(
            f"{base_url}/webhooks/postmark", json=payload, auth=(PM_USER, PM_PASSWORD), timeout=5
        )
        assert unmatched_reports(response)[0]["recipient"] == PEOPLE[101]
    assert reasons(sent_store) == {}


def test_mailgun_event_without_our_ids_suppresses_nobody(
    base_url: str, sent_store: Store, clock: FakeClock
) -> None:
    event = mailgun_event(104)
    del event["user-variables"]
    event["message"]["headers"]["message-id"] = "20260619.4711@mg.fremd.example"
    body = {"signature": signed(clock, "h" * 50), "event-data": event}
    response = requests.post(f"{base_url}/webhooks/mailgun", json=body, timeout=5)
    assert unmatched_reports(response)[0]["recipient"] == PEOPLE[104]
    assert reasons(sent_store) == {}


def test_mailgun_event_with_our_message_id_alone_suppresses(
    base_url: str, sent_store: Store, clock: FakeClock
) -> None:
    event = mailgun_event(104)
    del event["user-variables"]  # e.g. sent before delivery ids travelled along
    body = {"signature": signed(clock, "i" * 50), "event-data": event}
    response = requests.post(f"{base_url}/webhooks/mailgun", json=body, timeout=5)
    assert response.status_code == 200 and response.json()["suppressed"] == 1
    assert reasons(sent_store) == {PEOPLE[104]: "hard_bounce"}
