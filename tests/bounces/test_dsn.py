"""Parsing real-looking reports: Postfix, Exim, Gmail, a soft 4.2.2, an ARF complaint."""

from __future__ import annotations

import pytest

from pipeline.bounces.dsn import BounceKind, classify, parse_report, status_from_text
from tests.bounces.conftest import fixture


def test_postfix_user_unknown_is_a_hard_bounce_with_verp_and_message_id() -> None:
    (event,) = parse_report(fixture("postfix-5.1.1-user-unknown.eml"))
    assert event.kind == BounceKind.HARD
    assert event.recipient == "anna.schroeder@example.org"
    assert event.status == "5.1.1"
    assert "User unknown" in event.diagnostic
    assert event.original_message_id == "<rb-7-101@junge-buergermeister.example>"
    assert "bounces+101-ffd070c028@bounces.junge-buergermeister.example" in event.report_addresses
    assert event.source == "dsn"
    assert event.source_id.startswith("<20260619080217.4Xq7Lk2v1Tz9sWB@")


def test_mailbox_full_4_2_2_is_soft() -> None:
    (event,) = parse_report(fixture("postfix-4.2.2-mailbox-full.eml"))
    assert (event.kind, event.status, event.recipient) == (
        BounceKind.SOFT,
        "4.2.2",
        "joerg.weiss@example.net",
    )
    assert "Mailbox full" in event.diagnostic


def test_gmail_style_dsn() -> None:
    (event,) = parse_report(fixture("gmail-5.1.1-does-not-exist.eml"))
    assert event.kind == BounceKind.HARD
    assert event.recipient == "ben.oelmez@gmail.example"
    assert event.status == "5.1.1"
    assert "does not exist" in event.diagnostic
    assert event.original_message_id == "<rb-7-103@junge-buergermeister.example>"


def test_exim_plain_text_bounce() -> None:
    (event,) = parse_report(fixture("exim-failed-recipients.eml"))
    assert event.kind == BounceKind.HARD
    assert event.recipient == "zoe.celik@example.com"
    assert event.status == "5.1.1"
    assert event.source == "text"
    assert event.original_message_id == "<rb-7-104@junge-buergermeister.example>"


def test_plain_text_bounce_quoting_the_original_headers_without_a_marker() -> None:
    # the copy quoted line by line with "> ", as some MTAs and gateways return it
    head, _, copy = fixture("exim-failed-recipients.eml").partition(
        b"------ This is a copy of the message, including all the headers. ------\n"
    )
    data = head + b"".join(b"> " + line for line in copy.splitlines(keepends=True))
    assert b"\n> Message-ID: <rb-7-104@" in data and b"\nReturn-path:" not in data[len(head) :]
    (event,) = parse_report(data)
    assert event.original_message_id == "<rb-7-104@junge-buergermeister.example>"


def test_dsn_keeps_the_original_recipient_when_it_differs() -> None:
    data = fixture("postfix-5.1.1-user-unknown.eml").replace(
        b"Original-Recipient: rfc822;anna.schroeder@example.org",
        b"Original-Recipient: rfc822;anna@alias.example",
    )
    (event,) = parse_report(data)
    assert (event.recipient, event.original_recipient) == (
        "anna.schroeder@example.org",
        "anna@alias.example",
    )
    (same,) = parse_report(fixture("postfix-5.1.1-user-unknown.eml"))
    assert same.original_recipient is None


def test_arf_complaint() -> None:
    (event,) = parse_report(fixture("arf-complaint.eml"))
    assert event.kind == BounceKind.COMPLAINT
    assert event.recipient == "eva.gross@mailbox-anbieter.example"
    assert event.status is None
    assert "abuse" in event.diagnostic
    assert event.original_message_id == "<rb-7-105@junge-buergermeister.example>"
    assert "bounces+105-87c4e1d7bc@bounces.junge-buergermeister.example" in event.report_addresses


@pytest.mark.parametrize("name", ["postfix-delayed-warning.eml", "autoreply-vacation.eml"])
def test_delays_and_auto_replies_are_not_bounces(name: str) -> None:
    assert parse_report(fixture(name)) == []


def test_arf_with_redacted_recipient_uses_the_original_to() -> None:
    data = fixture("arf-complaint.eml").replace(
        b"Original-Rcpt-To: <eva.gross@mailbox-anbieter.example>\n", b""
    )
    (event,) = parse_report(data)
    assert event.recipient == "eva.gross@mailbox-anbieter.example"


def test_not_spam_feedback_is_no_complaint() -> None:
    data = fixture("arf-complaint.eml").replace(b"Feedback-Type: abuse", b"Feedback-Type: not-spam")
    assert parse_report(data) == []


def test_a_dsn_without_message_id_gets_a_stable_source_id() -> None:
    data = fixture("postfix-5.1.1-user-unknown.eml").replace(
        b"Message-Id: <20260619080217.4Xq7Lk2v1Tz9sWB@mail.junge-buergermeister.example>\n", b""
    )
    first, second = parse_report(data), parse_report(data)
    assert first[0].source_id == second[0].source_id
    assert first[0].source_id.startswith("sha256:")


def test_multi_recipient_dsn_gives_one_event_each() -> None:
    data = fixture("postfix-5.1.1-user-unknown.eml").replace(
        b"Action: failed\nStatus: 5.1.1\n",
        b"Action: failed\nStatus: 5.1.1\n\nFinal-Recipient: rfc822; jana@example.org\n"
        b"Action: failed\nStatus: 4.4.7\nDiagnostic-Code: X-Postfix; delivery time expired\n",
        1,
    )
    events = parse_report(data)
    assert [(e.recipient, e.kind) for e in events] == [
        ("anna.schroeder@example.org", BounceKind.HARD),
        ("jana@example.org", BounceKind.SOFT),
    ]
    assert len({e.source_id for e in events}) == 2


@pytest.mark.parametrize(
    ("status", "diagnostic", "kind"),
    [
        ("5.1.1", "", BounceKind.HARD),
        ("5.1.10", "", BounceKind.HARD),
        ("5.4.4", "", BounceKind.HARD),
        ("5.0.0", "user unknown", BounceKind.HARD),
        ("5.2.2", "mailbox full", BounceKind.SOFT),
        ("5.0.0", "Mailbox full", BounceKind.SOFT),
        ("5.7.1", "rejected by policy: listed at a blocklist", BounceKind.SOFT),
        ("4.2.2", "", BounceKind.SOFT),
        ("4.4.1", "", BounceKind.SOFT),
        ("2.0.0", "", None),
        (None, "", None),
    ],
)
def test_classify(status: str | None, diagnostic: str, kind: BounceKind | None) -> None:
    assert classify(status, diagnostic) == kind


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("550-5.1.1 The email account does not exist", "5.1.1"),
        ("smtp; 550 5.0.0 <x@y>... 5.1.1 User unknown", "5.1.1"),
        ("550 Requested action not taken: mailbox unavailable", "5.1.1"),
        ("552 Mailbox full", "5.2.2"),
        ("421 Try again later", "4.0.0"),
        ("nothing to see", None),
    ],
)
def test_status_from_text(text: str, status: str | None) -> None:
    assert status_from_text(text) == status


def test_utf8_global_delivery_status() -> None:
    data = fixture("postfix-5.1.1-user-unknown.eml").replace(
        b"Content-Type: message/delivery-status", b"Content-Type: message/global-delivery-status"
    )
    (event,) = parse_report(data)
    assert (event.kind, event.status, event.recipient) == (
        BounceKind.HARD,
        "5.1.1",
        "anna.schroeder@example.org",
    )


def test_plain_text_bounce_with_a_raw_8bit_german_subject() -> None:
    data = (
        fixture("exim-failed-recipients.eml")
        .replace(b"X-Failed-Recipients: zoe.celik@example.com\n", b"")
        .replace(
            b"Subject: Mail delivery failed: returning message to sender",
            "Subject: Unzustellbar: Nachricht an Zoë".encode(),
        )
        .replace(
            b"From: Mail Delivery System <Mailer-Daemon@relay.verein-hosting.example>",
            b"From: Zustellsystem <system@relay.verein-hosting.example>",
        )
    )
    (event,) = parse_report(data)
    assert (event.recipient, event.status) == ("zoe.celik@example.com", "5.1.1")
