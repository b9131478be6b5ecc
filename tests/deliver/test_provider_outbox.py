"""The real outbox sending through an HTTP provider on loopback, and the loop closed by
the provider's bounce webhook: sent → bounced → suppressed."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from pipeline.audience.suppression import is_suppressed
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.outbox import send_mailing
from pipeline.deliver.providers import provider_settings as settings_for
from pipeline.deliver.providers.brevo.transport import BrevoTransport
from pipeline.deliver.providers.mailgun.transport import MailgunTransport
from pipeline.deliver.providers.postmark.transport import PostmarkTransport
from pipeline.deliver.providers.sendgrid.transport import SendgridTransport
from pipeline.store import Store
from pipeline.store.schema import deliveries
from pipeline.web import create_app
from tests.deliver.support import add_mailing, add_subscribers
from tests.support.settings import make_settings


def provider_settings(tmp_path: Path, server: HTTPServer, kind: str) -> Settings:
    return make_settings(
        tmp_path,
        delivery={"transport": kind, "per_second": 10_000, "batch_size": 40},
        **{
            kind: {
                "api_key_env": "TEST_PROVIDER_KEY",
                "base_url": server.url_for("").rstrip("/"),
                "timeout": 5,
                **({"domain": "mg.junge-buergermeister.example"} if kind == "mailgun" else {}),
            }
        },
    )


def postmark_ok(request: Request) -> Response:
    batch = request.get_json()
    answer = [
        {"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{m['Metadata']['delivery_id']}"}
        for m in batch
    ]
    return Response(json.dumps(answer), 200, content_type="application/json")


def sent_rows(store: Store) -> list[Any]:
    with store.connect() as conn:
        return list(
            conn.execute(
                select(
                    deliveries.c.id,
                    deliveries.c.email,
                    deliveries.c.status,
                    deliveries.c.provider_message_id,
                )
            ).all()
        )


def test_postmark_through_the_outbox_then_a_bounce_webhook_suppresses(
    tmp_path: Path,
    httpserver: HTTPServer,
    store: Store,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = provider_settings(tmp_path, httpserver, "postmark")
    emails = add_subscribers(store, clock, 90)
    mailing_id = add_mailing(store, clock)
    httpserver.expect_request("/email/batch", method="POST").respond_with_handler(postmark_ok)
    transport = PostmarkTransport(settings_for(settings, "postmark"), "pm-token")
    try:
        report = send_mailing(settings, store, mailing_id, clock=clock, transport=transport)
    finally:
        transport.close()
    assert (report.sent, report.failed) == (90, 0)
    rows = sent_rows(store)
    assert {r.email for r in rows} == set(emails)
    assert all(r.status == "sent" and r.provider_message_id == f"pm-{r.id}" for r in rows)
    first = httpserver.log[0][0].get_json()[0]
    headers = {h["Name"]: h["Value"] for h in first["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/u/" in headers["List-Unsubscribe"]
    assert first["Subject"].startswith("Netzwerk Junge Bürgermeister*innen")
    assert first["TextBody"] and first["HtmlBody"]

    # Postmark reports a hard bounce for one of them
    victim = rows[17]
    monkeypatch.setenv(settings_for(settings, "postmark").webhook_user_env, "pm")
    monkeypatch.setenv(settings_for(settings, "postmark").webhook_password_env, "webhook-geheim")
    started = settings.with_secrets(os.environ)
    client: FlaskClient = create_app(started, store, clock=clock).test_client()
    response = client.post(
        "/webhooks/postmark",
        json={
            "RecordType": "Bounce",
            "ID": 991,
            "Type": "HardBounce",
            "MessageID": victim.provider_message_id,
            "Email": victim.email.upper(),
            "Details": "smtp;550 5.1.1 user unknown",
            "Metadata": {"delivery_id": str(victim.id)},
        },
        auth=("pm", "webhook-geheim"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert is_suppressed(store, victim.email)
    assert not is_suppressed(store, rows[18].email)


def test_mailgun_429_then_success_sends_everyone_once(
    tmp_path: Path, httpserver: HTTPServer, store: Store, clock: FakeClock
) -> None:
    settings = provider_settings(tmp_path, httpserver, "mailgun")
    emails = add_subscribers(store, clock, 12)
    mailing_id = add_mailing(store, clock)
    got: list[str] = []

    def accept(request: Request) -> Response:
        got.append(request.form["to"])
        return Response(json.dumps({"id": f"<{len(got)}@mg>", "message": "Queued. Thank you."}))

    httpserver.expect_ordered_request(
        "/v3/mg.junge-buergermeister.example/messages.mime"
    ).respond_with_data("", status=429, headers={"Retry-After": "20"})
    httpserver.expect_request(
        "/v3/mg.junge-buergermeister.example/messages.mime"
    ).respond_with_handler(accept)
    transport = MailgunTransport(settings_for(settings, "mailgun"), "mg-key")
    try:
        report = send_mailing(settings, store, mailing_id, clock=clock, transport=transport)
    finally:
        transport.close()
    assert report.sent == 12 and report.failed == 0
    assert sorted(got) == sorted(emails)  # each once, the throttled one later


def test_a_burst_of_429s_throttles_but_does_not_pause_the_mailing(
    tmp_path: Path, httpserver: HTTPServer, store: Store, clock: FakeClock
) -> None:
    """Throttling is the provider saying "later", not "broken": more 429s in a row than
    ``pause_after_failures`` must slow the send down, never pause it."""
    settings = provider_settings(tmp_path, httpserver, "mailgun")
    settings = make_settings(
        tmp_path,
        delivery={**settings.delivery.model_dump(), "pause_after_failures": 3},
        mailgun=asdict(settings_for(settings, "mailgun")),
    )
    emails = add_subscribers(store, clock, 12)
    mailing_id = add_mailing(store, clock)
    got: list[str] = []
    throttled = [0]

    def throttle_then_accept(request: Request) -> Response:
        if throttled[0] < 10:
            throttled[0] += 1
            return Response("", status=429, headers={"Retry-After": "5"})
        got.append(request.form["to"])
        return Response(json.dumps({"id": f"<{len(got)}@mg>", "message": "Queued."}))

    httpserver.expect_request(
        "/v3/mg.junge-buergermeister.example/messages.mime"
    ).respond_with_handler(throttle_then_accept)
    transport = MailgunTransport(settings_for(settings, "mailgun"), "mg-key")
    try:
        report = send_mailing(settings, store, mailing_id, clock=clock, transport=transport)
    finally:
        transport.close()
    assert throttled[0] == 10
    assert report.status == "sent" and report.paused_reason is None
    assert report.sent == 12 and report.failed == 0
    assert sorted(got) == sorted(emails)


def test_sendgrid_through_the_outbox_then_a_signed_event_suppresses(
    tmp_path: Path,
    httpserver: HTTPServer,
    store: Store,
    clock: FakeClock,
) -> None:
    """The ids SendGrid's events need travel with each message (custom_args delivery_id,
    X-Message-Id) and the webhook reads them back: the loop closes on the right address."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    settings = provider_settings(tmp_path, httpserver, "sendgrid")
    settings = make_settings(
        tmp_path,
        delivery=settings.delivery.model_dump(),
        sendgrid={
            **asdict(settings_for(settings, "sendgrid")),
            "webhook_public_key": base64.b64encode(public).decode(),
        },
    )
    emails = add_subscribers(store, clock, 6)
    mailing_id = add_mailing(store, clock)
    sent: dict[str, str] = {}  # X-Message-Id -> delivery id from custom_args

    def accept(request: Request) -> Response:
        person = request.get_json()["personalizations"][0]
        message_id = f"U0dNZXNzYWdlLUlk{len(sent)}"
        sent[message_id] = person["custom_args"]["delivery_id"]
        return Response("", 202, headers={"X-Message-Id": message_id})

    httpserver.expect_request("/v3/mail/send", method="POST").respond_with_handler(accept)
    with SendgridTransport(settings_for(settings, "sendgrid"), "SG.key") as transport:  # type: ignore[arg-type]
        report = send_mailing(settings, store, mailing_id, clock=clock, transport=transport)
    assert report.sent == 6
    rows = {str(r.id): r for r in sent_rows(store)}
    assert {r.email for r in rows.values()} == set(emails)
    message_id, delivery = next(iter(sent.items()))
    victim = rows[delivery]
    assert victim.provider_message_id == message_id
    events = [
        {
            "email": victim.email,
            "timestamp": int(clock.now().timestamp()),
            "event": "bounce",
            "type": "bounce",
            "status": "5.1.1",
            "reason": "550 5.1.1 user unknown",
            "sg_event_id": "ZXZlbnQtb25l",
            "sg_message_id": f"{message_id}.filterdrecv-5645d9c87f-78xgx-1-62F6.0",
            "delivery_id": delivery,
        }
    ]
    body = json.dumps(events).encode()
    timestamp = str(int(clock.now().timestamp()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    client: FlaskClient = create_app(settings, store, clock=clock).test_client()
    response = client.post(
        "/webhooks/sendgrid",
        data=body,
        content_type="application/json",
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["suppressed"] == 1
    assert is_suppressed(store, victim.email)
    assert sum(is_suppressed(store, e) for e in emails) == 1


def test_brevo_through_the_outbox_then_a_bounce_webhook_suppresses(
    tmp_path: Path,
    httpserver: HTTPServer,
    store: Store,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Brevo echoes our X-Mailin-custom header and its messageId in every webhook call."""
    settings = provider_settings(tmp_path, httpserver, "brevo")
    emails = add_subscribers(store, clock, 6)
    mailing_id = add_mailing(store, clock)
    custom: dict[str, str] = {}  # Brevo's messageId -> our X-Mailin-custom header

    def accept(request: Request) -> Response:
        message_id = f"<202606191028.{len(custom)}@smtp-relay.mailin.fr>"
        custom[message_id] = request.get_json()["headers"]["X-Mailin-custom"]
        return Response(json.dumps({"messageId": message_id}), 201)

    httpserver.expect_request("/v3/smtp/email", method="POST").respond_with_handler(accept)
    with BrevoTransport(settings_for(settings, "brevo"), "xkeysib") as transport:  # type: ignore[arg-type]
        report = send_mailing(settings, store, mailing_id, clock=clock, transport=transport)
    assert report.sent == 6
    message_id, header = sorted(custom.items())[3]
    victim = next(r for r in sent_rows(store) if r.provider_message_id == message_id)
    assert header.endswith(f":{victim.id}")
    monkeypatch.setenv("RUNDBRIEF_BREVO_WEBHOOK_TOKEN", "brevo-token")
    started = settings.with_secrets(os.environ)  # secrets are read once, at start
    client: FlaskClient = create_app(started, store, clock=clock).test_client()
    response = client.post(
        "/webhooks/brevo?token=brevo-token",
        json={
            "event": "hard_bounce",
            "email": victim.email,
            "id": 1217735,
            "message-id": message_id,
            "ts_event": 1781857690,
            "reason": "550 5.1.1 user unknown",
            "X-Mailin-custom": header,
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["suppressed"] == 1
    assert [e for e in emails if is_suppressed(store, e)] == [victim.email]
