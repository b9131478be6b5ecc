"""Processing bounce mails from a real Maildir and mbox into suppressions, idempotently."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pipeline.audience.suppression import is_suppressed
from pipeline.bounces import verp
from pipeline.bounces.process import BounceProcessor
from pipeline.bounces.sources import parse_source, read_source
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.store import Store
from pipeline.store.schema import bounce_events, suppressions
from tests.bounces.conftest import PEOPLE, SECRET, add_mailing, cli_home, fixture

ALL_REPORTS = [
    "postfix-5.1.1-user-unknown.eml",
    "postfix-4.2.2-mailbox-full.eml",
    "postfix-delayed-warning.eml",
    "gmail-5.1.1-does-not-exist.eml",
    "exim-failed-recipients.eml",
    "arf-complaint.eml",
    "autoreply-vacation.eml",
]


def make_maildir(path: Path, reports: list[bytes]) -> Path:
    box = mailbox.Maildir(str(path), create=True)
    for data in reports:
        box.add(data)
    return path


def run(settings: Settings, store: Store, clock: FakeClock, source: str) -> Any:
    processor = BounceProcessor(settings, store, clock=clock)
    count = read_source(parse_source(source), settings, processor.process_message)
    return count, processor.report


def reasons(store: Store) -> dict[str, str]:
    with store.connect() as conn:
        rows = conn.execute(select(suppressions.c.email, suppressions.c.reason)).all()
    return {str(email): str(reason) for email, reason in rows}


def events(store: Store) -> list[tuple[Any, ...]]:
    with store.connect() as conn:
        rows = conn.execute(
            select(
                bounce_events.c.delivery_id, bounce_events.c.kind, bounce_events.c.status_code
            ).order_by(bounce_events.c.delivery_id)
        ).all()
    return [tuple(r) for r in rows]


def test_maildir_reports_suppress_hard_bounces_and_complaints(
    verp_settings: Settings, sent_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    path = make_maildir(tmp_path / "bounces", [fixture(n) for n in ALL_REPORTS])
    count, report = run(verp_settings, sent_store, clock, f"maildir:{path}")
    assert count == 7
    assert (report.hard, report.soft, report.complaints) == (3, 1, 1)
    assert (report.ignored, report.unmatched, report.duplicates) == (2, 0, 0)
    assert report.suppressed == 4
    assert reasons(sent_store) == {
        PEOPLE[101]: "hard_bounce",
        PEOPLE[103]: "hard_bounce",
        PEOPLE[104]: "hard_bounce",
        PEOPLE[105]: "complaint",
    }
    assert not is_suppressed(sent_store, PEOPLE[102])  # one soft bounce is not enough
    assert events(sent_store) == [
        (101, "hard", "5.1.1"),
        (102, "soft", "4.2.2"),
        (103, "hard", "5.1.1"),
        (104, "hard", "5.1.1"),
        (105, "complaint", None),
    ]
    # every message is marked seen: a second run reads nothing
    box = mailbox.Maildir(str(path), create=False)
    assert all("S" in box.get_message(k).get_flags() for k in box.iterkeys())
    assert run(verp_settings, sent_store, clock, f"maildir:{path}")[0] == 0


def test_the_same_reports_again_count_once(
    verp_settings: Settings, sent_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    reports = [fixture(n) for n in ALL_REPORTS]
    run(verp_settings, sent_store, clock, f"maildir:{make_maildir(tmp_path / 'a', reports)}")
    count, report = run(
        verp_settings, sent_store, clock, f"maildir:{make_maildir(tmp_path / 'b', reports)}"
    )
    assert count == 7
    assert report.duplicates == 5
    assert (report.hard, report.soft, report.complaints, report.suppressed) == (0, 0, 0, 0)
    assert len(events(sent_store)) == 5


def soft_report_for(delivery_id: int, report_id: str) -> bytes:
    data = fixture("postfix-4.2.2-mailbox-full.eml")
    data = data.replace(b"102-67327ab52e", verp.encode(SECRET, delivery_id).encode())
    return data.replace(b"<20260621080540.7Ym2Qp4c9Kz1rTA@", f"<{report_id}@".encode())


def test_soft_bounces_suppress_after_the_configured_number_of_mailings(
    verp_settings: Settings, sent_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    add_mailing(sent_store, 8, {202: PEOPLE[102]})
    assert verp_settings.bounces.soft_bounces_before_suppress == 2
    first = [fixture("postfix-4.2.2-mailbox-full.eml"), soft_report_for(102, "retry-report")]
    _, report = run(
        verp_settings, sent_store, clock, f"maildir:{make_maildir(tmp_path / 'a', first)}"
    )
    # two reports about the same delivery: one mailing bounced, not two
    assert report.soft == 2 and report.suppressed == 0
    assert not is_suppressed(sent_store, PEOPLE[102])
    second = [soft_report_for(202, "next-mailing")]
    _, report = run(
        verp_settings, sent_store, clock, f"maildir:{make_maildir(tmp_path / 'b', second)}"
    )
    assert report.suppressed == 1
    assert reasons(sent_store) == {PEOPLE[102]: "hard_bounce"}


def test_a_report_about_no_delivery_of_ours_suppresses_nobody(
    verp_settings: Settings, sent_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    forged = (
        fixture("postfix-5.1.1-user-unknown.eml")
        .replace(b"101-ffd070c028", b"101-0000000000")
        .replace(b"rb-7-101@", b"fremd-1@")
        .replace(b"anna.schroeder@example.org", b"unbekannt@example.org")
    )
    _, report = run(
        verp_settings, sent_store, clock, f"maildir:{make_maildir(tmp_path / 'm', [forged])}"
    )
    assert (report.unmatched, report.suppressed) == (1, 0)
    assert reasons(sent_store) == {}
    assert events(sent_store) == [(None, "hard", "5.1.1")]


def test_without_verp_the_message_id_matches(
    settings_factory: Any, clock: FakeClock, tmp_path: Path
) -> None:
    settings = settings_factory()  # no bounce_domain, no secret needed
    store = Store.open(settings.database_url())
    try:
        add_mailing(store, 7, PEOPLE)
        path = make_maildir(tmp_path / "m", [fixture("postfix-5.1.1-user-unknown.eml")])
        _, report = run(settings, store, clock, f"maildir:{path}")
        assert report.suppressed == 1
        assert events(store) == [(101, "hard", "5.1.1")]
    finally:
        store.close()


def test_mbox_source_marks_messages_read(
    verp_settings: Settings, sent_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(str(path), create=True)
    for name in ("gmail-5.1.1-does-not-exist.eml", "arf-complaint.eml", "autoreply-vacation.eml"):
        box.add(fixture(name))
    box.flush()
    box.close()
    count, report = run(verp_settings, sent_store, clock, f"mbox:{path}")
    assert count == 3
    assert (report.hard, report.complaints, report.ignored) == (1, 1, 1)
    again = mailbox.mbox(str(path), create=False)
    assert all("R" in m.get_flags() for m in again)
    assert len(again) == 3  # marked, not removed
    assert run(verp_settings, sent_store, clock, f"mbox:{path}")[0] == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("maildir:var/bounces", ("maildir", "var/bounces", "", 0, "", "INBOX")),
        ("mbox:/var/mail/bounces", ("mbox", "/var/mail/bounces", "", 0, "", "INBOX")),
        (
            "imaps://bounces%40verein.example@imap.verein.example/INBOX",
            ("imaps", "", "imap.verein.example", 993, "bounces@verein.example", "INBOX"),
        ),
        (
            "imap://bounce@127.0.0.1:1143/Bounces",
            ("imap", "", "127.0.0.1", 1143, "bounce", "Bounces"),
        ),
    ],
)
def test_parse_source(text: str, expected: tuple[Any, ...]) -> None:
    spec = parse_source(text)
    assert (spec.kind, spec.path, spec.host, spec.port, spec.user, spec.folder) == expected


@pytest.mark.parametrize(
    "text",
    ["pop3://x@y", "maildir:", "imaps://imap.example/INBOX", "imaps://u:geheim@imap.example/"],
)
def test_parse_source_refuses(text: str) -> None:
    with pytest.raises(ConfigError, match="bounce source"):
        parse_source(text)


def test_missing_maildir_is_a_clear_error(
    verp_settings: Settings, sent_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    from pipeline.bounces.sources import BounceSourceError

    with pytest.raises(BounceSourceError, match="not a Maildir"):
        run(verp_settings, sent_store, clock, f"maildir:{tmp_path / 'fehlt'}")


def test_cli_processes_the_configured_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.cli import app

    monkeypatch.setenv("RUNDBRIEF_SECRET", SECRET)
    config = cli_home(tmp_path)
    make_maildir(tmp_path / "bounces", [fixture(n) for n in ALL_REPORTS])
    runner = CliRunner()
    result = runner.invoke(app, ["--config", str(config), "bounces", "process", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["source"] == "maildir:bounces"
    assert (data["hard"], data["soft"], data["complaints"], data["suppressed"]) == (3, 1, 1, 4)
    human = runner.invoke(app, ["--config", str(config), "bounces", "process"])
    assert human.exit_code == 0
    assert "messages read" in human.stdout and "0" in human.stdout


def test_imap_source_reads_unseen_and_marks_them_seen(
    verp_settings: Settings,
    sent_store: Store,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.bounces.imap_server import ImapMailbox, ImapServer

    box = ImapMailbox(user="bounces@junge-buergermeister.example", password='Pässwort "IMAP"')
    for name in ("postfix-5.1.1-user-unknown.eml", "arf-complaint.eml", "autoreply-vacation.eml"):
        box.add(fixture(name))
    box.seen.add(box.add(fixture("gmail-5.1.1-does-not-exist.eml")))  # read by a person
    monkeypatch.setenv(verp_settings.bounces.password_env, box.password)
    with ImapServer(box) as server:
        source = f"imap://bounces%40junge-buergermeister.example@127.0.0.1:{server.port}/INBOX"
        count, report = run(verp_settings, sent_store, clock, source)
        assert count == 3
        assert (report.hard, report.complaints, report.ignored) == (1, 1, 1)
        assert box.seen == {1, 2, 3, 4}
        assert run(verp_settings, sent_store, clock, source)[0] == 0
    assert reasons(sent_store) == {PEOPLE[101]: "hard_bounce", PEOPLE[105]: "complaint"}


def test_imap_wrong_password_is_a_clear_error(
    verp_settings: Settings, sent_store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.bounces.sources import BounceSourceError
    from tests.bounces.imap_server import ImapMailbox, ImapServer

    box = ImapMailbox(user="bounces", password="richtig")
    monkeypatch.setenv(verp_settings.bounces.password_env, "falsch")
    with ImapServer(box) as server, pytest.raises(BounceSourceError, match="cannot log in"):
        run(verp_settings, sent_store, clock, f"imap://bounces@127.0.0.1:{server.port}/INBOX")


def test_imap_needs_the_password_variable(
    verp_settings: Settings, sent_store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(verp_settings.bounces.password_env, raising=False)
    with pytest.raises(ConfigError, match="RUNDBRIEF_BOUNCE_PASSWORD"):
        run(verp_settings, sent_store, clock, "imaps://bounces@127.0.0.1:1/INBOX")


def test_an_unreadable_report_is_skipped_and_marked(
    verp_settings: Settings,
    sent_store: Store,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pipeline.bounces.process as process

    real = process.parse_report

    def choking(data: bytes) -> Any:
        if b"Abwesenheitsnotiz" in data:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "kaputt")
        return real(data)

    monkeypatch.setattr(process, "parse_report", choking)
    reports = [fixture("autoreply-vacation.eml"), fixture("postfix-5.1.1-user-unknown.eml")]
    path = make_maildir(tmp_path / "m", reports)
    count, report = run(verp_settings, sent_store, clock, f"maildir:{path}")
    assert count == 2 and report.hard == 1 and report.ignored == 1
    assert "unreadable report skipped" in report.errors[0]
    assert run(verp_settings, sent_store, clock, f"maildir:{path}")[0] == 0


@pytest.mark.parametrize("data", [b"", b"\x00\xff\xfe garbage", b"Subject: x\n\n" + b"A" * 10000])
def test_garbage_is_not_a_bounce(data: bytes) -> None:
    from pipeline.bounces.dsn import parse_report

    assert parse_report(data) == []
