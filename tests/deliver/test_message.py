"""The bytes of each copy: headers to the standards, QP ≤ 76, no header injection."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from pipeline.bounces.verp import delivery_from_address, return_path
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.message import MessageBuilder
from pipeline.errors import PermanentDeliveryError
from pipeline.models import Recipient
from pipeline.render import Personalisation, personalise
from tests.deliver.support import SECRET, rendered
from tests.support.settings import make_settings


def parse(data: bytes) -> EmailMessage:
    msg = message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def body(msg: EmailMessage, kind: str) -> str:
    part = msg.get_body((kind,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def builder(settings: Settings, clock: FakeClock, **kwargs: object) -> MessageBuilder:
    return MessageBuilder(
        settings,
        rendered(42, **kwargs),
        list_name="members",
        secret=SECRET,
        clock=clock,  # type: ignore[arg-type]
    )


ANNA = Recipient(
    subscriber_id=7,
    email="anna.mueller@kommune-1.example",
    list_name="members",
    first_name="Anna-Lena",
    last_name="Müller-Lüdenscheidt",
    salutation="Frau",
)


def check_wire_format(data: bytes) -> None:
    assert b"\n" not in data.replace(b"\r\n", b""), "bare LF"
    assert b"\r" not in data.replace(b"\r\n", b""), "bare CR"
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        # Lines stay within 78 unless one token (a signed URL) is longer by itself.
        longest = max(len(t) for t in line.split(b" "))
        assert len(line) <= 78 or (longest > 60 and len(line) <= 998), line
        assert line.isascii()
    for line in body.split(b"\r\n"):
        assert len(line) <= 76, line
        assert line.isascii()


def test_headers_follow_the_standards(tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(
        tmp_path,
        sender={
            "unsubscribe_mailto": "abmelden@junge-buergermeister.example",
            "feedback_id": "njb",
        },
    )
    out = builder(settings, clock).build(ANNA, delivery_id=99)
    check_wire_format(out.data)
    msg = parse(out.data)
    assert msg["To"].addresses[0].display_name == "Anna-Lena Müller-Lüdenscheidt"
    assert msg["To"].addresses[0].addr_spec == ANNA.email
    raw_to = re.search(rb"\r\nTo: (.*?)\r\n(?! )", out.data, re.S)
    # only the words outside ASCII are encoded
    assert raw_to is not None and raw_to.group(1).startswith(b"Anna-Lena =?utf-8?b?")
    assert msg["Subject"] == "Netzwerk Junge Bürgermeister*innen · Newsletter KW 25/2026"
    assert msg["From"].addresses[0].display_name == "Netzwerk Junge Bürgermeister*innen"
    assert msg["Reply-To"] == "kontakt@junge-buergermeister.example"
    assert msg["Date"].datetime == clock.now()
    assert re.fullmatch(
        r"<rb\.42\.99\.[0-9a-f]{12}@junge-buergermeister\.example>", msg["Message-ID"]
    )
    assert out.message_id == msg["Message-ID"]
    assert msg["List-Id"] == "Mitglieder-Newsletter <members.junge-buergermeister.example>"
    unsub = msg["List-Unsubscribe"]
    assert re.match(r"<https://rundbrief\.junge-buergermeister\.example/u/[^>]+>, ", unsub)
    assert "<mailto:abmelden@junge-buergermeister.example?subject=unsubscribe>" in unsub
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Feedback-ID"] == "42:members:njb"
    assert msg["X-Rundbrief-Test"] is None
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in parts)
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    # The message id is stable: a copy sent again after a crash carries the same one.
    again = builder(settings, clock).build(ANNA, delivery_id=99)
    assert parse(again.data)["Message-ID"] == msg["Message-ID"]


def test_body_is_what_personalise_gives(settings: Settings, clock: FakeClock) -> None:
    b = builder(settings, clock)
    out = b.build(ANNA, delivery_id=5)
    msg = parse(out.data)
    values = b.personalisation(ANNA)
    expected = personalise(rendered(42), values)
    text = body(msg, "plain")
    html = body(msg, "html")
    assert text.rstrip("\n") == expected.text.rstrip("\n")
    assert html.rstrip("\n") == expected.html.rstrip("\n")
    assert values.unsubscribe_url in html
    assert "⟦" not in text and "⟦" not in html
    assert values.salutation.startswith("Liebe")
    assert f"<{values.unsubscribe_url}>" in msg["List-Unsubscribe"]


def test_html_values_are_escaped(settings: Settings, clock: FakeClock) -> None:
    b = builder(settings, clock)
    values = Personalisation(
        salutation='Hallo <script>alert("x")</script> & Co',
        first_name="",
        last_name="",
        email="a@b.example",
        unsubscribe_url='https://x.example/u/a"onmouseover="b',
        preferences_url="https://x.example/p/t",
    )
    msg = parse(b.build_personal("a@b.example", "", values, delivery_id=1).data)
    html = body(msg, "html")
    text = body(msg, "plain")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '"onmouseover' not in html
    assert "<script>" in text  # plain text stays plain


@pytest.mark.parametrize(
    "first_name",
    [
        "Anna\r\nBcc: victim@evil.example",
        "Anna\nBcc: victim@evil.example",
        "Anna\rBcc: victim@evil.example",
        "Anna\u2028Bcc: victim@evil.example",
        'Anna" <evil@evil.example>, "x',
    ],
)
def test_names_cannot_inject_headers(settings: Settings, clock: FakeClock, first_name: str) -> None:
    evil = Recipient(7, "anna@kommune.example", "members", first_name=first_name)
    out = builder(settings, clock).build(evil, delivery_id=1)
    check_wire_format(out.data)
    msg = parse(out.data)
    assert msg["Bcc"] is None
    assert len(msg.get_all("To")) == 1
    assert [a.addr_spec for a in msg["To"].addresses] == ["anna@kommune.example"]
    assert out.recipient == "anna@kommune.example"


def test_subject_cannot_inject_headers(settings: Settings, clock: FakeClock) -> None:
    subject = "Newsletter\r\nBcc: victim@evil.example\r\n\r\n<html>"
    out = builder(settings, clock, subject=subject).build(ANNA, delivery_id=1)
    check_wire_format(out.data)
    msg = parse(out.data)
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Newsletter Bcc: victim@evil.example <html>"


@pytest.mark.parametrize(
    "address",
    [
        "anna@kommune.example\r\nBcc: x@evil.example",
        "anna@kommune.example>, <x@evil.example",
        "kein-at",
        "a b@c.example",
        "",
    ],
)
def test_bad_addresses_are_refused(settings: Settings, clock: FakeClock, address: str) -> None:
    with pytest.raises(PermanentDeliveryError):
        builder(settings, clock).build(Recipient(1, address, "members"), delivery_id=1)


def test_long_values_are_folded(settings: Settings, clock: FakeClock) -> None:
    long_name = "Maximiliane Sophie Charlotte " * 6
    subject = "Sehr langer Betreff mit Umlauten äöü und „Zitaten“ " * 4
    b = builder(settings, clock, subject=subject)
    out = b.build(
        Recipient(1, "max@kommune.example", "members", first_name=long_name), delivery_id=1
    )
    check_wire_format(out.data)
    msg = parse(out.data)
    assert msg["Subject"] == " ".join(subject.split())
    assert msg["To"].addresses[0].display_name == " ".join(long_name.split())


def test_test_copy_is_marked(settings: Settings, clock: FakeClock) -> None:
    out = builder(settings, clock).build(ANNA, delivery_id=None, test=True)
    msg = parse(out.data)
    assert msg["Subject"].startswith("[TEST] ")
    assert msg["X-Rundbrief-Test"] == "yes"
    assert msg["Message-ID"].endswith("@junge-buergermeister.example>")


def test_parts_for_json_providers(settings: Settings, clock: FakeClock) -> None:
    b = MessageBuilder(
        settings, rendered(42), list_name="members", secret=SECRET, clock=clock, wants_parts=True
    )
    out = b.build(ANNA, delivery_id=3)
    assert out.parts is not None
    msg = parse(out.data)
    assert out.parts.html == body(msg, "html")
    assert out.parts.to_address == ANNA.email
    headers = dict(out.parts.headers)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Message-ID"] == out.message_id
    assert out.idempotency_key == "rb-42-3"


def test_verp_return_path(tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(
        tmp_path, delivery={"bounce_domain": "bounces.junge-buergermeister.example"}
    )
    out = builder(settings, clock).build(ANNA, delivery_id=1234)
    assert out.envelope_from == return_path(SECRET, 1234, "bounces.junge-buergermeister.example")
    assert delivery_from_address(SECRET, out.envelope_from) == 1234
    forged = out.envelope_from.replace("1234-", "1235-")
    assert delivery_from_address(SECRET, forged) is None
