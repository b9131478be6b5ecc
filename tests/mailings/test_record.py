"""Issue 13, item 5: the distribution record ("Versandprotokoll") of a mailing, through the
workflow: every delivery with outlet and beat, when it was delivered, the provider's
message id, bounce or complaint; erased people without personal data; CSV safe to open
in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.access import Actor, Role
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ComposeError
from pipeline.mailings import Workflow, record
from pipeline.store import Store
from pipeline.store import outbox as store_outbox
from tests.support.press_record import (
    BOUNCED_HARD,
    BOUNCED_SOFT,
    COMPLAINED,
    EDITOR,
    ERASED,
    HOSTILE,
    JOURNALISTS,
    QueueIdSink,
    queue_id,
    report_back,
    send_release,
)
from tests.support.smtp import SmtpServer, loopback_smtp

SENT = datetime(2026, 6, 19, 8, 2, tzinfo=UTC)  # the fixture clock, two minutes on


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer(QueueIdSink()).start()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(settings_factory: object, server: SmtpServer) -> Settings:
    settings: Settings = settings_factory(  # type: ignore[operator]
        **loopback_smtp(server),
    )
    return settings


def _record(
    settings: Settings, store: Store, clock: FakeClock, mailing_id: int
) -> list[record.RecordEntry]:
    return list(Workflow(settings, store, clock).distribution_record(mailing_id, by=EDITOR))


def _by_email(entries: list[record.RecordEntry]) -> dict[str | None, record.RecordEntry]:
    return {e.email: e for e in entries}


def _check_full_record(
    settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    mailing_id = send_release(settings, store, clock, tmp_path, server)
    entries = _record(settings, store, clock, mailing_id)
    # every delivery, each once, in the order they were queued
    assert len(entries) == sum(store_outbox.counts(store, mailing_id).values()) == len(JOURNALISTS)
    assert [e.delivery_id for e in entries] == sorted(e.delivery_id for e in entries)
    by_email = _by_email(entries)
    assert set(by_email) == {j[0] for j in JOURNALISTS}
    for email, _salutation, first, last, outlet, beat, _region in JOURNALISTS:
        entry = by_email[email]
        assert entry.name == f"{first} {last}"
        assert (entry.outlet, entry.beat) == (outlet, beat or None)
        assert entry.list_name == "press" and entry.status == "sent"
        assert entry.delivered_at == SENT
        assert entry.provider_message_id == queue_id(email)
        assert entry.message_id and entry.message_id.endswith("@junge-buergermeister.example>")
        assert (entry.bounce, entry.complained_at, entry.follow_ups) == (None, None, ())

    report_back(settings, store, clock, mailing_id)
    after = _record(settings, store, clock, mailing_id)
    assert len(after) == len(JOURNALISTS)  # a bounce or an erasure removes no line
    by_email = _by_email(after)
    hard, soft, complaint = by_email[BOUNCED_HARD], by_email[BOUNCED_SOFT], by_email[COMPLAINED]
    assert (hard.bounce, hard.bounce_status, hard.bounced_at) == (
        "hard",
        "5.1.1",
        SENT + timedelta(minutes=5),
    )
    assert (soft.bounce, soft.bounce_status) == ("soft", "4.2.2")
    assert complaint.bounce is None and complaint.complained_at == SENT + timedelta(minutes=5)
    # the erased person: the line stays (who got what, how many), nothing names them
    assert ERASED not in by_email
    (gone,) = [e for e in after if e.erased]
    assert gone.email is None and gone.name is None
    assert (gone.outlet, gone.beat, gone.provider_message_id) == (None, None, queue_id(ERASED))
    assert gone.delivered_at == SENT and gone.status == "sent"
    assert "Schäfer" not in repr(gone) and "Kulturradio" not in repr(gone)


def test_the_record_lists_every_delivery_with_outlet_beat_and_what_came_back(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    _check_full_record(smtp_settings, store, clock, tmp_path, server)


def test_the_record_on_postgresql(
    smtp_settings: Settings, pg_store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    _check_full_record(smtp_settings, pg_store, clock, tmp_path, server)


def test_a_hard_bounce_outweighs_an_earlier_soft_one(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    from pipeline.bounces import BounceEvent, BounceKind, BounceProcessor

    mailing_id = send_release(smtp_settings, store, clock, tmp_path, server)
    (entry,) = [
        e for e in _record(smtp_settings, store, clock, mailing_id) if e.email == BOUNCED_SOFT
    ]
    processor = BounceProcessor(smtp_settings, store, clock=clock)
    for n, (kind, status) in enumerate(
        [(BounceKind.SOFT, "4.2.2"), (BounceKind.HARD, "5.1.1"), (BounceKind.SOFT, "4.4.1")]
    ):
        clock.advance(minutes=1)
        processor.process_events(
            [
                BounceEvent(
                    kind,
                    BOUNCED_SOFT,
                    status,
                    "",
                    f"e{n}",
                    delivery_id=entry.delivery_id,
                    provider_message_id=queue_id(BOUNCED_SOFT),
                )
            ]
        )
    (entry,) = [
        e
        for e in _record(smtp_settings, store, clock, mailing_id)
        if e.delivery_id == entry.delivery_id
    ]
    assert (entry.bounce, entry.bounce_status) == ("hard", "5.1.1")


def test_pages_of_the_record_follow_each_other(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    mailing_id = send_release(smtp_settings, store, clock, tmp_path, server)
    flow = Workflow(smtp_settings, store, clock)
    everything = [e.delivery_id for e in flow.distribution_record(mailing_id, by=EDITOR)]
    first = list(flow.distribution_record(mailing_id, by=EDITOR, limit=2))
    rest = list(flow.distribution_record(mailing_id, by=EDITOR, after=first[-1].delivery_id))
    assert [e.delivery_id for e in first + rest] == everything


def test_an_unknown_mailing_has_no_record(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    with pytest.raises(ComposeError, match="99"):
        Workflow(settings, store, clock).distribution_record(99, by=EDITOR)


def test_a_draft_has_an_empty_record(settings: Settings, store: Store, clock: FakeClock) -> None:
    from tests.support.web import seed_mailing

    mailing = seed_mailing(store, clock)
    assert _record(settings, store, clock, mailing.id) == []


def test_every_role_may_read_the_record(settings: Settings, store: Store, clock: FakeClock) -> None:
    from tests.support.web import seed_mailing

    mailing = seed_mailing(store, clock)
    for role in Role:
        actor = Actor(f"{role}@junge-buergermeister.example", role)
        assert (
            list(Workflow(settings, store, clock).distribution_record(mailing.id, by=actor)) == []
        )


# --- CSV and JSON ----------------------------------------------------------------------


def test_the_csv_is_safe_to_open_in_a_spreadsheet(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    mailing_id = send_release(smtp_settings, store, clock, tmp_path, server, hostile=True)
    report_back(smtp_settings, store, clock, mailing_id)
    out = io.StringIO()
    record.write_csv(
        _record(smtp_settings, store, clock, mailing_id), out, smtp_settings.organisation.tz
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == len(JOURNALISTS) + 1
    hostile = next(r for r in rows if r["email"] == HOSTILE[0])
    assert hostile["outlet"] == "'=cmd|' /C calc'!A0"
    assert hostile["beat"] == "'+Wirtschaft"
    assert hostile["name"].startswith("'=HYPERLINK(")
    # no cell anywhere starts with what a spreadsheet would evaluate
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    # the erased person: no address, no name, no outlet
    (gone,) = [r for r in rows if r["erased"] == "yes"]
    assert gone["email"] == "[erased]" and gone["name"] == gone["outlet"] == ""
    # times in the organisation's zone (Berlin, summer time)
    first = next(r for r in rows if r["email"] == JOURNALISTS[0][0])
    assert first["delivered_at"] == "2026-06-19T10:02:00+02:00"
    bounced = next(r for r in rows if r["email"] == BOUNCED_HARD)
    assert (bounced["bounce"], bounced["bounce_status"]) == ("hard", "5.1.1")
    assert (
        next(r for r in rows if r["email"] == COMPLAINED)["complained_at"]
        == "2026-06-19T10:07:00+02:00"
    )


@pytest.mark.parametrize("text", ["=1+1", "+49 30 1234", "-2", "@SUM(A1)", "\t=x", "\r=x"])
def test_a_cell_that_a_spreadsheet_would_evaluate_gets_a_quote(text: str) -> None:
    assert record.csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["Tageszeitung Ost", "j.koehler@tageszeitung-ost.example", "", "a=b"]
)
def test_other_cells_stay_as_they_are(text: str) -> None:
    assert record.csv_cell(text) == text


def test_json_of_an_erased_person_has_no_personal_data(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    mailing_id = send_release(smtp_settings, store, clock, tmp_path, server)
    report_back(smtp_settings, store, clock, mailing_id)
    entries = [
        record.as_json(e, smtp_settings.organisation.tz)
        for e in _record(smtp_settings, store, clock, mailing_id)
    ]
    (gone,) = [e for e in entries if e["erased"]]
    assert gone["email"] is None and gone["name"] is None
    assert gone["outlet"] is None and gone["beat"] is None
    (hard,) = [e for e in entries if e["email"] == BOUNCED_HARD]
    assert hard["bounce"] == {"kind": "hard", "status": "5.1.1", "at": "2026-06-19T10:07:00+02:00"}
    assert hard["delivered_at"] == "2026-06-19T10:02:00+02:00"
    assert hard["follow_ups"] == []


def test_an_older_store_gets_the_record_indexes(tmp_path: Path) -> None:
    """A store from before issue 13 (without the two indexes) gains them on opening."""
    import sqlite3

    from sqlalchemy import inspect

    from pipeline.store.migrations import MIGRATIONS, _record

    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store.open(url).close()
    raw = sqlite3.connect(tmp_path / "old.db")
    raw.execute("DROP INDEX ix_deliveries_mailing_id")
    raw.execute("DROP INDEX ix_bounce_events_delivery_id")
    raw.execute("UPDATE schema_version SET version = ?", (MIGRATIONS.index(_record),))
    raw.commit()
    raw.close()
    store = Store.open(url)
    inspector = inspect(store.engine)
    assert "ix_deliveries_mailing_id" in {i["name"] for i in inspector.get_indexes("deliveries")}
    assert "ix_bounce_events_delivery_id" in {
        i["name"] for i in inspector.get_indexes("bounce_events")
    }
    store.close()


def test_a_delivery_the_relay_refused_is_listed_with_its_error(
    settings: Settings, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    refused = JOURNALISTS[0][0]
    sink = QueueIdSink(rcpt_reply=lambda a: "550 5.1.1 No such user" if a == refused else None)
    server = SmtpServer(sink).start()
    try:
        mailing_id = send_release(settings, store, clock, tmp_path, server)
    finally:
        server.stop()
    entries = _by_email(_record(settings, store, clock, mailing_id))
    assert len(entries) == len(JOURNALISTS)
    line = entries[refused]
    assert line.status == "failed" and line.delivered_at is None
    assert line.error is not None and "5.1.1" in line.error
    assert line.outlet == "Tageszeitung Ost"
    assert all(e.status == "sent" for email, e in entries.items() if email != refused)
