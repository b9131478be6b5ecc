"""Each transport and the DKIM signer are built from their own section and secret alone.

No ``Settings`` here: a transport that reached for the whole configuration (or read the
environment for its secret) could not be built this way. ``deliver.factory`` is the one
place that reads ``Settings``; its tests are in test_smtp and test_providers.
"""

from __future__ import annotations

import ast
import base64
from pathlib import Path
from typing import Any

import dkim
import nacl.signing
import pytest
from pytest_httpserver import HTTPServer

from pipeline.config import Dkim, Smtp
from pipeline.deliver import OutgoingMessage
from pipeline.deliver.dkim import signer_from_section
from pipeline.deliver.maildir import MaildirTransport
from pipeline.deliver.providers import PROVIDERS, load
from pipeline.deliver.providers.mailgun import MailgunSettings
from pipeline.deliver.smtp import from_section
from pipeline.errors import ConfigError
from tests.conftest import REPO
from tests.support.smtp import SmtpServer

MESSAGE = OutgoingMessage(
    delivery_id=1,
    envelope_from="bounces@kommune.example",
    recipient="anna@example.org",
    message_id="<1@kommune.example>",
    data=(
        b"From: Rundbrief <newsletter@kommune.example>\r\nTo: anna@example.org\r\n"
        b"Subject: Hallo\r\nMessage-ID: <1@kommune.example>\r\n\r\nHallo Anna\r\n"
    ),
)


def test_smtp_transport_from_its_section_and_password() -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"geheim", handled=False)

    server = SmtpServer(authenticator=authenticator, auth_require_tls=False).start()
    try:
        section = Smtp(host=server.host, port=server.port, username="rundbrief", connections=1)
        transport = from_section(section, "geheim")
        try:
            (result,) = transport.send([MESSAGE])
        finally:
            transport.close()
        assert result.ok, result.error
        assert logins == [(b"rundbrief", b"geheim")]
        (received,) = server.messages
        assert received.rcpt_tos == ["anna@example.org"]
    finally:
        server.stop()


def test_maildir_transport_from_its_path(tmp_path: Path) -> None:
    with MaildirTransport(tmp_path / "outbox", fsync=False) as transport:
        (result,) = transport.send([MESSAGE])
    assert result.ok
    assert [p.read_bytes() for p in (tmp_path / "outbox" / "new").iterdir()] == [
        MESSAGE.data.replace(b"\r\n", b"\n")
    ]


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_each_provider_transport_from_its_section_and_key(
    name: str, httpserver: HTTPServer
) -> None:
    entry = PROVIDERS[name]
    config = entry.settings(base_url=httpserver.url_for("").rstrip("/"))
    factory = load(entry.transport)
    with factory(config, "the-api-key", sender_domain="kommune.example") as transport:
        assert transport.name == name


def test_mailgun_sends_with_the_key_and_the_sender_domain_it_was_given(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/v3/kommune.example/messages.mime", method="POST").respond_with_json(
        {"id": "<mg-1@kommune.example>", "message": "Queued. Thank you."}
    )
    config = MailgunSettings(base_url=httpserver.url_for("").rstrip("/"), timeout=5)
    factory = load(PROVIDERS["mailgun"].transport)
    with factory(config, "mg-key", sender_domain="kommune.example") as transport:
        (result,) = transport.send([MESSAGE])
    assert result.ok, result.error
    request = httpserver.log[0][0]
    assert request.authorization is not None
    assert (request.authorization.username, request.authorization.password) == ("api", "mg-key")


def test_dkim_signer_from_its_section_and_key_material() -> None:
    signing = nacl.signing.SigningKey.generate()
    seed = base64.b64encode(bytes(signing)) + b"\n"
    record = b"v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(signing.verify_key))
    section = Dkim(enabled=True, selector="rb", algorithm="ed25519-sha256")
    signer = signer_from_section(section, seed, domain="kommune.example")
    signed = signer.sign(MESSAGE.data)
    assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: record)
    with pytest.raises(ConfigError, match="is not a PEM RSA key"):
        signer_from_section(Dkim(enabled=True, selector="rb"), seed, domain="kommune.example")
    with pytest.raises(ConfigError, match=r"dkim\.selector"):
        signer_from_section(Dkim(enabled=True), seed, domain="kommune.example")


# The modules that build or run a transport, and the collect stage below its entry point:
# none of them may see the whole configuration.
SECTION_ONLY = [
    "pipeline/deliver/smtp.py",
    "pipeline/deliver/maildir.py",
    "pipeline/deliver/dkim.py",
    "pipeline/deliver/ratelimit.py",
    "pipeline/deliver/retry.py",
    "pipeline/deliver/providers/base.py",
    "pipeline/deliver/providers/http.py",
    *(f"pipeline/deliver/providers/{name}/transport.py" for name in sorted(PROVIDERS)),
    *(
        str(p.relative_to(REPO))
        for p in sorted((REPO / "pipeline" / "collect").glob("*.py"))
        if p.name != "__init__.py"
    ),
]


@pytest.mark.parametrize("path", SECTION_ONLY)
def test_stage_module_never_sees_the_whole_settings(path: str) -> None:
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "pipeline.config"
        for alias in node.names
    }
    assert "Settings" not in names, f"{path} imports Settings; give it its section instead"
