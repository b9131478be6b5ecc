"""The SMTP transport against a real aiosmtpd server: pool, replies, dropped connections."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver import OutgoingMessage
from pipeline.deliver.message import MessageBuilder
from pipeline.deliver.smtp import SmtpTransport
from pipeline.errors import DeliveryError
from pipeline.models import Recipient
from tests.deliver.support import SECRET, rendered
from tests.support.smtp import SmtpServer


@pytest.fixture(params=[False, True], ids=["plain", "pipelining"])
def smtp_server(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    """Every transport test runs against a server without and with PIPELINING."""
    server = SmtpServer()
    server.sink.pipelining = request.param
    server.start()
    yield server
    server.stop()


@pytest.fixture
def transport(smtp_server: SmtpServer) -> Iterator[SmtpTransport]:
    t = SmtpTransport(host=smtp_server.host, port=smtp_server.port, connections=3, timeout=5)
    yield t
    t.close()


def messages(
    settings: Settings, clock: FakeClock, n: int, prefix: str = "m"
) -> list[OutgoingMessage]:
    b = MessageBuilder(settings, rendered(1), list_name="members", secret=SECRET, clock=clock)
    return [
        b.build(
            Recipient(i + 1, f"{prefix}{i}@kommune.example", "members", first_name="Jörg"),
            delivery_id=i + 1,
        )
        for i in range(n)
    ]


def test_pool_sends_every_message_once(
    transport: SmtpTransport, smtp_server: SmtpServer, settings: Settings, clock: FakeClock
) -> None:
    batch = messages(settings, clock, 30)
    results = transport.send(batch)
    conn, _ = transport._pool.submit(transport._current).result()
    assert conn.has_extn("pipelining") is smtp_server.sink.pipelining
    assert [r.delivery_id for r in results] == [m.delivery_id for m in batch]
    assert all(r.ok for r in results)
    assert sorted(smtp_server.sink.recipients()) == sorted(m.recipient for m in batch)
    received = {m.rcpt_tos[0]: m for m in smtp_server.messages}
    assert received["m0@kommune.example"].message["Message-ID"] == batch[0].message_id
    # Connections persist between batches (a pool, not one connection per message).
    assert transport.send(messages(settings, clock, 6, "n"))[0].ok
    assert len(smtp_server.messages) == 36


def test_recipient_replies_are_mapped(
    transport: SmtpTransport, smtp_server: SmtpServer, settings: Settings, clock: FakeClock
) -> None:
    replies = {
        "m1@kommune.example": "550 5.1.1 <m1@kommune.example>: Recipient address rejected",
        "m2@kommune.example": "451 4.7.1 Greylisted, try again later",
        "m3@kommune.example": "552 5.2.2 Mailbox full",
    }
    smtp_server.sink.rcpt_reply = replies.get
    results = {r.recipient: r for r in transport.send(messages(settings, clock, 5))}
    hard = results["m1@kommune.example"]
    assert not hard.ok and hard.permanent and hard.hard_bounce
    assert "550" in (hard.error or "")
    soft = results["m2@kommune.example"]
    assert not soft.ok and not soft.permanent and not soft.hard_bounce
    assert soft.retry_after == 5.0
    full = results["m3@kommune.example"]
    assert full.permanent and not full.hard_bounce
    assert results["m0@kommune.example"].ok and results["m4@kommune.example"].ok
    assert sorted(smtp_server.sink.recipients()) == ["m0@kommune.example", "m4@kommune.example"]


def test_421_drops_the_connection_and_asks_for_back_off(
    smtp_server: SmtpServer, settings: Settings, clock: FakeClock
) -> None:
    smtp_server.sink.data_reply = lambda n: "421 4.3.2 Too busy, closing" if n == 2 else None
    transport = SmtpTransport(
        host=smtp_server.host, port=smtp_server.port, connections=1, timeout=5
    )
    try:
        results = transport.send(messages(settings, clock, 4))
    finally:
        transport.close()
    assert [r.ok for r in results] == [True, False, True, True]
    assert results[1].retry_after == 30.0 and not results[1].permanent
    assert len(smtp_server.messages) == 3


def test_refused_data_does_not_disturb_the_next_message(
    smtp_server: SmtpServer, settings: Settings, clock: FakeClock
) -> None:
    # With PIPELINING the next envelope follows the data in the same write: a refusal of
    # the data must leave it alone (an RSET there would end up inside the next message).
    replies = {2: "554 5.7.1 Message refused by policy", 4: "452 4.3.1 Insufficient storage"}
    smtp_server.sink.data_reply = replies.get
    transport = SmtpTransport(
        host=smtp_server.host, port=smtp_server.port, connections=1, timeout=5
    )
    try:
        batch = messages(settings, clock, 6)
        results = transport.send(batch)
    finally:
        transport.close()
    assert [r.ok for r in results] == [True, False, True, False, True, True]
    assert results[1].permanent and "554" in (results[1].error or "")
    assert not results[3].permanent and "452" in (results[3].error or "")
    received = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    assert sorted(received) == sorted(batch[i].recipient for i in (0, 2, 4, 5))
    for i in (0, 2, 4, 5):
        assert received[batch[i].recipient]["Message-ID"] == batch[i].message_id


def test_connection_dropped_after_data_is_transient(
    smtp_server: SmtpServer, settings: Settings, clock: FakeClock
) -> None:
    smtp_server.sink.drop_after_data = lambda n: n == 3
    transport = SmtpTransport(
        host=smtp_server.host, port=smtp_server.port, connections=1, timeout=5
    )
    try:
        results = transport.send(messages(settings, clock, 5))
    finally:
        transport.close()
    assert [r.ok for r in results] == [True, True, False, True, True]
    assert "dropped during DATA" in (results[2].error or "")
    assert not results[2].permanent
    assert len(smtp_server.messages) == 4


def test_server_down_is_a_transient_failure(settings: Settings, clock: FakeClock) -> None:
    from tests.support.smtp import free_port

    transport = SmtpTransport(host="127.0.0.1", port=free_port(), connections=2, timeout=2)
    try:
        results = transport.send(messages(settings, clock, 3))
    finally:
        transport.close()
    assert all(not r.ok and not r.permanent for r in results)
    assert "cannot connect" in (results[0].error or "")


def test_auth_and_starttls_settings_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.deliver.factory import transport_from_settings
    from tests.support.settings import make_settings

    monkeypatch.setenv("SMTP_PW_FOR_TEST", "geheim")
    settings = make_settings(
        tmp_path,
        delivery={"transport": "smtp"},
        smtp={
            "host": "mail.example",
            "port": 587,
            "security": "starttls",
            "username": "rundbrief",
            "password_env": "SMTP_PW_FOR_TEST",
            "connections": 2,
        },
    )
    transport = transport_from_settings(settings)
    assert isinstance(transport, SmtpTransport)
    assert (transport.security, transport.username, transport.password) == (
        "starttls",
        "rundbrief",
        "geheim",
    )
    transport.close()
    monkeypatch.delenv("SMTP_PW_FOR_TEST")
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="SMTP_PW_FOR_TEST"):
        transport_from_settings(settings.with_secrets(os.environ))


def test_starttls_and_auth_against_a_real_server(
    tmp_path: Path, settings: Settings, clock: FakeClock
) -> None:
    import shutil
    import ssl
    import subprocess

    from aiosmtpd.smtp import AuthResult, LoginPassword

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (needed for a test certificate)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"geheim-\xc3\xa4", handled=False)

    server = SmtpServer(tls_context=server_tls, require_starttls=True, authenticator=authenticator)
    server.start()
    client_tls = ssl.create_default_context(cafile=str(cert))
    try:
        good = SmtpTransport(
            host=server.host, port=server.port, security="starttls", username="rundbrief",
            password="geheim-ä", ssl_context=client_tls, connections=1,
        )  # fmt: skip
        try:
            assert all(r.ok for r in good.send(messages(settings, clock, 2)))
        finally:
            good.close()
        assert logins[0] == (b"rundbrief", b"geheim-\xc3\xa4")
        assert len(server.messages) == 2
        wrong = SmtpTransport(
            host=server.host, port=server.port, security="starttls", username="rundbrief",
            password="falsch", ssl_context=client_tls, connections=1,
        )  # fmt: skip
        try:
            with pytest.raises(DeliveryError, match="refused the login"):
                wrong.send(messages(settings, clock, 1))
        finally:
            wrong.close()
        plain = SmtpTransport(host=server.host, port=server.port, connections=1)
        try:
            (result,) = plain.send(messages(settings, clock, 1))
        finally:
            plain.close()
        assert not result.ok  # the server demands STARTTLS first
    finally:
        server.stop()
    assert len(server.messages) == 2


def test_lines_starting_with_a_dot_arrive_intact(
    transport: SmtpTransport, smtp_server: SmtpServer
) -> None:
    data = (
        b"From: a@kommune.example\r\nTo: b@kommune.example\r\nSubject: Punkt\r\n\r\n"
        b".Zeile mit Punkt\r\n.\r\n..zwei\r\nEnde\r\n"
    )
    plain = b"From: a@kommune.example\r\nTo: b@kommune.example\r\nSubject: ohne\r\n\r\nEnde\r\n"
    results = transport.send(
        [
            OutgoingMessage(1, "a@kommune.example", "b@kommune.example", "<1@x>", data),
            OutgoingMessage(2, "a@kommune.example", "c@kommune.example", "<2@x>", plain),
        ]
    )
    assert all(r.ok for r in results)
    got = {m.rcpt_tos[0]: m.data for m in smtp_server.messages}
    assert got["b@kommune.example"] == data
    assert got["c@kommune.example"] == plain


def test_the_transport_is_a_context_manager_that_quits_its_connections(
    smtp_server: SmtpServer, settings: Settings, clock: FakeClock
) -> None:
    transport = SmtpTransport(host=smtp_server.host, port=smtp_server.port, connections=2)
    with pytest.raises(RuntimeError), transport as entered:
        assert entered is transport
        assert all(r.ok for r in transport.send(messages(settings, clock, 4)))
        assert transport._open  # connections are held between batches
        raise RuntimeError("the caller fails half way")
    assert not transport._open  # quit on the way out all the same
