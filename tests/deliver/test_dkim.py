"""DKIM signatures (RSA and Ed25519) verified offline by dkimpy with a stub DNS lookup."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import dkim
import nacl.signing
import pytest

from pipeline.clock import FakeClock
from pipeline.deliver.message import MessageBuilder
from pipeline.errors import ConfigError
from pipeline.models import Recipient
from tests.deliver.support import SECRET, rendered
from tests.support.settings import make_settings

ANNA = Recipient(7, "anna@kommune.example", "members", first_name="Anna-Lena", last_name="Müller")
REQUIRED = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
}


def rsa_key(tmp_path: Path) -> tuple[Path, bytes]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (needed to make an RSA test key)")
    key = tmp_path / "dkim-rsa.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    pub = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(pub)


def ed25519_key(tmp_path: Path) -> tuple[Path, bytes]:
    signing = nacl.signing.SigningKey.generate()
    key = tmp_path / "dkim-ed25519.key"
    key.write_bytes(base64.b64encode(bytes(signing)) + b"\n")
    pub = base64.b64encode(bytes(signing.verify_key))
    return key, b"v=DKIM1; k=ed25519; p=" + pub


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "ed25519-sha256"])
def test_signature_verifies_and_covers_the_list_headers(
    tmp_path: Path, clock: FakeClock, algorithm: str
) -> None:
    key, record = (rsa_key if algorithm == "rsa-sha256" else ed25519_key)(tmp_path)
    settings = make_settings(
        tmp_path,
        dkim={"enabled": True, "selector": "rb2026", "key_file": str(key), "algorithm": algorithm},
    )
    builder = MessageBuilder(settings, rendered(3), list_name="members", secret=SECRET, clock=clock)
    data = builder.build(ANNA, delivery_id=11).data
    assert data.startswith(b"DKIM-Signature:")
    lookups: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        lookups.append(name)
        return record

    assert dkim.verify(data, dnsfunc=dns)
    assert lookups == [b"rb2026._domainkey.junge-buergermeister.example."]
    header = data.split(b"\r\n\r\n")[0].decode()
    signed = re.search(r"h=([^;]+);", header.replace("\r\n", "").replace(" ", ""))
    assert signed is not None
    assert {h.lower() for h in signed.group(1).split(":")} >= REQUIRED
    assert f"a={algorithm};" in header.replace(" ", "")
    # Any change to a signed header breaks the signature.
    tampered = data.replace(
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: nope"
    )
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_bad_key_files_are_configuration_errors(tmp_path: Path, clock: FakeClock) -> None:
    key, _ = ed25519_key(tmp_path)
    settings = make_settings(
        tmp_path,
        dkim={"enabled": True, "selector": "s", "key_file": str(key), "algorithm": "rsa-sha256"},
    )
    with pytest.raises(ConfigError, match=r"dkim\.key_file"):
        MessageBuilder(settings, rendered(3), list_name="members", secret=SECRET, clock=clock)
    settings = make_settings(
        tmp_path, dkim={"enabled": True, "selector": "s", "key_file": str(tmp_path / "missing.pem")}
    )
    with pytest.raises(ConfigError, match="cannot read"):
        MessageBuilder(settings, rendered(3), list_name="members", secret=SECRET, clock=clock)
