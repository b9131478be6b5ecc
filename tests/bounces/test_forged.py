"""Forged bounces and complaints, through the real mailbox readers and ``rundbrief bounces``.

A stranger can mail the return path anything: a DSN, an ARF complaint or a plain-text
bounce naming real subscribers. Only a report tied to one of our deliveries (a VERP token
we signed, or our Message-ID of that very delivery, with the same recipient) may act;
everything else is recorded as unmatched, listed for the operator, and suppresses nobody.
"""

from __future__ import annotations

import mailbox
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pipeline.bounces import verp
from pipeline.store import Store
from pipeline.store.schema import bounce_events, suppressions
from tests.bounces.conftest import BOUNCE_DOMAIN, PEOPLE, SECRET, cli_home, fixture
from tests.bounces.imap_server import ImapMailbox, ImapServer
from tests.support.cli import Run, run_cli

FROM_ADDRESS = "newsletter@junge-buergermeister.example"
OUR_DOMAIN = "junge-buergermeister.example"


def crlf(text: str) -> bytes:
    return text.lstrip("\n").replace("\n", "\r\n").encode()


def dsn(report_id: str, *, to: str, recipient: str, original: str = "") -> bytes:
    """An RFC 3464 report of a 5.1.1 for ``recipient``; ``original`` the returned headers."""
    returned = f"--b1\nContent-Type: text/rfc822-headers\n\n{original}\n" if original else ""
    return crlf(f"""
From: MAILER-DAEMON@mx.fremd.example (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-Id: <{report_id}@mx.fremd.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Your message could not be delivered to one or more recipients.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.fremd.example

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: User unknown

{returned}--b1--
""")


def arf(report_id: str, *, to: str, recipient: str, message_id: str) -> bytes:
    """An RFC 5965 abuse report about a message with ``message_id`` to ``recipient``."""
    return crlf(f"""
From: Feedback Loop <fbl@feedback.fremd.example>
To: {to}
Subject: Complaint about message
Message-ID: <{report_id}@feedback.fremd.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b2"

--b2
Content-Type: text/plain; charset=us-ascii

This is an email abuse report.

--b2
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Fremd-FBL/1.0
Version: 1
Original-Rcpt-To: <{recipient}>

--b2
Content-Type: message/rfc822

From: newsletter@junge-buergermeister.example
To: {recipient}
Subject: Newsletter
Message-ID: {message_id}

Hallo.

--b2--
""")


def text_bounce(report_id: str, *, to: str, recipient: str) -> bytes:
    """An Exim-style bounce that quotes no Message-ID."""
    return crlf(f"""
From: Mail Delivery System <Mailer-Daemon@relay.fremd.example>
To: {to}
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: {recipient}
Message-Id: <{report_id}@relay.fremd.example>
Content-Type: text/plain; charset=utf-8

This message was created automatically by mail delivery software.
This is a permanent error. The following address(es) failed:

  {recipient}
    550 5.1.1 <{recipient}>: Recipient address rejected: User unknown
""")


# What a stranger can send, and who it names (delivery ids of PEOPLE).
FOREIGN_HEADERS = f"From: {FROM_ADDRESS}\nMessage-ID: <a1b2c3@fremd.example>\n"
WRONG_TOKEN = f"bounces+105-0000000000@{BOUNCE_DOMAIN}"
FORGED: dict[str, tuple[bytes, int]] = {
    # a DSN whose returned headers carry no Message-ID of ours
    "dsn": (dsn("f1", to=FROM_ADDRESS, recipient=PEOPLE[101], original=FOREIGN_HEADERS), 101),
    # an ARF complaint about a message that is not ours
    "arf": (
        arf("f2", to=FROM_ADDRESS, recipient=PEOPLE[103], message_id="<zz9@fremd.example>"),
        103,
    ),
    # a plain-text bounce quoting no Message-ID at all
    "text": (text_bounce("f3", to=FROM_ADDRESS, recipient=PEOPLE[104]), 104),
    # a VERP return path whose token we never signed
    "verp": (
        dsn(
            "f4",
            to=WRONG_TOKEN,
            recipient=PEOPLE[105],
            original=f"Return-Path: <{WRONG_TOKEN}>\nFrom: {FROM_ADDRESS}\n",
        ),
        105,
    ),
    # our real Message-ID of delivery 103 (Ben's), but naming Jörg
    "other recipient": (
        dsn(
            "f5",
            to=FROM_ADDRESS,
            recipient=PEOPLE[102],
            original=f"From: {FROM_ADDRESS}\nMessage-ID: <rb-7-103@{OUR_DOMAIN}>\n",
        ),
        102,
    ),
}


def suppressed(config: Path) -> dict[str, str]:
    store = Store.open(f"sqlite:///{config.parent / 'rundbrief.db'}")
    try:
        with store.connect() as conn:
            rows = conn.execute(select(suppressions.c.email, suppressions.c.reason)).all()
        return {str(e): str(r) for e, r in rows}
    finally:
        store.close()


def recorded(config: Path) -> list[tuple[Any, ...]]:
    store = Store.open(f"sqlite:///{config.parent / 'rundbrief.db'}")
    try:
        with store.connect() as conn:
            rows = conn.execute(
                select(bounce_events.c.delivery_id, bounce_events.c.kind).order_by(
                    bounce_events.c.id
                )
            ).all()
        return [tuple(r) for r in rows]
    finally:
        store.close()


def maildir(path: Path, reports: list[bytes]) -> Path:
    box = mailbox.Maildir(str(path), create=True)
    for data in reports:
        box.add(data)
    return path


def assert_listed_unmatched(listing: Run, cases: dict[str, tuple[bytes, int]]) -> None:
    """``bounces unmatched --json`` names every forged report with what it claimed."""
    assert listing.returncode == 0, listing.stderr
    rows = listing.json()
    assert len(rows) == len(cases)
    assert all(row["detail"].startswith("not acted on: ") for row in rows)
    for _, delivery in cases.values():
        assert any(f"recipient {PEOPLE[delivery]} " in row["detail"] for row in rows)


@pytest.mark.parametrize("where", ["maildir", "imap"])
def test_forged_reports_suppress_nobody_and_are_listed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", SECRET)
    config = cli_home(tmp_path)
    reports = [data for data, _ in FORGED.values()]
    if where == "maildir":
        maildir(tmp_path / "bounces", reports)
        result = run_cli(capsys, config, "bounces", "process", "--json")
    else:
        box = ImapMailbox(user="bounces", password="geheim")
        for data in reports:
            box.add(data)
        monkeypatch.setenv("RUNDBRIEF_BOUNCE_PASSWORD", box.password)
        with ImapServer(box) as server:
            source = f"imap://bounces@127.0.0.1:{server.port}/INBOX"
            result = run_cli(capsys, config, "bounces", "process", source, "--json")
        assert box.seen == set(box.messages)
    assert result.returncode == 0, result.stderr
    data = result.json()
    assert suppressed(config) == {}
    assert (data["suppressed"], data["unmatched"], data["messages"]) == (0, 5, 5)
    assert (data["hard"], data["soft"], data["complaints"]) == (0, 0, 0)
    assert {r["recipient"] for r in data["unmatched_reports"]} == {
        PEOPLE[d] for _, d in FORGED.values()
    }
    # recorded, about no delivery, so that an operator can look at them
    events = recorded(config)
    assert {delivery for delivery, _ in events} == {None}
    assert sorted(kind for _, kind in events) == ["complaint", "hard", "hard", "hard", "hard"]
    assert_listed_unmatched(run_cli(capsys, config, "bounces", "unmatched", "--json"), FORGED)


def test_forged_reports_without_verp_suppress_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = cli_home(tmp_path, verp=False)
    cases = {k: v for k, v in FORGED.items() if k != "verp"}
    maildir(tmp_path / "bounces", [data for data, _ in cases.values()])
    result = run_cli(capsys, config, "bounces", "process", "--json")
    assert result.returncode == 0, result.stderr
    assert (result.json()["suppressed"], result.json()["unmatched"]) == (0, 4)
    assert suppressed(config) == {}
    assert_listed_unmatched(run_cli(capsys, config, "bounces", "unmatched", "--json"), cases)


def test_human_summary_shows_what_was_not_acted_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", SECRET)
    config = cli_home(tmp_path)
    maildir(tmp_path / "bounces", [FORGED["other recipient"][0]])
    result = run_cli(capsys, config, "bounces", "process")
    assert result.returncode == 0, result.stderr
    assert "not acted on" in result.stdout
    assert PEOPLE[102] in result.stdout  # whom it claimed
    listing = run_cli(capsys, config, "bounces", "unmatched")
    assert listing.returncode == 0, listing.stderr
    assert PEOPLE[102] in listing.stdout and "rb-7-103" in listing.stdout


def test_genuine_reports_beside_forged_ones_still_suppress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", SECRET)
    config = cli_home(tmp_path)
    # VERP alone: the returned headers carry a Message-ID that is not ours
    verp_only = (
        fixture("postfix-5.1.1-user-unknown.eml")
        .replace(b"<rb-7-101@", b"<umgeschrieben@")
        .replace(b"20260619080217.4Xq7Lk2v1Tz9sWB", b"verp-only")
    )
    assert verp.encode(SECRET, 101).encode() in verp_only
    genuine = [
        verp_only,
        fixture("gmail-5.1.1-does-not-exist.eml"),  # our Message-ID, the same recipient
        fixture("exim-failed-recipients.eml"),  # our Message-ID quoted in the text
        fixture("arf-complaint.eml"),
    ]
    maildir(tmp_path / "bounces", genuine + [data for data, _ in FORGED.values()])
    result = run_cli(capsys, config, "bounces", "process", "--json")
    assert result.returncode == 0, result.stderr
    assert suppressed(config) == {
        PEOPLE[101]: "hard_bounce",
        PEOPLE[103]: "hard_bounce",
        PEOPLE[104]: "hard_bounce",
        PEOPLE[105]: "complaint",
    }
    data = result.json()
    assert (data["hard"], data["complaints"], data["unmatched"]) == (3, 1, 5)
    # Jörg was named by a forgery only
    assert PEOPLE[102] not in suppressed(config)
