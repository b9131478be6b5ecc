"""The jobs called directly with a FakeClock: no scheduler waits, real store and Maildir."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import insert, select, update

from pipeline import audit
from pipeline.accounts import BUILTIN_OPERATOR as DAEMON
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.schedule import jobs
from pipeline.store import Store
from pipeline.store import outbox as outbox_db
from pipeline.store import schedule as q
from pipeline.store.schema import deliveries, feeds, mailings, notifications
from tests.schedule.support import (
    FRIDAY_10,
    THURSDAY_14,
    WEEK_25,
    add_mailing,
    add_newsletter,
    add_subscribers,
    context,
    inbox,
    received_by,
)
from tests.support.mail_items import add_items

OPERATOR = "betrieb@junge-buergermeister.example"
EDITOR = "redaktion@junge-buergermeister.example"


def status_of(store: Store, mailing_id: int) -> str:
    state = q.mailing_state(store, mailing_id)
    assert state is not None
    return state.status


def notification_keys(store: Store) -> list[str]:
    with store.connect() as conn:
        return [
            r[0] for r in conn.execute(select(notifications.c.key).order_by(notifications.c.id))
        ]


def test_compose_fired_twice_makes_one_newsletter_and_tells_the_editors(
    settings: Settings, store: Store
) -> None:
    clock = FakeClock(THURSDAY_14)
    add_items(store, clock.now(), count=4)
    ctx = context(settings, store, clock)
    first = jobs.compose_job(ctx)
    second = jobs.compose_job(ctx)
    assert first.outcome == "ok" and first.mailing_id is not None
    assert second.outcome == "skipped"
    with store.connect() as conn:
        rows = conn.execute(select(mailings.c.id, mailings.c.period_key, mailings.c.status)).all()
    assert [(r.period_key, r.status) for r in rows] == [(WEEK_25, "draft")]
    to_editor = [m for m in inbox(settings) if EDITOR in str(m["To"])]
    assert len(to_editor) == 2  # the test copy and the note with the preview link
    test_copy = next(m for m in to_editor if m["X-Rundbrief-Test"] is not None)
    assert "Newsletter" in str(test_copy["Subject"])
    note = next(m for m in to_editor if m["X-Rundbrief-Test"] is None)
    body = note.get_content()
    assert (
        f"https://rundbrief.junge-buergermeister.example/editor/mailings/{first.mailing_id}" in body
    )
    assert "19.06" in body or "2026-06-19 10:00" in body  # the planned send time, local


def test_send_fired_twice_and_concurrently_sends_once_to_each(
    settings: Settings, store: Store
) -> None:
    clock = FakeClock(FRIDAY_10)
    emails = add_subscribers(store, clock, 30)
    mailing_id = add_newsletter(store, clock)
    barrier = threading.Barrier(3)
    results: list[jobs.JobResult] = []

    def fire() -> None:
        # Separate contexts: as two daemons would be (different worker ids).
        ctx = context(settings, store, clock)
        barrier.wait()
        results.append(jobs.send_newsletter_job(ctx))

    threads = [threading.Thread(target=fire) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    again = jobs.send_newsletter_job(context(settings, store, clock))
    # The three cooperate (one lease each): none is turned away, none stops another,
    # and together they sent each recipient once. On a loaded machine a thread may only
    # get going once the others have finished the send: it then finds nothing due
    # ("skipped"), which is just as right; an error or a refusal is not.
    outcomes = [r.outcome for r in results]
    assert len(outcomes) == 3 and "ok" in outcomes, results
    assert set(outcomes) <= {"ok", "skipped"}, results
    done = [r for r in results if r.outcome == "ok"]
    assert sum(int(r.detail.split(": ")[1].split(" sent")[0]) for r in done) == len(emails)
    assert again.outcome == "skipped"
    assert status_of(store, mailing_id) == "sent"
    got = received_by(inbox(settings))
    assert {e: got[e] for e in emails} == dict.fromkeys(emails, 1)
    # the operator heard about the finished send once
    assert notification_keys(store).count(f"sent:{mailing_id}") == 1
    assert got[OPERATOR] == 1


def test_embargo_is_respected_to_the_second(settings: Settings, store: Store) -> None:
    embargo = FRIDAY_10 + timedelta(hours=3, minutes=17, seconds=41)
    clock = FakeClock(embargo - timedelta(seconds=1))
    emails = add_subscribers(store, clock, 5, lists=("press",), prefix="redaktion")
    mailing_id = add_mailing(store, clock, kind="press", lists=("press",), send_at=embargo)
    ctx = context(settings, store, clock)
    early = jobs.release_press_job(ctx, mailing_id)
    catch_up = jobs.sync_job(ctx)
    assert early.outcome == "waiting", early
    assert f"press {mailing_id}" not in catch_up.detail
    assert status_of(store, mailing_id) == "approved"
    assert q.delivery_counts(store, mailing_id) == {}
    assert inbox(settings) == []
    clock.advance(1)
    released = jobs.release_press_job(ctx, mailing_id)
    assert released.outcome == "ok", released
    assert status_of(store, mailing_id) == "sent"
    got = received_by(inbox(settings))
    assert all(got[e] == 1 for e in emails)
    with store.connect() as conn:
        first_sent = conn.execute(
            select(deliveries.c.sent_at).where(deliveries.c.mailing_id == mailing_id)
        ).scalars()
        assert min(first_sent) >= embargo


def test_a_moved_embargo_is_checked_against_the_store_not_the_trigger(
    settings: Settings, store: Store
) -> None:
    clock = FakeClock(FRIDAY_10)
    add_subscribers(store, clock, 2, lists=("press",))
    mailing_id = add_mailing(store, clock, kind="press", lists=("press",), send_at=FRIDAY_10)
    later = FRIDAY_10 + timedelta(hours=1)
    with store.begin() as conn:  # an editor moved the embargo after the trigger was set
        conn.execute(update(mailings).where(mailings.c.id == mailing_id).values(send_at=later))
    moved: list[tuple[int, object]] = []
    ctx = context(settings, store, clock, reschedule=lambda i, at: moved.append((i, at)))
    assert jobs.release_press_job(ctx, mailing_id).outcome == "waiting"
    assert moved == [(mailing_id, later)]
    assert status_of(store, mailing_id) == "approved"


def test_a_send_past_the_delay_is_held_and_reported_once(settings: Settings, store: Store) -> None:
    delay = settings.schedule.max_send_delay_minutes
    clock = FakeClock(FRIDAY_10 + timedelta(minutes=delay, seconds=1))
    add_subscribers(store, clock, 3)
    mailing_id = add_newsletter(store, clock)
    ctx = context(settings, store, clock)
    held = jobs.send_newsletter_job(ctx)
    jobs.sync_job(ctx)
    clock.advance(minutes=5)
    jobs.sync_job(ctx)
    assert held.outcome == "held", held
    assert status_of(store, mailing_id) == "approved"  # left for an editor
    assert q.delivery_counts(store, mailing_id) == {}
    assert notification_keys(store).count(f"missed:{mailing_id}") == 1
    to_operator = [m for m in inbox(settings) if OPERATOR in str(m["To"])]
    assert len(to_operator) == 1
    assert "Versand verpasst" in str(to_operator[0]["Subject"])
    assert f"rundbrief send {mailing_id}" in to_operator[0].get_content()
    runs = q.last_job_runs(store)
    assert runs["send"].outcome == "held"
    from pipeline.schedule.status import collect_status

    held_list = collect_status(settings, store)["held"]
    assert [(h["mailing"], h["status"]) for h in held_list] == [(mailing_id, "approved")]


def test_a_send_within_the_delay_still_goes_out(settings: Settings, store: Store) -> None:
    delay = settings.schedule.max_send_delay_minutes
    clock = FakeClock(FRIDAY_10 + timedelta(minutes=delay - 1))
    emails = add_subscribers(store, clock, 3)
    mailing_id = add_newsletter(store, clock)
    assert jobs.send_newsletter_job(context(settings, store, clock)).outcome == "ok"
    assert status_of(store, mailing_id) == "sent"
    assert all(received_by(inbox(settings))[e] == 1 for e in emails)


def test_an_unapproved_draft_waits_and_goes_out_when_approved_in_time(
    settings: Settings, store: Store
) -> None:
    clock = FakeClock(FRIDAY_10)
    emails = add_subscribers(store, clock, 3)
    mailing_id = add_newsletter(store, clock, status="draft")
    ctx = context(settings, store, clock)
    waiting = jobs.send_newsletter_job(ctx)
    assert waiting.outcome == "waiting"
    assert f"unapproved:{mailing_id}" in notification_keys(store)
    clock.advance(minutes=30)
    jobs.sync_job(ctx)
    assert status_of(store, mailing_id) == "draft"  # still nobody approved it
    with store.begin() as conn:  # an editor approves at 10:30
        conn.execute(update(mailings).where(mailings.c.id == mailing_id).values(status="approved"))
    clock.advance(minutes=1)
    jobs.sync_job(ctx)
    assert status_of(store, mailing_id) == "sent"
    assert all(received_by(inbox(settings))[e] == 1 for e in emails)


def test_auto_approve_sends_the_composed_draft(settings_factory: object, store: Store) -> None:
    settings = settings_factory(schedule={"auto_approve": True})  # type: ignore[operator]
    clock = FakeClock(THURSDAY_14)
    emails = add_subscribers(store, clock, 4)
    add_items(store, clock.now(), count=3)
    ctx = context(settings, store, clock)
    composed = jobs.compose_job(ctx)
    assert composed.outcome == "ok"
    clock.set(FRIDAY_10)
    sent = jobs.send_newsletter_job(ctx)
    assert sent.outcome == "ok", sent
    assert composed.mailing_id is not None
    assert status_of(store, composed.mailing_id) == "sent"
    with store.connect() as conn:
        by = conn.execute(
            select(mailings.c.approved_by).where(mailings.c.id == composed.mailing_id)
        ).scalar()
    # the daemon approves and sends as its operator, and the audit log says so (issue 12)
    assert by == DAEMON
    entries = audit.entries(store, mailing=composed.mailing_id)
    editors = len(settings.sender.editors)
    assert [(e.action, e.actor_email, e.channel) for e in entries] == [
        ("compose", DAEMON, "daemon"),
        *[("test_copy", DAEMON, "daemon")] * editors,
        ("approve", DAEMON, "daemon"),
        ("send", DAEMON, "daemon"),
    ]
    assert entries[-1].details["sent"] == len(emails)
    got = received_by(inbox(settings))
    assert all(got[e] == 1 for e in emails)


def test_without_auto_approve_a_draft_is_never_sent(settings: Settings, store: Store) -> None:
    clock = FakeClock(FRIDAY_10)
    add_subscribers(store, clock, 2)
    mailing_id = add_newsletter(store, clock, status="draft")
    ctx = context(settings, store, clock)
    for _ in range(4):  # 10:00, 11:00, 12:00 (still in time), 13:00 (too late)
        jobs.send_newsletter_job(ctx)
        jobs.sync_job(ctx)
        clock.advance(minutes=60)
    assert status_of(store, mailing_id) == "draft"
    assert q.delivery_counts(store, mailing_id) == {}
    # past the delay it is reported as missed, once
    assert notification_keys(store).count(f"missed:{mailing_id}") == 1


def test_a_send_left_by_a_dead_process_is_resumed(settings: Settings, store: Store) -> None:
    clock = FakeClock(FRIDAY_10)
    emails = add_subscribers(store, clock, 5)
    mailing_id = add_newsletter(store, clock)
    import socket

    dead = f"{socket.gethostname()}:999999:dead00"  # no such pid on this machine
    with store.begin() as conn:
        conn.execute(update(mailings).where(mailings.c.id == mailing_id).values(status="sending"))
    outbox_db.join_sending(store, mailing_id, dead, now=clock.now())
    result = jobs.sync_job(context(settings, store, clock))
    assert f"resume {mailing_id}" in result.detail
    assert status_of(store, mailing_id) == "sent"
    assert all(received_by(inbox(settings))[e] == 1 for e in emails)


def test_a_send_with_a_live_sender_is_left_to_it_until_its_lease_lapses(
    settings: Settings, store: Store
) -> None:
    clock = FakeClock(FRIDAY_10)
    add_subscribers(store, clock, 2)
    mailing_id = add_newsletter(store, clock)
    other = "anderer-rechner.example:4242:abcdef"  # another host: its pid cannot be checked
    with store.begin() as conn:
        conn.execute(update(mailings).where(mailings.c.id == mailing_id).values(status="sending"))
    outbox_db.join_sending(store, mailing_id, other, now=clock.now())
    ctx = context(settings, store, clock)
    jobs.sync_job(ctx)
    assert q.delivery_counts(store, mailing_id) == {}
    # no heartbeat for longer than [delivery] lease_seconds: the sender is gone
    clock.advance(seconds=settings.delivery.lease_seconds + 1)
    jobs.sync_job(ctx)
    assert status_of(store, mailing_id) == "sent"
    assert outbox_db.senders(store, mailing_id) == []


def test_the_daemon_joins_a_send_without_stopping_the_other_sender(
    settings: Settings, store: Store
) -> None:
    """Issue 10: a send job joining a mailing leaves the other sender's lease as it was
    (before, the joiner took the one holder's place and the holder's heartbeat failed)."""
    clock = FakeClock(FRIDAY_10)
    emails = add_subscribers(store, clock, 3)
    mailing_id = add_newsletter(store, clock)
    other = "anderer-rechner.example:4242:abcdef"
    with store.begin() as conn:
        conn.execute(update(mailings).where(mailings.c.id == mailing_id).values(status="sending"))
    outbox_db.join_sending(store, mailing_id, other, now=clock.now())
    result = jobs.send_now(context(settings, store, clock), mailing_id)
    assert result.outcome == "ok" and status_of(store, mailing_id) == "sent", result
    assert outbox_db.renew_sending(store, mailing_id, other, now=clock.now())
    assert all(received_by(inbox(settings))[e] == 1 for e in emails)


def test_a_failing_feed_is_reported_once_per_streak(settings: Settings, store: Store) -> None:
    clock = FakeClock(FRIDAY_10)
    now = clock.now()
    with store.begin() as conn:
        conn.execute(
            insert(feeds).values(
                name="artikel",
                url="https://www.junge-buergermeister.example/feed/",
                kind="article",
                enabled=True,
                failures=settings.collect.failures_before_flag,
                flagged=True,
                last_error="HTTP 500",
                last_success_at=now - timedelta(days=1),
                created_at=now,
                updated_at=now,
            )
        )
    ctx = context(settings, store, clock)
    assert jobs.check_feeds(ctx) == 1
    assert jobs.check_feeds(ctx) == 0
    jobs.sync_job(ctx)
    with store.begin() as conn:  # it recovered, then failed again: a new streak
        conn.execute(update(feeds).values(last_success_at=now + timedelta(hours=1)))
    assert jobs.check_feeds(ctx) == 1
    mails = [m for m in inbox(settings) if OPERATOR in str(m["To"])]
    assert len(mails) == 2
    assert "HTTP 500" in mails[0].get_content()


def test_many_failed_deliveries_are_reported_once(settings: Settings, store: Store) -> None:
    clock = FakeClock(FRIDAY_10)
    mailing_id = add_newsletter(store, clock)
    threshold = settings.schedule.notify_failed_deliveries
    with store.begin() as conn:
        conn.execute(
            update(mailings)
            .where(mailings.c.id == mailing_id)
            .values(status="sent", sending_started_at=clock.now(), sent_at=clock.now())
        )
        for n in range(threshold):
            conn.execute(
                insert(deliveries).values(
                    mailing_id=mailing_id,
                    email=f"weg{n}@kommune.example",
                    list_name="members",
                    status="failed",
                    last_error="550 5.7.1 rejected",
                    created_at=clock.now(),
                )
            )
    ctx = context(settings, store, clock)
    jobs.sync_job(ctx)
    jobs.sync_job(ctx)
    keys = notification_keys(store)
    assert keys.count(f"failed-deliveries:{mailing_id}") == 1
    assert keys.count(f"sent:{mailing_id}") == 1


def test_a_notification_that_could_not_be_mailed_is_retried(
    settings_factory: object, store: Store
) -> None:
    settings = settings_factory(delivery={"transport": "smtp"}, smtp={"port": 1, "timeout": 1})  # type: ignore[operator]
    clock = FakeClock(FRIDAY_10)
    ctx = context(settings, store, clock)
    assert jobs.tell(ctx, "test:1", "Probe", "Hallo Betrieb") is True
    assert jobs.tell(ctx, "test:1", "Probe", "Hallo Betrieb") is False
    pending = q.list_notifications(store, unsent_only=True)
    assert [n.key for n in pending] == ["test:1"]
    # the transport comes back: the mail job sends it (once) when its retry is due
    fixed = settings_factory()  # type: ignore[operator]
    assert jobs.mail_job(context(fixed, store, clock)).outcome == "skipped"  # not due yet
    clock.advance(minutes=6)
    assert jobs.mail_job(context(fixed, store, clock)).outcome == "ok"
    assert jobs.mail_job(context(fixed, store, clock)).outcome == "skipped"
    mails = [m for m in inbox(fixed) if OPERATOR in str(m["To"])]
    assert len(mails) == 1 and "Probe" in str(mails[0]["Subject"])


def test_the_bounce_job_reads_the_configured_source_once(
    settings_factory: object, store: Store, tmp_path: object
) -> None:
    import shutil
    from pathlib import Path

    from pipeline.store.schema import bounce_events

    folder = Path(str(tmp_path)) / "bounces"
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(parents=True)
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
    shutil.copy(fixture / "postfix-5.1.1-user-unknown.eml", folder / "new" / "1.eml")
    settings = settings_factory(bounces={"source": f"maildir:{folder}"})  # type: ignore[operator]
    ctx = context(settings, store, FakeClock(FRIDAY_10))
    first = jobs.bounces_job(ctx)
    second = jobs.bounces_job(ctx)
    # about no delivery of ours: counted apart, not as a hard bounce, and nobody suppressed
    assert first.outcome == "ok" and first.detail.startswith("1 read, 0 hard"), first
    assert "0 suppressed, 1 not ours (rundbrief bounces unmatched)" in first.detail, first
    assert second.detail.startswith("0 read"), second  # marked seen: not read again
    with store.connect() as conn:  # recorded (about no delivery of ours: nobody suppressed)
        assert conn.execute(select(bounce_events.c.kind)).scalars().all() == ["hard"]


def test_the_bounce_job_does_nothing_without_a_source(settings: Settings, store: Store) -> None:
    result = jobs.bounces_job(context(settings, store, FakeClock(FRIDAY_10)))
    assert result.outcome == "skipped"


def test_a_failing_send_is_reported_once_not_every_minute(settings: Settings, store: Store) -> None:
    clock = FakeClock(FRIDAY_10)
    mailing_id = add_mailing(store, clock, lists=())  # nobody to send to: deliver refuses
    with store.begin() as conn:
        conn.execute(update(mailings).where(mailings.c.id == mailing_id).values(period_key=WEEK_25))
    ctx = context(settings, store, clock)
    first = jobs.send_newsletter_job(ctx)
    for _ in range(3):
        clock.advance(minutes=1)
        jobs.sync_job(ctx)
    assert first.outcome == "error" and "no lists" in first.detail, first
    errors = [k for k in notification_keys(store) if k.startswith(f"send-error:{mailing_id}:")]
    assert len(errors) == 1
    assert len([m for m in inbox(settings) if OPERATOR in str(m["To"])]) == 1


def test_the_claim_itself_refuses_a_press_mailing_under_embargo(
    settings: Settings, store: Store
) -> None:
    from pipeline.deliver import start_sending

    clock = FakeClock(FRIDAY_10)
    embargo = FRIDAY_10 + timedelta(seconds=1)
    mailing_id = add_mailing(store, clock, kind="press", lists=("press",), send_at=embargo)
    assert start_sending(store, mailing_id, now=clock.now()) is False
    assert status_of(store, mailing_id) == "approved"
    clock.advance(1)
    assert start_sending(store, mailing_id, now=clock.now()) is True
    assert start_sending(store, mailing_id, now=clock.now()) is False  # started once


def test_auto_approve_obeys_the_four_eyes_rule(settings_factory: object, store: Store) -> None:
    """Issue 12: the daemon approves as its operator, under the same rule as people: a
    newsletter with four eyes that the daemon composed itself waits for a person, and
    the operator is told why."""
    settings = settings_factory(  # type: ignore[operator]
        schedule={"auto_approve": True}, approval={"newsletter": "four-eyes"}
    )
    clock = FakeClock(THURSDAY_14)
    add_subscribers(store, clock, 2)
    add_items(store, clock.now(), count=3)
    ctx = context(settings, store, clock)
    composed = jobs.compose_job(ctx)
    assert composed.mailing_id is not None
    clock.set(FRIDAY_10)
    held = jobs.send_newsletter_job(ctx)
    assert held.outcome == "waiting" and "not approved" in held.detail, held
    assert status_of(store, composed.mailing_id) == "draft"
    with store.connect() as conn:
        body = conn.execute(
            select(notifications.c.body).where(
                notifications.c.key == f"unapproved:{composed.mailing_id}"
            )
        ).scalar()
    assert f"{DAEMON} edited this newsletter last; another approver must approve it" in body
