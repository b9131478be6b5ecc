"""Header details of the real message bytes: encoded words split only between words,
``Precedence: bulk`` on list mail, ``Auto-Submitted`` on mail no person sent by hand."""

from __future__ import annotations

import base64
import itertools
import re
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from pipeline.audience import ConfirmationTask
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver import plain_message
from pipeline.deliver.headers import fold, mailbox, unstructured
from pipeline.deliver.message import MessageBuilder
from pipeline.models import Recipient
from pipeline.signup import confirmation_message
from tests.deliver.support import SECRET, rendered
from tests.support.settings import make_settings

LONG_NAME = "Verband junger Bürgermeisterinnen und Bürgermeister Müller-Lüdenscheidt e. V."
_ENCODED = re.compile(r"=\?utf-8\?([bq])\?([^?]*)\?=", re.IGNORECASE)


def parse(data: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(msg, EmailMessage)
    return msg


def _decoded_words(raw_header: str) -> list[tuple[str, int, int]]:
    out = []
    for match in _ENCODED.finditer(raw_header):
        assert match.group(1).lower() == "b"
        out.append((base64.b64decode(match.group(2)).decode("utf-8"), match.start(), match.end()))
    return out


def assert_split_between_words(raw_header: str) -> None:
    """Two encoded words next to each other (only folding white space between them) are
    joined without a space by RFC 2047 decoders and with one by others: such a seam must
    lie where the text has a space anyway, never inside a word."""
    words = _decoded_words(raw_header)
    for (left, _, end), (right, start, _) in itertools.pairwise(words):
        if raw_header[end:start].strip() == "":
            assert left.endswith(" ") or right.startswith(" "), (left, right)


@pytest.mark.parametrize(
    "name",
    [
        LONG_NAME,
        "Anna-Lena Müller-Lüdenscheidt",
        "Bürgermeister Müller-Lüdenscheidt",
        "Müller, Hans (Gemeinde Groß-Umstadt)",
        "Ärztinnen- und Ärzteverband Süd",
    ],
)
def test_display_names_survive_pythons_parser(name: str) -> None:
    raw = fold("From", mailbox(name, "a@kommune.example"))
    msg = parse((raw + "Subject: x\r\n\r\nx\r\n").encode("ascii"))
    assert msg["From"].addresses[0].display_name == name
    assert msg["From"].addresses[0].addr_spec == "a@kommune.example"
    if " " in name:
        assert_split_between_words(raw)
    for line in raw.split("\r\n"):
        assert len(line) <= 78


def test_a_word_longer_than_an_encoded_word_decodes_to_the_standard() -> None:
    # 52 bytes do not fit one encoded word (75 characters): the one seam inside a word
    # that cannot be avoided, which RFC 2047 decoders join again.
    name = "Ölförderungsüberwachungsbehördenmitarbeiterinnen Süd"
    raw = fold("From", mailbox(name, "a@kommune.example"))
    value = raw.split(":", 1)[1].split("<", 1)[0]
    assert str(make_header(decode_header(value))).strip() == name


def test_subject_words_split_between_words() -> None:
    subject = (
        "Einladung: Jahreskonferenz der Bürgermeisterinnen und Bürgermeister in Müller-Lüdenscheidt"
    )
    raw = fold("Subject", unstructured(subject))
    msg = parse(("From: a@b.example\r\n" + raw + "\r\nx\r\n").encode("ascii"))
    assert msg["Subject"] == subject
    assert_split_between_words(raw)


def _list_copy(settings: Settings, clock: FakeClock, list_name: str) -> EmailMessage:
    builder = MessageBuilder(
        settings, rendered(42), list_name=list_name, secret=SECRET, clock=clock
    )
    recipient = Recipient(
        subscriber_id=7,
        email="anna@kommune.example",
        list_name=list_name,
        first_name="Anna",
        last_name=LONG_NAME,
    )
    return parse(builder.build(recipient, delivery_id=3).data)


@pytest.mark.parametrize("list_name", ["members", "press"])
def test_list_mail_is_bulk(
    tmp_path: object, clock: FakeClock, settings: Settings, list_name: str
) -> None:
    msg = _list_copy(settings, clock, list_name)
    assert msg["Precedence"] == "bulk"
    assert msg["Auto-Submitted"] is None  # a mailing is sent by people, to people
    assert msg["To"].addresses[0].display_name == f"Anna {LONG_NAME}"


def test_from_with_a_long_german_name(tmp_path: object, clock: FakeClock) -> None:
    settings = make_settings(tmp_path, sender={"from_name": LONG_NAME})  # type: ignore[arg-type]
    builder = MessageBuilder(
        settings, rendered(42), list_name="members", secret=SECRET, clock=clock
    )
    data = builder.build(
        Recipient(subscriber_id=7, email="anna@kommune.example", list_name="members"),
        delivery_id=3,
    ).data
    assert parse(data)["From"].addresses[0].display_name == LONG_NAME
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    start = head.index("\r\nFrom: ")
    assert_split_between_words(head[start : head.index(">", start)])


def test_confirmation_is_auto_generated(
    settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.web.secret_env, SECRET)
    task = ConfirmationTask("neu@kommune.example", 5, settings.lists[1], "de")
    message = confirmation_message(settings, task, clock=clock, secret=SECRET)
    msg = parse(message.data)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Precedence"] is None  # asked for by this person: not bulk
    assert message.parts is not None
    assert ("Auto-Submitted", "auto-generated") in message.parts.headers


def test_notification_is_auto_generated(settings: Settings, clock: FakeClock) -> None:
    message = plain_message(
        settings, to="betrieb@kommune.example", subject="Feed failing", text="x", clock=clock
    )
    msg = parse(message.data)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Precedence"] is None
