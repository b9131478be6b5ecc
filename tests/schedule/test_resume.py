"""A mailing paused by a fault resumes by itself (issue 9, defect 1): the daemon's sync
job probes it with a few deliveries after a wait that doubles while the cause lasts,
says so in ``status`` and in one operator notification, and goes on once it works."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pipeline.clock import FakeClock
from pipeline.deliver.smtp import SmtpTransport
from pipeline.schedule import jobs
from pipeline.schedule.status import collect_status
from pipeline.store import Store
from pipeline.store import outbox as db
from pipeline.store import schedule as q
from tests.schedule.support import FRIDAY_10, add_mailing, add_subscribers, context
from tests.support.settings import make_settings
from tests.support.smtp import SmtpServer

OPERATOR = "betrieb@junge-buergermeister.example"


def test_an_embargoed_release_paused_by_a_refused_sender_goes_out_once_fixed(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    settings = make_settings(
        tmp_path,
        delivery={"transport": "smtp", "per_second": 10_000, "resume_after_seconds": 300},
        smtp={"host": smtp_server.host, "port": smtp_server.port, "connections": 2},
    )
    store = Store.open(settings.database_url())
    clock = FakeClock(FRIDAY_10)
    emails = add_subscribers(store, clock, 200, lists=("press",), prefix="redaktion")
    mailing_id = add_mailing(store, clock, kind="press", lists=("press",), send_at=FRIDAY_10)
    ctx = context(
        settings,
        store,
        clock,
        transport_factory=lambda: SmtpTransport(
            host=smtp_server.host, port=smtp_server.port, connections=2
        ),
    )
    smtp_server.sink.mail_reply = lambda _a: "550 5.7.1 Sender not allowed to relay"

    result = jobs.release_press_job(ctx, mailing_id)
    state = db.mailing_state(store, mailing_id)
    assert state is not None and state.status == "paused", result
    assert db.counts(store, mailing_id)["failed"] == 0
    assert state.resume_at == FRIDAY_10 + timedelta(seconds=300)
    paused = collect_status(settings, store, now=clock.now())["paused"]
    assert [p["mailing"] for p in paused] == [mailing_id] and paused[0]["next_try"]
    jobs.sync_job(ctx)  # reports the pause
    notes = q.list_notifications(store, key_prefix=f"paused:{mailing_id}:")
    assert len(notes) == 1 and "tries again by itself" in notes[0].body

    clock.advance(seconds=60)
    assert "probe" not in jobs.sync_job(ctx).detail  # not yet
    clock.advance(seconds=240)
    assert f"probe {mailing_id}" in jobs.sync_job(ctx).detail
    state = db.mailing_state(store, mailing_id)
    assert state is not None and state.status == "paused"  # still refused
    assert state.resume_tries == 2 and state.resume_at == clock.now() + timedelta(seconds=600)
    assert len(smtp_server.sink.recipients()) == 0
    # The failed probe is in status, not in a second mail.
    assert len(q.list_notifications(store, key_prefix=f"paused:{mailing_id}:")) == 1

    smtp_server.sink.mail_reply = lambda _a: None  # the relay is fixed
    clock.advance(seconds=600)
    assert f"probe {mailing_id}" in jobs.sync_job(ctx).detail
    state = db.mailing_state(store, mailing_id)
    assert state is not None and state.status == "sent"
    assert state.resume_tries == 0
    got = smtp_server.sink.recipients()
    assert sorted(r for r in got if r != OPERATOR) == sorted(emails)
    # The pause notice, held while the relay refused everything, went out afterwards.
    assert OPERATOR in got
    store.close()
