"""The API's sign-up for a website's own form: the web form's double opt-in (a pending
subscription, a confirmation mail through the system mail outbox), limited per client
address, with codes for what is refused."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.system import drain_system_mail
from pipeline.store import Store
from pipeline.store import audience as q


def _post(client: FlaskClient, ip: str = "198.51.100.7", **fields: object) -> object:
    body = {"email": "neu@zeitung.example", "list": "press", "consent": True, **fields}
    return client.post("/api/v1/signup", json=body, environ_base={"REMOTE_ADDR": ip})


def test_sign_up_records_a_pending_subscription_and_mails_the_confirmation(
    client: FlaskClient, store: Store, settings: Settings, clock: FakeClock
) -> None:
    answer = _post(client)  # no token: a public form posts here
    assert answer.status_code == 202  # type: ignore[attr-defined]
    assert answer.get_json()["status"] == "pending"  # type: ignore[attr-defined]
    with store.connect() as conn:
        person = q.find_subscriber(conn, "neu@zeitung.example")
        assert person is not None
        sub = q.get_subscription(conn, person.id, "press")
    assert sub is not None and sub.status == "pending"
    report = drain_system_mail(store, settings, None, clock)
    assert report.sent == 1
    files = [p for p in Path(settings.delivery.maildir).rglob("*") if p.is_file()]
    assert len(files) == 1
    text = files[0].read_text(encoding="utf-8", errors="replace")
    assert "neu@zeitung.example" in text and "/confirm/" in text.replace("=\n", "")


def test_sign_up_needs_consent_and_an_address(client: FlaskClient) -> None:
    refused = _post(client, consent=False)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert refused.get_json()["error"]["field"] == "consent"  # type: ignore[attr-defined]
    bad = _post(client, email="kein-at-zeichen")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    error = bad.get_json()["error"]  # type: ignore[attr-defined]
    assert (error["code"], error["field"]) == ("invalid", "email")


def test_sign_ups_are_limited_per_client_address(client: FlaskClient, settings: Settings) -> None:
    limit = settings.audience.signups_per_ip_per_hour
    for n in range(limit):
        assert _post(client, email=f"p{n}@zeitung.example").status_code == 202  # type: ignore[attr-defined]
    limited = _post(client, email="one-more@zeitung.example")
    assert limited.status_code == 429  # type: ignore[attr-defined]
    assert limited.get_json()["error"]["code"] == "rate_limited"  # type: ignore[attr-defined]
    assert int(limited.headers["Retry-After"]) > 0  # type: ignore[attr-defined]
    # another address is not blocked by this one
    assert _post(client, ip="203.0.113.9", email="other@zeitung.example").status_code == 202  # type: ignore[attr-defined]
