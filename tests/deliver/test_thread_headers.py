"""A follow-up's copy carries In-Reply-To and References naming the recipient's copy of
the original (issue 13, item 2): in the MIME bytes, in the parts for HTTP providers, and
under the DKIM signature; a stored value that is no plain Message-ID is left out."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import dkim
import pytest

from pipeline.clock import FakeClock
from pipeline.deliver.message import MessageBuilder
from pipeline.models import Recipient
from tests.deliver.support import SECRET, rendered
from tests.deliver.test_dkim import ed25519_key
from tests.support.settings import make_settings

JANA = Recipient(7, "j.koehler@tageszeitung-ost.example", "press", first_name="Jana")
ORIGINAL = "<rb.3.11.0123456789ab@junge-buergermeister.example>"


def test_the_thread_headers_name_the_original_copy(tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(tmp_path)
    builder = MessageBuilder(
        settings, rendered(5), list_name="press", secret=SECRET, clock=clock, wants_parts=True
    )
    message = builder.build(JANA, delivery_id=21, in_reply_to=ORIGINAL)
    parsed = message_from_bytes(message.data, policy=policy.default)
    assert parsed["In-Reply-To"] == ORIGINAL and parsed["References"] == ORIGINAL
    assert parsed["Message-ID"] == message.message_id != ORIGINAL
    assert message.parts is not None
    headers = dict(message.parts.headers)
    assert (headers["In-Reply-To"], headers["References"]) == (ORIGINAL, ORIGINAL)
    # a copy that follows nothing has neither
    plain = message_from_bytes(builder.build(JANA, delivery_id=22).data, policy=policy.default)
    assert plain["In-Reply-To"] is None and plain["References"] is None


@pytest.mark.parametrize(
    "stored",
    ["", "rb.3.11@x.example", f"{ORIGINAL}\r\nBcc: victim@example.org", "<a b@x.example>"],
)
def test_a_value_that_is_no_message_id_is_left_out(
    tmp_path: Path, clock: FakeClock, stored: str
) -> None:
    builder = MessageBuilder(
        make_settings(tmp_path), rendered(5), list_name="press", secret=SECRET, clock=clock
    )
    data = builder.build(JANA, delivery_id=21, in_reply_to=stored).data
    head = data.split(b"\r\n\r\n")[0]
    assert b"In-Reply-To" not in head and b"References" not in head and b"Bcc" not in head


def test_dkim_covers_the_thread_headers(tmp_path: Path, clock: FakeClock) -> None:
    key, record = ed25519_key(tmp_path)
    settings = make_settings(
        tmp_path,
        dkim={
            "enabled": True,
            "selector": "rb2026",
            "key_file": str(key),
            "algorithm": "ed25519-sha256",
        },
    )
    builder = MessageBuilder(settings, rendered(5), list_name="press", secret=SECRET, clock=clock)
    data = builder.build(JANA, delivery_id=21, in_reply_to=ORIGINAL).data

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return record

    assert dkim.verify(data, dnsfunc=dns)
    header = data.split(b"\r\n\r\n")[0].decode().replace("\r\n", "").replace(" ", "")
    signed = re.search(r"h=([^;]+);", header)
    assert signed is not None
    assert {"in-reply-to", "references"} <= {h.lower() for h in signed.group(1).split(":")}
    tampered = data.replace(
        ORIGINAL.encode(), b"<rb.9.9.ffffffffffff@junge-buergermeister.example>"
    )
    assert not dkim.verify(tampered, dnsfunc=dns)
