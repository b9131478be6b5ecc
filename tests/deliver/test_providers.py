"""The HTTP providers against a local server that answers as each provider documents.

Every request goes to pytest-httpserver on 127.0.0.1; the handlers check the request
shape (endpoint, authentication, fields) and reply with the provider's own answers:
success, 401, per-message 4xx errors, 429 with and without Retry-After, 500, timeouts.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline.deliver import Blame, Confirming, MessageParts, OutgoingMessage, SendResult
from pipeline.deliver.providers import PROVIDERS, ProviderSettings
from pipeline.deliver.providers.brevo.transport import BrevoTransport, idempotency_key
from pipeline.deliver.providers.http import (
    HttpClient,
    message_parts,
    names_recipient,
    parse_retry_after,
    send_each,
)
from pipeline.deliver.providers.mailgun.transport import MailgunTransport
from pipeline.deliver.providers.postmark.transport import PostmarkTransport
from pipeline.deliver.providers.sendgrid.transport import SendgridTransport
from pipeline.errors import PermanentDeliveryError, TransientDeliveryError
from tests.deliver.support import DroppingHttpServer, UnreachableListener

SUBJECT = "Netzwerk Junge Bürgermeister*innen · Newsletter KW 25/2026"
TEXT = "Liebe Anna,\n\n„Die Bürgermeister*innen tagen in Görlitz“ – © Stadt Görlitz\n"
HTML = (
    "<html lang='de'><body><p>Liebe Anna,</p><p>„Die Bürgermeister*innen tagen“</p></body></html>"
)
UNSUB = "<https://rundbrief.example/u/abc123>, <mailto:abmelden@junge-buergermeister.example>"


def mime(recipient: str, name: str, delivery_id: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Netzwerk Junge Bürgermeister*innen <newsletter@junge-buergermeister.example>"
    msg["To"] = f"{name} <{recipient}>"
    msg["Reply-To"] = "kontakt@junge-buergermeister.example"
    msg["Subject"] = SUBJECT
    msg["Message-ID"] = f"<rb-7-{delivery_id}@junge-buergermeister.example>"
    msg["List-Id"] = "Mitglieder-Newsletter <members.junge-buergermeister.example>"
    msg["List-Unsubscribe"] = UNSUB
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(TEXT)
    msg.add_alternative(HTML, subtype="html")
    return msg.as_bytes().replace(b"\n", b"\r\n")


def outgoing(n: int = 3, *, start: int = 1) -> list[OutgoingMessage]:
    people = ["Anna Schröder", "Jörg Weiß", "Zoë Çelik", "Ben Ölmez", "Eva Groß"]
    out = []
    for i in range(start, start + n):
        address = f"person{i}@example.org"
        out.append(
            OutgoingMessage(
                delivery_id=i,
                envelope_from="bounces@junge-buergermeister.example",
                recipient=address,
                message_id=f"<rb-7-{i}@junge-buergermeister.example>",
                data=mime(address, people[i % len(people)], i),
                idempotency_key=f"rb-7-{i}",
            )
        )
    return out


def config_for(kind: str, base_url: str, **extra: Any) -> Any:
    """The provider's own settings, with those of ``extra`` it has (``domain``: Mailgun)."""
    cls: type[ProviderSettings] = PROVIDERS[kind].settings
    names = {f.name for f in fields(cls)}
    given = {k: v for k, v in extra.items() if k in names}
    return cls(api_key_env="UNUSED", base_url=base_url, **given)


def make(kind: str, server: HTTPServer, timeout: float = 5.0, connections: int = 1) -> Any:
    # one connection: requests arrive in message order, as the ordered handlers expect
    config = config_for(
        kind,
        server.url_for("").rstrip("/"),
        timeout=timeout,
        domain="mg.junge-buergermeister.example",
        connections=connections,
    )
    return {
        "postmark": lambda: PostmarkTransport(config, "pm-token"),
        "mailgun": lambda: MailgunTransport(config, "mg-key"),
        "sendgrid": lambda: SendgridTransport(config, "SG.key"),
        "brevo": lambda: BrevoTransport(config, "xkeysib-key"),
    }[kind]()


ENDPOINT = {
    "postmark": "/email/batch",
    "mailgun": "/v3/mg.junge-buergermeister.example/messages.mime",
    "sendgrid": "/v3/mail/send",
    "brevo": "/v3/smtp/email",
}
PER_MESSAGE = ["mailgun", "sendgrid", "brevo"]
ALL = ["postmark", *PER_MESSAGE]


@pytest.fixture
def transports(httpserver: HTTPServer) -> Iterator[Callable[..., Any]]:
    made: list[Any] = []

    def factory(kind: str, timeout: float = 5.0) -> Any:
        transport = make(kind, httpserver, timeout)
        made.append(transport)
        return transport

    yield factory
    for transport in made:
        transport.close()


def success_answer(kind: str, request: Request) -> Response:
    """What each provider answers when it accepts the request."""
    if kind == "postmark":
        batch = request.get_json()
        body = [
            {"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{i}", "To": m["To"]}
            for i, m in enumerate(batch)
        ]
        return Response(json.dumps(body), 200, content_type="application/json")
    if kind == "mailgun":
        to = request.form["to"]
        body = {"id": f"<mg.{to}@mg.junge-buergermeister.example>", "message": "Queued. Thank you."}
        return Response(json.dumps(body), 200, content_type="application/json")
    if kind == "sendgrid":
        to = request.get_json()["personalizations"][0]["to"][0]["email"]
        return Response("", 202, headers={"X-Message-Id": f"sg-{to}"})
    to = request.get_json()["to"][0]["email"]
    return Response(json.dumps({"messageId": f"<br.{to}@smtp-relay.mailin.fr>"}), 201)


# --- success and request shapes ----------------------------------------------------------


@pytest.mark.parametrize("kind", ALL)
def test_success_gives_one_ok_result_per_message_in_order(
    kind: str, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_request(ENDPOINT[kind], method="POST").respond_with_handler(
        lambda r: success_answer(kind, r)
    )
    batch = outgoing(3)
    results = transports(kind).send(batch)
    assert [r.ok for r in results] == [True, True, True]
    assert [r.delivery_id for r in results] == [1, 2, 3]
    assert [r.recipient for r in results] == [m.recipient for m in batch]
    assert all(r.provider_message_id for r in results)
    expected_requests = 1 if kind == "postmark" else 3
    assert len(httpserver.log) == expected_requests


def test_postmark_request_maps_the_message_to_its_json_fields(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_request(
        "/email/batch",
        method="POST",
        headers={"X-Postmark-Server-Token": "pm-token", "Accept": "application/json"},
    ).respond_with_handler(lambda r: success_answer("postmark", r))
    transports("postmark").send(outgoing(2))
    request = httpserver.log[0][0]
    batch = request.get_json()
    first = batch[0]
    assert first["To"].endswith("<person1@example.org>")
    assert "newsletter@junge-buergermeister.example" in first["From"]
    assert first["Subject"] == SUBJECT
    assert "Bürgermeister*innen" in first["TextBody"]
    assert first["HtmlBody"].startswith("<html lang='de'>")
    assert first["MessageStream"] == "broadcast"
    assert first["Metadata"] == {"delivery_id": "1"}
    assert first["ReplyTo"] == "kontakt@junge-buergermeister.example"
    headers = {h["Name"]: h["Value"] for h in first["Headers"]}
    assert headers["List-Unsubscribe"] == UNSUB
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Id"].startswith("Mitglieder-Newsletter")
    assert not {"From", "To", "Subject", "Content-Type"} & set(headers)
    assert first["TrackOpens"] is False


def test_postmark_splits_batches_above_500(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_request("/email/batch").respond_with_handler(
        lambda r: success_answer("postmark", r)
    )
    transport = transports("postmark")
    assert transport.batch_hint == 500 and transport.wants_parts
    template = outgoing(1)[0]
    parts = message_parts(template)  # as the builder fills them for wants_parts
    batch = [replace(template, delivery_id=i, parts=parts) for i in range(501)]
    results = transport.send(batch)
    assert len(results) == 501 and all(r.ok for r in results)
    assert [len(req.get_json()) for req, _ in httpserver.log] == [500, 1]


def test_mailgun_posts_our_mime_bytes_with_basic_auth(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    uploaded: list[bytes] = []

    def handler(request: Request) -> Response:
        uploaded.append(request.files["message"].read())
        return success_answer("mailgun", request)

    httpserver.expect_request(ENDPOINT["mailgun"], method="POST").respond_with_handler(handler)
    batch = outgoing(1)
    transports("mailgun").send(batch)
    request = httpserver.log[0][0]
    assert request.authorization is not None
    assert (request.authorization.username, request.authorization.password) == ("api", "mg-key")
    assert request.form["to"] == "person1@example.org"
    assert request.form["v:delivery_id"] == "1"
    assert request.form["o:tracking"] == "no"
    assert uploaded == [batch[0].data]


def test_sendgrid_request_shape(httpserver: HTTPServer, transports: Callable[..., Any]) -> None:
    httpserver.expect_request(
        "/v3/mail/send", method="POST", headers={"Authorization": "Bearer SG.key"}
    ).respond_with_handler(lambda r: success_answer("sendgrid", r))
    results = transports("sendgrid").send(outgoing(1))
    assert results[0].provider_message_id == "sg-person1@example.org"
    body = httpserver.log[0][0].get_json()
    person = body["personalizations"][0]
    assert person["to"] == [{"email": "person1@example.org", "name": "Jörg Weiß"}]
    assert person["custom_args"] == {"delivery_id": "1"}
    assert body["from"] == {
        "email": "newsletter@junge-buergermeister.example",
        "name": "Netzwerk Junge Bürgermeister*innen",
    }
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert body["reply_to"] == {"email": "kontakt@junge-buergermeister.example"}
    assert body["tracking_settings"]["open_tracking"] == {"enable": False}


def test_brevo_sends_a_stable_idempotency_key(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_request(
        "/v3/smtp/email", method="POST", headers={"api-key": "xkeysib-key"}
    ).respond_with_handler(lambda r: success_answer("brevo", r))
    transport = transports("brevo")
    batch = outgoing(2)
    transport.send(batch)
    transport.send(batch[:1])  # the retry of the first delivery
    keys = [req.get_json()["headers"]["idempotencyKey"] for req, _ in httpserver.log]
    assert keys[0] == keys[2] != keys[1]
    assert keys[0] == idempotency_key(batch[0])
    assert len(keys[0]) == 36  # a UUID, as Brevo asks
    body = httpserver.log[0][0].get_json()
    assert body["sender"]["email"] == "newsletter@junge-buergermeister.example"
    assert body["to"] == [{"email": "person1@example.org", "name": "Jörg Weiß"}]
    assert body["subject"] == SUBJECT
    assert "„Die Bürgermeister*innen tagen“" in body["htmlContent"]
    assert body["headers"]["List-Unsubscribe"] == UNSUB


def test_parts_filled_by_the_builder_are_used_as_they_are() -> None:
    parts = MessageParts(
        from_name="Redaktion",
        from_address="newsletter@junge-buergermeister.example",
        to_name="Anna",
        to_address="anna@example.org",
        reply_to="",
        subject="Vorab",
        text="Text",
        html="<p>Text</p>",
        headers=(("List-Id", "x"),),
    )
    msg = OutgoingMessage(1, "b@example.org", "anna@example.org", "<m@x>", b"", parts=parts)
    assert message_parts(msg) is parts


# --- failures ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("status", [401, 403])
def test_bad_key_raises_permanent_so_the_outbox_pauses(
    kind: str, status: int, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    body = {
        "postmark": {"ErrorCode": 10, "Message": "Bad or missing Server API token."},
        "mailgun": {"message": "Invalid private key"},
        "sendgrid": {"errors": [{"message": "The provided authorization grant is invalid"}]},
        "brevo": {"code": "unauthorized", "message": "Key not found"},
    }[kind]
    httpserver.expect_request(ENDPOINT[kind]).respond_with_json(body, status=status)
    with pytest.raises(PermanentDeliveryError, match=str(status)):
        transports(kind).send(outgoing(2))


def test_postmark_per_message_errors_inside_a_200(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    answer = [
        {"ErrorCode": 0, "Message": "OK", "MessageID": "pm-1", "To": "person1@example.org"},
        {
            "ErrorCode": 406,
            "Message": "You tried to send to a recipient that has been marked as inactive.",
        },
        {"ErrorCode": 300, "Message": "Invalid 'To' address: 'person3@example'."},
    ]
    httpserver.expect_request("/email/batch").respond_with_json(answer)
    ok, inactive, invalid = transports("postmark").send(outgoing(3))
    assert ok.ok and ok.provider_message_id == "pm-1"
    assert not inactive.ok and inactive.permanent and inactive.hard_bounce
    assert "406" in (inactive.error or "")
    assert not invalid.ok and invalid.permanent and not invalid.hard_bounce


def test_postmark_422_rejects_the_request(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_ordered_request("/email/batch").respond_with_json(
        {"ErrorCode": 402, "Message": "Received invalid JSON input."}, status=422
    )
    httpserver.expect_ordered_request("/email/batch").respond_with_json(
        {"ErrorCode": 401, "Message": "Sender signature not confirmed"}, status=422
    )
    transport = transports("postmark")
    results = transport.send(outgoing(2))
    assert [(r.permanent, r.blame) for r in results] == [(False, Blame.SENDER)] * 2
    results = transport.send(outgoing(2))
    assert [(r.permanent, r.blame) for r in results] == [(False, Blame.SENDER)] * 2
    assert "Sender signature not confirmed" in (results[0].error or "")


@pytest.mark.parametrize("kind", PER_MESSAGE)
def test_per_message_4xx_fails_that_message_only(
    kind: str, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    rejection = {
        "mailgun": {"message": "to parameter is not a valid address. please check documentation"},
        "sendgrid": {
            "errors": [
                {"message": "Does not contain a valid address.", "field": "personalizations.0.to"}
            ]
        },
        "brevo": {"code": "invalid_parameter", "message": "email is not valid in to"},
    }[kind]
    httpserver.expect_ordered_request(ENDPOINT[kind]).respond_with_handler(
        lambda r: success_answer(kind, r)
    )
    httpserver.expect_ordered_request(ENDPOINT[kind]).respond_with_json(rejection, status=400)
    httpserver.expect_ordered_request(ENDPOINT[kind]).respond_with_handler(
        lambda r: success_answer(kind, r)
    )
    first, second, third = transports(kind).send(outgoing(3))
    assert first.ok and third.ok
    assert not second.ok and second.permanent
    assert "400" in (second.error or "") and "valid" in (second.error or "")


@pytest.mark.parametrize("kind", ALL)
def test_429_with_retry_after_seconds(
    kind: str, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_request(ENDPOINT[kind]).respond_with_json(
        {"message": "Too many requests"}, status=429, headers={"Retry-After": "30"}
    )
    results = transports(kind).send(outgoing(2))
    assert [(r.ok, r.permanent, r.retry_after) for r in results] == [(False, False, 30.0)] * 2
    assert "429" in (results[0].error or "")
    assert len(httpserver.log) == 1  # the rest of the batch is not hammered


@pytest.mark.parametrize("kind", ALL)
def test_429_with_retry_after_as_http_date(
    kind: str, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    httpserver.expect_request(ENDPOINT[kind]).respond_with_data(
        "slow down", status=429, headers={"Retry-After": when}
    )
    (result,) = transports(kind).send(outgoing(1))
    assert not result.ok and not result.permanent
    assert result.retry_after is not None
    assert 100 <= result.retry_after <= 121


@pytest.mark.parametrize("kind", ALL)
def test_429_without_retry_after(
    kind: str, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_request(ENDPOINT[kind]).respond_with_data("rate limited", status=429)
    (result,) = transports(kind).send(outgoing(1))
    assert not result.ok and not result.permanent
    assert result.retry_after is None
    assert "429" in (result.error or "")


@pytest.mark.parametrize("kind", PER_MESSAGE)
def test_429_mid_batch_keeps_what_was_sent(
    kind: str, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_ordered_request(ENDPOINT[kind]).respond_with_handler(
        lambda r: success_answer(kind, r)
    )
    httpserver.expect_ordered_request(ENDPOINT[kind]).respond_with_data(
        "", status=429, headers={"Retry-After": "7"}
    )
    results = transports(kind).send(outgoing(4))
    assert [r.ok for r in results] == [True, False, False, False]
    assert [r.retry_after for r in results[1:]] == [7.0, 7.0, 7.0]
    assert not any(r.permanent for r in results)
    assert len(httpserver.log) == 2


@pytest.mark.parametrize("kind", ALL)
def test_500_is_transient(
    kind: str, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_request(ENDPOINT[kind]).respond_with_data(
        "<html>Internal Server Error</html>", status=500
    )
    results = transports(kind).send(outgoing(2))
    assert [(r.ok, r.permanent) for r in results] == [(False, False)] * 2
    assert "HTTP 500" in (results[0].error or "")


@pytest.mark.parametrize("kind", ALL)
def test_timeout_is_transient(
    kind: str, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return success_answer(kind, request)

    httpserver.expect_request(ENDPOINT[kind]).respond_with_handler(slow)
    started = time.monotonic()
    (result,) = transports(kind, timeout=0.2).send(outgoing(1))
    assert time.monotonic() - started < 0.55
    assert not result.ok and not result.permanent
    assert "timed out" in (result.error or "")


def test_connection_refused_is_transient() -> None:
    config = config_for("sendgrid", "http://127.0.0.1:9", timeout=1)
    transport = SendgridTransport(config, "SG.key")
    (result,) = transport.send(outgoing(1))
    transport.close()
    assert not result.ok and not result.permanent
    assert "cannot connect" in (result.error or "")


def client(connections: int = 1) -> HttpClient:
    return HttpClient("brevo", "http://127.0.0.1:9", timeout=1, connections=connections)


def test_transient_errors_never_escape_send() -> None:
    """The outbox pauses a mailing on any exception from ``send``: only a dead key may."""

    def send_one(message: OutgoingMessage) -> SendResult:
        raise TransientDeliveryError("brevo: HTTP 503", retry_after=12)

    results = send_each(client(), outgoing(2), send_one)
    assert [(r.ok, r.permanent, r.retry_after) for r in results] == [(False, False, 12)] * 2


def test_permanent_mid_batch_reports_what_went_out() -> None:
    calls: list[int] = []

    def send_one(message: OutgoingMessage) -> SendResult:
        calls.append(message.delivery_id or 0)
        if len(calls) == 2:
            raise PermanentDeliveryError("brevo: HTTP 401")
        return SendResult(message.delivery_id, message.recipient, True)

    results = send_each(client(), outgoing(3), send_one)
    assert [r.ok for r in results] == [True, False, False]
    assert not any(r.permanent for r in results)  # the messages are fine, the key died


# --- Retry-After parsing -----------------------------------------------------------------


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 6, 19, 8, 0, tzinfo=UTC)
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    assert parse_retry_after("Fri, 19 Jun 2026 08:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Fri, 19 Jun 2026 07:00:00 GMT", now=now) == 0.0  # past
    assert parse_retry_after("99999999", now=now) == 24 * 3600.0  # capped
    assert parse_retry_after(None, now=now) is None
    assert parse_retry_after("", now=now) is None
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("-5", now=now) is None


# --- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("postmark", PostmarkTransport),
        ("mailgun", MailgunTransport),
        ("sendgrid", SendgridTransport),
        ("brevo", BrevoTransport),
    ],
)
def test_factory_builds_each_provider_from_settings(
    kind: str, cls: type, settings_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.deliver.factory import transport_from_settings
    from pipeline.errors import ConfigError

    env = f"TEST_{kind.upper()}_KEY"
    settings = settings_factory(
        delivery={"transport": kind},
        **{kind: {"api_key_env": env, "base_url": "http://127.0.0.1:9", "timeout": 3}},
    )
    monkeypatch.delenv(env, raising=False)
    with pytest.raises(ConfigError, match=env):
        transport_from_settings(settings)
    monkeypatch.setenv(env, "geheim")
    # Secrets are read once at start: the variable set now comes with a restart.
    transport = transport_from_settings(settings.with_secrets(os.environ))
    try:
        assert isinstance(transport, cls)
        assert transport.name == kind
    finally:
        transport.close()


@pytest.mark.parametrize("kind", PER_MESSAGE)
def test_per_message_providers_use_their_connections_in_parallel(kind: str) -> None:
    """Four requests are in flight at once: each answer waits until all four have
    arrived (an event, not a stopwatch), so a transport that sends one after the other
    breaks the barrier and gets errors back."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    active, peak = [0], [0]
    lock = threading.Lock()
    all_four = threading.Barrier(4, timeout=10)

    def together(request: Request) -> Response:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            all_four.wait()
        except threading.BrokenBarrierError:
            return Response("not in parallel", status=500)
        finally:
            with lock:
                active[0] -= 1
        return success_answer(kind, request)

    server.expect_request(ENDPOINT[kind]).respond_with_handler(together)
    transport = make(kind, server, connections=4)
    try:
        batch = outgoing(8)
        results = transport.send(batch)
    finally:
        transport.close()
        server.clear()
        server.stop()
    assert [r.recipient for r in results] == [m.recipient for m in batch]  # in order
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert peak[0] == 4


def test_a_dead_key_in_a_parallel_window_after_accepted_messages_is_reported() -> None:
    def send_one(message: OutgoingMessage) -> SendResult:
        if message.delivery_id == 3:
            raise PermanentDeliveryError("sendgrid: HTTP 401")
        return SendResult(message.delivery_id, message.recipient, True)

    pooled = client(connections=4)
    try:
        results = send_each(pooled, outgoing(6), send_one)
    finally:
        pooled.close()
    assert [r.ok for r in results] == [True, True, False, True, False, False]
    assert not any(r.permanent for r in results)


def test_postmark_key_dying_after_an_accepted_chunk_reports_that_chunk(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_ordered_request("/email/batch").respond_with_handler(
        lambda r: success_answer("postmark", r)
    )
    httpserver.expect_ordered_request("/email/batch").respond_with_json(
        {"ErrorCode": 10, "Message": "Bad or missing Server API token."}, status=401
    )
    template = outgoing(1)[0]
    parts = message_parts(template)
    batch = [replace(template, delivery_id=i, parts=parts) for i in range(502)]
    results = transports("postmark").send(batch)
    assert [r.ok for r in results].count(True) == 500
    assert [(r.ok, r.permanent) for r in results[500:]] == [(False, False)] * 2


# --- faults: who is to blame, and answers that never came (issue 9) ------------------------


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (500, '{"ErrorCode": 0, "Message": "internal"}', {}),
        (429, "rate limited", {}),
        (429, "rate limited", {"Retry-After": "0"}),
        (503, "<html><body><h1>503 Service Unavailable</h1></body></html>", {}),
        (400, "<html><body><h1>400 Bad Request</h1>nginx</body></html>", {}),
    ],
    ids=["500", "429-no-retry-after", "429-retry-after-0", "503-html", "400-html"],
)
def test_postmark_peer_trouble_blames_the_peer(
    status: int,
    body: str,
    headers: dict[str, str],
    httpserver: HTTPServer,
    transports: Callable[..., Any],
) -> None:
    httpserver.expect_request("/email/batch").respond_with_data(
        body, status=status, headers=headers, content_type="text/html"
    )
    results = transports("postmark").send(outgoing(3))
    assert [(r.ok, r.permanent, r.blame, r.unknown) for r in results] == [
        (False, False, Blame.PEER, False)
    ] * 3
    assert all(r.retry_after is None for r in results)  # no wait named: the outbox backs off


def test_postmark_html_page_with_200_is_an_unknown_outcome(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_request("/email/batch").respond_with_data(
        "<html>Welcome</html>", status=200, content_type="text/html"
    )
    results = transports("postmark").send(outgoing(2))
    assert [(r.ok, r.blame, r.unknown) for r in results] == [(False, Blame.PEER, True)] * 2


def test_postmark_412_on_every_message_blames_the_sender(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    pending = {"ErrorCode": 412, "Message": "Your account is pending approval."}
    httpserver.expect_request("/email/batch").respond_with_json([pending] * 3)
    results = transports("postmark").send(outgoing(3))
    assert [(r.ok, r.permanent, r.blame) for r in results] == [(False, False, Blame.SENDER)] * 3
    assert "412" in (results[0].error or "")


@pytest.mark.parametrize(
    "answer",
    [
        {"ErrorCode": 402, "Message": "Received invalid JSON input."},
        {"ErrorCode": 300, "Message": "Invalid 'From' address: 'newsletter@'."},
        {"ErrorCode": 412, "Message": "Your account is pending approval."},
    ],
    ids=["402", "300-from", "412"],
)
def test_postmark_whole_request_422_blames_the_sender_for_every_message(
    answer: dict[str, Any], httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_request("/email/batch").respond_with_json(answer, status=422)
    results = transports("postmark").send(outgoing(3))
    assert [(r.ok, r.permanent, r.blame) for r in results] == [(False, False, Blame.SENDER)] * 3


def test_postmark_per_recipient_codes_stay_with_the_recipient(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    answer = [
        {
            "ErrorCode": 406,
            "Message": "You tried to send to a recipient that has been marked as inactive.",
        },
        {"ErrorCode": 300, "Message": "Invalid 'To' address: 'person2@example'."},
        {"ErrorCode": 429, "Message": "Rate limit exceeded."},
    ]
    httpserver.expect_request("/email/batch").respond_with_json(answer)
    inactive, invalid, limited = transports("postmark").send(outgoing(3))
    assert (inactive.blame, inactive.permanent, inactive.hard_bounce) == (
        Blame.RECIPIENT,
        True,
        True,
    )
    assert (invalid.blame, invalid.permanent) == (Blame.RECIPIENT, True)
    assert (limited.blame, limited.permanent) == (Blame.PEER, False)


@pytest.mark.parametrize("kind", PER_MESSAGE)
def test_per_message_refusal_of_the_sender_blames_the_sender(
    kind: str, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    refusal = {
        "mailgun": {
            "message": "Domain mg.junge-buergermeister.example is not allowed to send: account disabled"
        },
        "sendgrid": {
            "errors": [
                {
                    "message": "The from address does not match a verified Sender Identity.",
                    "field": "from",
                }
            ]
        },
        "brevo": {"code": "invalid_parameter", "message": "sender is invalid / inactive"},
    }[kind]
    httpserver.expect_request(ENDPOINT[kind]).respond_with_json(refusal, status=400)
    results = transports(kind).send(outgoing(2))
    assert [(r.ok, r.permanent, r.blame) for r in results] == [(False, False, Blame.SENDER)] * 2
    assert len(httpserver.log) == 1  # the sender is refused: the rest is not tried


@pytest.mark.parametrize("kind", PER_MESSAGE)
def test_per_message_refusal_of_the_recipient_blames_the_recipient(
    kind: str, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    refusal = {
        "mailgun": {"message": "to parameter is not a valid address. please check documentation"},
        "sendgrid": {
            "errors": [
                {
                    "message": "Does not contain a valid address.",
                    "field": "personalizations.0.to.0.email",
                }
            ]
        },
        "brevo": {"code": "invalid_parameter", "message": "email is not valid in to"},
    }[kind]
    httpserver.expect_request(ENDPOINT[kind]).respond_with_json(refusal, status=400)
    (result,) = transports(kind).send(outgoing(1))
    assert (result.ok, result.permanent, result.blame) == (False, True, Blame.RECIPIENT)


TRANSPORT_CLASSES: dict[str, Any] = {
    "postmark": PostmarkTransport,
    "mailgun": MailgunTransport,
    "sendgrid": SendgridTransport,
    "brevo": BrevoTransport,
}


def transport_at(kind: str, base_url: str, *, timeout: float) -> Any:
    """A provider transport pointed at a raw loopback server (no pytest-httpserver)."""
    config = config_for(kind, base_url, timeout=timeout, domain="mg.example")
    return TRANSPORT_CLASSES[kind](config, "key")


@pytest.mark.parametrize("kind", ALL)
def test_refused_connection_blames_the_peer_and_is_not_unknown(kind: str) -> None:
    transport = transport_at(kind, "http://127.0.0.1:9", timeout=1)
    try:
        results = transport.send(outgoing(2))
    finally:
        transport.close()
    assert [(r.ok, r.permanent, r.blame, r.unknown) for r in results] == [
        (False, False, Blame.PEER, False)
    ] * 2


@pytest.mark.parametrize("kind", ALL)
def test_connect_timeout_blames_the_peer_and_is_not_unknown(kind: str) -> None:
    listener = UnreachableListener()
    transport = transport_at(kind, listener.url, timeout=0.3)
    try:
        results = transport.send(outgoing(2))
    finally:
        transport.close()
        listener.close()
    assert [(r.ok, r.permanent, r.blame, r.unknown) for r in results] == [
        (False, False, Blame.PEER, False)
    ] * 2
    assert "connect timed out" in (results[0].error or "")


@pytest.mark.parametrize("kind", ALL)
def test_bad_key_mid_batch_blames_the_sender(kind: str) -> None:
    def send_one(message: OutgoingMessage) -> SendResult:
        if message.delivery_id == 2:
            raise PermanentDeliveryError(f"{kind}: HTTP 401")
        return SendResult(message.delivery_id, message.recipient, True)

    results = send_each(client(), outgoing(3), send_one)
    assert [(r.ok, r.blame) for r in results][1:] == [(False, Blame.SENDER)] * 2


class Held:
    """A provider that takes the request, then answers only after the client gave up."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.release = threading.Event()
        self.taken: list[Any] = []

    def __call__(self, request: Request) -> Response:
        self.taken.append(request.get_json(silent=True) or dict(request.form))
        self.release.wait(5)  # bounded: the test sets it once the client timed out
        return success_answer(self.kind, request)


@pytest.mark.parametrize("kind", ["postmark", "mailgun", "sendgrid"])
def test_timeout_after_the_request_went_out_is_unknown(
    kind: str, httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    held = Held(kind)
    httpserver.expect_request(ENDPOINT[kind], method="POST").respond_with_handler(held)
    results = transports(kind, timeout=0.3).send(outgoing(2))
    held.release.set()
    assert len(held.taken) == 1  # one request went out and was taken
    # Postmark: both messages were in that one batch; the others: the second was not tried
    expected_unknown = [True, True] if kind == "postmark" else [True, False]
    assert [r.unknown for r in results] == expected_unknown
    assert [(r.ok, r.permanent, r.blame) for r in results] == [(False, False, Blame.PEER)] * 2


@pytest.mark.parametrize("kind", ["postmark", "mailgun", "sendgrid"])
def test_connection_dropped_after_the_request_went_out_is_unknown(kind: str) -> None:
    server = DroppingHttpServer()
    transport = transport_at(kind, server.url, timeout=2)
    try:
        results = transport.send(outgoing(1))
    finally:
        transport.close()
        server.close()
    assert len(server.requests) == 1 and b"person1@example.org" in server.requests[0]
    assert [(r.ok, r.blame, r.unknown) for r in results] == [(False, Blame.PEER, True)]


def test_brevo_unanswered_request_is_resent_with_the_same_key(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    """Brevo counts a request once per idempotency key: its timeout is a plain retry."""
    held = Held("brevo")
    httpserver.expect_ordered_request("/v3/smtp/email").respond_with_handler(held)
    httpserver.expect_ordered_request("/v3/smtp/email").respond_with_handler(
        lambda r: success_answer("brevo", r)
    )
    transport = transports("brevo", timeout=0.3)
    batch = outgoing(1)
    (first,) = transport.send(batch)
    held.release.set()
    assert (first.ok, first.blame, first.unknown, first.permanent) == (
        False,
        Blame.PEER,
        False,
        False,
    )
    (again,) = transport.send(batch)
    assert again.ok
    keys = [req.get_json()["headers"]["idempotencyKey"] for req, _ in httpserver.log]
    assert keys == [idempotency_key(batch[0])] * 2


def test_brevo_dropped_connection_is_not_unknown() -> None:
    server = DroppingHttpServer()
    config = config_for("brevo", server.url, timeout=2)
    transport = BrevoTransport(config, "key")
    try:
        (result,) = transport.send(outgoing(1))
    finally:
        transport.close()
        server.close()
    assert (result.ok, result.blame, result.unknown) == (False, Blame.PEER, False)


# --- confirm: asking the provider whether an unanswered request was accepted --------------


def test_postmark_confirm_finds_accepted_messages_by_delivery_metadata(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    def search(request: Request) -> Response:
        assert request.headers["X-Postmark-Server-Token"] == "pm-token"
        assert int(request.args["count"]) > 0 and request.args["offset"] == "0"
        wanted = request.args["metadata_delivery_id"]
        found = {
            "1": [
                {
                    "MessageID": "pm-found-1",
                    "Recipients": ["person1@example.org"],
                    "Metadata": {"delivery_id": "1"},
                    "Status": "Sent",
                }
            ]
        }.get(wanted, [])
        if wanted == "3":
            return Response("<html>busy</html>", 503)
        return Response(
            json.dumps({"TotalCount": len(found), "Messages": found}),
            200,
            content_type="application/json",
        )

    httpserver.expect_request("/messages/outbound", method="GET").respond_with_handler(search)
    transport = transports("postmark")
    assert isinstance(transport, Confirming)
    answer = transport.confirm(outgoing(3))
    assert answer == {1: "pm-found-1", 2: None}  # 3: the search failed, cannot tell


def test_postmark_timeout_then_confirm_never_sends_twice(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    held = Held("postmark")
    httpserver.expect_request("/email/batch", method="POST").respond_with_handler(held)
    accepted: dict[str, str] = {}

    def search(request: Request) -> Response:
        wanted = request.args["metadata_delivery_id"]
        messages = (
            [{"MessageID": accepted[wanted], "Metadata": {"delivery_id": wanted}}]
            if wanted in accepted
            else []
        )
        return Response(json.dumps({"TotalCount": len(messages), "Messages": messages}), 200)

    httpserver.expect_request("/messages/outbound", method="GET").respond_with_handler(search)
    transport = transports("postmark", timeout=0.3)
    batch = outgoing(2)
    results = transport.send(batch)
    held.release.set()
    assert [r.unknown for r in results] == [True, True]
    # the fake provider accepted the first message of the held batch only
    accepted["1"] = "pm-0"
    assert transport.confirm(batch) == {1: "pm-0", 2: None}
    assert len(held.taken) == 1


def mailgun_event(delivery_id: int, event: str, message_id: str) -> dict[str, Any]:
    return {
        "event": event,
        "recipient": f"person{delivery_id}@example.org",
        "user-variables": {"delivery_id": str(delivery_id)},
        "message": {"headers": {"message-id": message_id}},
    }


def test_mailgun_confirm_asks_the_events_api(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    def events(request: Request) -> Response:
        assert request.authorization is not None
        assert request.authorization.password == "mg-key"
        recipient = request.args["recipient"]
        items = {
            "person1@example.org": [
                mailgun_event(1, "delivered", "rb-7-1@junge-buergermeister.example"),
                mailgun_event(1, "accepted", "rb-7-1@junge-buergermeister.example"),
            ],
            # an older message to the same person, and a request Mailgun rejected
            "person2@example.org": [
                mailgun_event(99, "accepted", "rb-6-99@junge-buergermeister.example"),
                mailgun_event(2, "rejected", "rb-7-2@junge-buergermeister.example"),
            ],
        }.get(recipient)
        if items is None:
            return Response("upstream timeout", 504)
        return Response(json.dumps({"items": items, "paging": {}}), 200)

    httpserver.expect_request(
        "/v3/mg.junge-buergermeister.example/events", method="GET"
    ).respond_with_handler(events)
    transport = transports("mailgun")
    assert isinstance(transport, Confirming)
    answer = transport.confirm(outgoing(3))
    assert answer == {1: "<rb-7-1@junge-buergermeister.example>", 2: None}


def test_mailgun_timeout_then_confirm(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    held = Held("mailgun")
    httpserver.expect_request(ENDPOINT["mailgun"], method="POST").respond_with_handler(held)
    httpserver.expect_request(
        "/v3/mg.junge-buergermeister.example/events", method="GET"
    ).respond_with_json(
        {"items": [mailgun_event(1, "accepted", "rb-7-1@junge-buergermeister.example")]}
    )
    transport = transports("mailgun", timeout=0.3)
    batch = outgoing(1)
    (result,) = transport.send(batch)
    held.release.set()
    assert result.unknown
    assert transport.confirm(batch) == {1: "<rb-7-1@junge-buergermeister.example>"}


def test_sendgrid_confirm_without_the_activity_add_on_cannot_tell(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    httpserver.expect_request("/v3/messages", method="GET").respond_with_json(
        {"errors": [{"field": None, "message": "access forbidden"}]}, status=403
    )
    transport = transports("sendgrid")
    assert isinstance(transport, Confirming)
    assert transport.confirm(outgoing(2)) == {}


def test_sendgrid_timeout_then_confirm_with_email_activity(
    httpserver: HTTPServer, transports: Callable[..., Any]
) -> None:
    held = Held("sendgrid")
    httpserver.expect_request("/v3/mail/send", method="POST").respond_with_handler(held)

    def activity(request: Request) -> Response:
        query = request.args["query"]
        assert "to_email=" in query and "delivery_id" in query
        if "person1@example.org" in query:
            found = [
                {
                    "msg_id": "sg-1.filter01",
                    "to_email": "person1@example.org",
                    "status": "delivered",
                }
            ]
        else:
            found = []
        return Response(json.dumps({"messages": found}), 200)

    httpserver.expect_request("/v3/messages", method="GET").respond_with_handler(activity)
    transport = transports("sendgrid", timeout=0.3)
    batch = outgoing(2)
    results = transport.send(batch)
    held.release.set()
    assert results[0].unknown
    assert transport.confirm(batch) == {1: "sg-1", 2: None}


def test_a_refusal_names_the_recipient_only_by_whole_words() -> None:
    (message,) = outgoing(1)
    assert names_recipient("email is not valid in to", message, "in to")
    assert not names_recipient("key not found in token", message, "in to")
    assert names_recipient("to parameter is not a valid address", message, "to parameter")
    assert not names_recipient("from parameter is not a valid address", message, "to parameter")
    assert names_recipient("Address PERSON1@example.org bounced", message)


@pytest.mark.parametrize("kind", PER_MESSAGE)
def test_transports_are_context_managers_that_close_their_pool(
    kind: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(ENDPOINT[kind], method="POST").respond_with_handler(
        lambda r: success_answer(kind, r)
    )
    transport = make(kind, httpserver, connections=2)
    with pytest.raises(RuntimeError), transport as entered:
        assert entered is transport
        assert all(r.ok for r in transport.send(outgoing(2)))
        assert transport.client._pool is not None  # two at a time: worker threads
        raise RuntimeError("the caller fails half way")
    assert transport.client._pool is None  # closed on the way out all the same
