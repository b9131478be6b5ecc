"""The daemon's jobs, callable directly with a clock (tests call them without a scheduler).

    collect      every N minutes: fetch the feeds; tell the operator about a failing feed
    compose      at its cron time: this period's draft, a test copy and a preview link to
                 the editors
    send         at its cron time: the period's newsletter if approved (or auto-approved)
    press:<id>   at the embargo, to the second: one approved press mailing
    bounces      every N minutes when [bounces] source is set
    sync         every minute: catch up what is due (missed compose, a newsletter approved
                 late, press without an embargo, sends left in ``sending``), report
                 paused or failing mailings, retry unsent notifications

Each job records a ``job_runs`` row (started, finished, outcome: ok | skipped | held |
waiting | stopped | error) so ``rundbrief jobs`` and ``status`` can show what happened.
Every send goes through ``guard`` (one claim, one holder) and the outbox (one delivery
per recipient), so a job firing twice, or in two daemons, sends once.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pipeline import notify
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import Transport
from pipeline.errors import RundbriefError
from pipeline.schedule import guard
from pipeline.schedule.periods import newsletter_key, next_fire, period_key, previous_fire
from pipeline.store import Store
from pipeline.store import schedule as q

log = logging.getLogger(__name__)

Dispatch = Callable[[int], None]
Reschedule = Callable[[int, datetime], None]


@dataclass
class JobContext:
    """What every job needs; the daemon builds one, tests build their own."""

    settings: Settings
    store: Store
    clock: Clock
    worker: str = field(default_factory=guard.make_worker_id)
    stop: threading.Event = field(default_factory=threading.Event)
    # Builds the transport for sends and notifications (default: from the settings).
    transport_factory: Callable[[], Transport] | None = None
    # In the daemon: run a send as its own job, so a long send never blocks ``sync``.
    dispatch: Dispatch | None = None
    # In the daemon: put a press trigger back when a job woke before the embargo.
    reschedule: Reschedule | None = None
    active: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def tz(self) -> object:
        return self.settings.organisation.tz


@dataclass(frozen=True)
class JobResult:
    job: str
    outcome: str  # ok | skipped | held | waiting | stopped | error
    detail: str = ""
    mailing_id: int | None = None


def recorded(ctx: JobContext, job: str, body: Callable[[], JobResult]) -> JobResult:
    """Run a job body, recording it in ``job_runs``; an error is logged, never raised."""
    run_id = q.start_job_run(ctx.store, job, now=ctx.clock.now())
    try:
        result = body()
    except RundbriefError as exc:
        log.error("job failed", extra={"job": job, "error": str(exc)})
        result = JobResult(job, "error", str(exc))
    except Exception as exc:  # a bug must not kill the daemon: log it, keep the schedule
        log.error("job crashed", extra={"job": job}, exc_info=True)
        detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        result = JobResult(job, "error", detail[:2000])
    q.finish_job_run(
        ctx.store, run_id, now=ctx.clock.now(), outcome=result.outcome, detail=result.detail
    )
    log.info("job finished", extra={"job": job, "outcome": result.outcome, "detail": result.detail})
    return result


def _notify(ctx: JobContext, key: str, subject: str, body: str, *, to: str | None = None) -> bool:
    return notify.notify(
        ctx.settings,
        ctx.store,
        key=key,
        subject=subject,
        body=body,
        clock=ctx.clock,
        to=to,
        transport_factory=ctx.transport_factory,
    )


def _local(ctx: JobContext, instant: datetime) -> str:
    return instant.astimezone(ctx.settings.organisation.tz).strftime("%Y-%m-%d %H:%M:%S %Z")


# --- collect ---------------------------------------------------------------------------


def collect_job(ctx: JobContext) -> JobResult:
    def body() -> JobResult:
        from pipeline.collect import collect

        report = collect(ctx.settings, ctx.store, clock=ctx.clock)
        check_feeds(ctx)
        failed = [f.name for f in report.feeds if f.status == "error"]
        detail = f"{report.new} new, {report.updated} updated" + (
            f", failed: {', '.join(failed)}" if failed else ""
        )
        return JobResult("collect", "ok" if report.ok else "error", detail)

    return recorded(ctx, "collect", body)


def check_feeds(ctx: JobContext) -> int:
    """Tell the operator once per failure streak about a feed failing N runs in a row."""
    threshold = ctx.settings.collect.failures_before_flag
    told = 0
    for feed in q.failing_feeds(ctx.store):
        if feed.failures < threshold:
            continue
        streak = feed.last_success_at.isoformat() if feed.last_success_at else "never"
        body = (
            f"Der Feed „{feed.name}“ ist {feed.failures}-mal in Folge fehlgeschlagen.\n"
            f"The feed {feed.name!r} failed {feed.failures} times in a row.\n\n"
            f"Last error: {feed.last_error or '?'}\n"
            f"Last success: {_local(ctx, feed.last_success_at) if feed.last_success_at else 'never'}\n\n"
            "Check it with: rundbrief feeds\n"
        )
        if _notify(
            ctx,
            f"feed-failing:{feed.name}:{streak}",
            f"Feed {feed.name} fails ({feed.failures} in a row)",
            body,
        ):
            told += 1
    return told


# --- compose ---------------------------------------------------------------------------


def compose_job(ctx: JobContext) -> JobResult:
    def body() -> JobResult:
        from pipeline.compose import compose_newsletter

        mailing = compose_newsletter(ctx.settings, ctx.store, clock=ctx.clock)
        if mailing is None:
            return JobResult("compose", "skipped", "nothing new, or this period has a newsletter")
        tell_editors(ctx, mailing.id, mailing.subject)
        return JobResult("compose", "ok", f"draft {mailing.id}: {mailing.subject}", mailing.id)

    return recorded(ctx, "compose", body)


def preview_url(settings: Settings, mailing_id: int) -> str:
    return f"{settings.web.base_url}/editor/mailings/{mailing_id}"


def tell_editors(ctx: JobContext, mailing_id: int, subject: str) -> None:
    """A test copy of the draft and a note with its preview link, to every editor."""
    from pipeline.deliver.single import send_test

    settings = ctx.settings
    upcoming = next_fire(
        settings.schedule.send_newsletter, ctx.clock.now(), settings.organisation.tz
    )
    when = _local(ctx, upcoming) if upcoming else "(no send time configured)"
    approval = (
        "Er geht ohne Freigabe raus (auto_approve = true)."
        if settings.schedule.auto_approve
        else "Er geht nur raus, wenn ihn jemand freigibt."
    )
    for editor in settings.sender.editors:
        try:
            transport = ctx.transport_factory() if ctx.transport_factory else None
            try:
                result = send_test(
                    settings, ctx.store, mailing_id, editor, clock=ctx.clock, transport=transport
                )
            finally:
                if transport is not None:
                    transport.close()
            if not result.ok:
                log.warning("test copy refused", extra={"to": editor, "error": result.error})
        except RundbriefError as exc:
            log.warning("test copy not sent", extra={"to": editor, "error": str(exc)})
        _notify(
            ctx,
            f"editors:draft:{mailing_id}:{editor}",
            f"Entwurf bereit: {subject}",
            (
                f"Der Newsletter-Entwurf {mailing_id} ist fertig: {subject}\n\n"
                f"Vorschau und Freigabe: {preview_url(settings, mailing_id)}\n"
                f"Geplanter Versand: {when}. {approval}\n"
                f"Eine Testkopie ist in einer separaten E-Mail unterwegs.\n\n"
                f"CLI: rundbrief mailing show {mailing_id} · rundbrief approve {mailing_id}\n"
            ),
            to=editor,
        )


# --- sending ---------------------------------------------------------------------------


def send_newsletter_job(ctx: JobContext) -> JobResult:
    return recorded(ctx, "send", lambda: newsletter_due(ctx, report_missing=True))


def newsletter_due(ctx: JobContext, *, report_missing: bool) -> JobResult:
    """Send this period's newsletter if its send time has come (and not long passed)."""
    settings = ctx.settings
    tz = settings.organisation.tz
    now = ctx.clock.now()
    due = previous_fire(settings.schedule.send_newsletter, now, tz)
    if due is None:
        return JobResult("send", "skipped", "no send time has come yet")
    key = newsletter_key(due, tz, settings.schedule.period)
    mailing = q.mailing_for_period(ctx.store, key)
    if mailing is None:
        if report_missing:
            _notify(
                ctx,
                f"no-newsletter:{key}",
                f"Kein Newsletter für {key.partition(':')[2]}",
                (
                    f"At the send time ({_local(ctx, due)}) there was no newsletter for "
                    f"{key.partition(':')[2]}: nothing new was collected, or compose did "
                    "not run. See: rundbrief status\n"
                ),
            )
        return JobResult("send", "skipped", f"no newsletter for {key}")
    return _send_when_due(ctx, mailing, due)


def release_press_job(ctx: JobContext, mailing_id: int) -> JobResult:
    return recorded(ctx, f"press:{mailing_id}", lambda: press_due(ctx, mailing_id))


def press_due(ctx: JobContext, mailing_id: int) -> JobResult:
    """Release one press mailing: never a second before its embargo."""
    job = f"press:{mailing_id}"
    mailing = q.mailing_state(ctx.store, mailing_id)
    if mailing is None or mailing.kind != "press":
        return JobResult(job, "skipped", "no such press mailing")
    if mailing.status not in ("approved", "scheduled", "sending"):
        return JobResult(job, "skipped", f"mailing is {mailing.status}", mailing_id)
    now = ctx.clock.now()
    # The trigger fires at send_at, but a clock that jumped, a re-synced trigger or a
    # direct call must still never release early: check against the clock every time.
    if mailing.send_at is not None and now < mailing.send_at:
        if ctx.reschedule is not None:
            ctx.reschedule(mailing_id, mailing.send_at)
        return JobResult(
            job, "waiting", f"embargo until {_local(ctx, mailing.send_at)}", mailing_id
        )
    due = mailing.send_at or mailing.approved_at or now
    return _send_when_due(ctx, mailing, due)


def _send_when_due(ctx: JobContext, mailing: q.MailingState, due: datetime) -> JobResult:
    job = "send" if mailing.kind == "newsletter" else f"press:{mailing.id}"
    settings = ctx.settings
    now = ctx.clock.now()
    if mailing.status in ("sent", "cancelled"):
        return JobResult(job, "skipped", f"mailing {mailing.id} is {mailing.status}", mailing.id)
    if mailing.status == "paused":
        return JobResult(job, "skipped", f"mailing {mailing.id} is paused", mailing.id)
    if mailing.status != "sending" and guard.is_late(
        due, now, settings.schedule.max_send_delay_minutes
    ):
        report_missed(ctx, mailing, due)
        return JobResult(
            job, "held", f"mailing {mailing.id} was due {_local(ctx, due)}: held", mailing.id
        )
    if mailing.status == "draft":
        if mailing.kind == "newsletter" and settings.schedule.auto_approve:
            from pipeline.store.mailings import approve

            approve(ctx.store, mailing.id, clock=ctx.clock, by="auto-approve", settings=settings)
            log.info("auto-approved", extra={"mailing": mailing.id})
        else:
            _notify(
                ctx,
                f"unapproved:{mailing.id}",
                f"Nicht freigegeben: {mailing.subject}",
                (
                    f"Mailing {mailing.id} ({mailing.subject}) was due at {_local(ctx, due)} "
                    "but nobody has approved it. It goes out by itself if it is approved "
                    f"within {settings.schedule.max_send_delay_minutes} minutes of that time; "
                    f"after that an editor has to send it: rundbrief send {mailing.id}\n"
                    f"Preview: {preview_url(settings, mailing.id)}\n"
                ),
            )
            return JobResult(job, "waiting", f"mailing {mailing.id} is not approved", mailing.id)
    return send_now(ctx, mailing.id, job=job)


def report_missed(ctx: JobContext, mailing: q.MailingState, due: datetime) -> bool:
    """Tell the operator once that a mailing is too late to go out by itself."""
    delay = ctx.settings.schedule.max_send_delay_minutes
    return _notify(
        ctx,
        f"missed:{mailing.id}",
        f"Versand verpasst: {mailing.subject}",
        (
            f"Mailing {mailing.id} ({mailing.kind}, {mailing.status}) was due at "
            f"{_local(ctx, due)} and it is now {_local(ctx, ctx.clock.now())}: more than "
            f"{delay} minutes late (schedule.max_send_delay_minutes), so it was NOT sent "
            "automatically. It stays as it is for an editor.\n\n"
            f"Send it now:   rundbrief send {mailing.id}\n"
            f"Or cancel it:  rundbrief cancel {mailing.id}\n"
            f"Preview: {preview_url(ctx.settings, mailing.id)}\n"
        ),
    )


def send_now(ctx: JobContext, mailing_id: int, *, job: str = "send") -> JobResult:
    """Claim and send (or resume) one mailing; exactly one worker does it."""
    from pipeline.deliver.outbox import send_mailing

    with ctx.lock:
        if mailing_id in ctx.active:
            return JobResult(job, "skipped", f"mailing {mailing_id} is being sent", mailing_id)
        ctx.active.add(mailing_id)
    try:
        if not guard.claim(ctx.store, mailing_id, ctx.worker, clock=ctx.clock):
            state = q.mailing_state(ctx.store, mailing_id)
            holder = state.claimed_by if state else None
            return JobResult(
                job,
                "skipped",
                f"mailing {mailing_id} is {state.status if state else '?'}"
                + (f", held by {holder}" if holder else ""),
                mailing_id,
            )
        transport = ctx.transport_factory() if ctx.transport_factory else None
        try:
            with guard.holding(ctx.store, mailing_id, ctx.worker, clock=ctx.clock) as lost:
                report = send_mailing(
                    ctx.settings,
                    ctx.store,
                    mailing_id,
                    clock=ctx.clock,
                    transport=transport,
                    stop=lambda: ctx.stop.is_set() or lost.is_set(),
                    wait_for_retries=False,
                    worker=ctx.worker,
                )
        except RundbriefError as exc:
            check_mailing(ctx, mailing_id)
            return JobResult(job, "error", f"mailing {mailing_id}: {exc}", mailing_id)
        finally:
            if transport is not None:
                transport.close()
    finally:
        with ctx.lock:
            ctx.active.discard(mailing_id)
    detail = (
        f"mailing {mailing_id}: {report.sent} sent, {report.failed} failed, "
        f"{report.suppressed} suppressed, {report.retrying} waiting to retry ({report.status})"
    )
    check_mailing(ctx, mailing_id)
    if report.status == "sent":
        return JobResult(job, "ok", detail, mailing_id)
    if report.status == "paused":
        return JobResult(job, "error", detail + f": {report.paused_reason}", mailing_id)
    if ctx.stop.is_set():
        return JobResult(job, "stopped", detail + "; resumes on the next start", mailing_id)
    return JobResult(job, "ok", detail, mailing_id)


def check_mailing(ctx: JobContext, mailing_id: int) -> None:
    """Tell the operator once: a finished send, a pause, many failed deliveries."""
    state = q.mailing_state(ctx.store, mailing_id)
    if state is None:
        return
    counts = q.delivery_counts(ctx.store, mailing_id)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no deliveries"
    started = _local(ctx, state.sending_started_at) if state.sending_started_at else "?"
    if state.status == "sent":
        finished = _local(ctx, state.sent_at) if state.sent_at else "?"
        _notify(
            ctx,
            f"sent:{mailing_id}",
            f"Versendet: {state.subject}",
            (
                f"Mailing {mailing_id} ({state.kind}) was sent.\n"
                f"Started {started}, finished {finished}.\nDeliveries: {summary}\n"
            ),
        )
    if state.status == "paused":
        paused = q.paused_reason(ctx.store, mailing_id) or "?"
        _notify(
            ctx,
            f"paused:{mailing_id}:{state.claimed_at or state.sending_started_at}",
            f"Versand angehalten: {state.subject}",
            (
                f"Mailing {mailing_id} paused itself while sending: {paused}\n"
                f"Deliveries so far: {summary}\n\n"
                f"Fix the cause, then resume it with: rundbrief send {mailing_id}\n"
            ),
        )
    failed = counts.get("failed", 0)
    if failed >= ctx.settings.schedule.notify_failed_deliveries:
        _notify(
            ctx,
            f"failed-deliveries:{mailing_id}",
            f"{failed} Zustellungen fehlgeschlagen: {state.subject}",
            (
                f"Mailing {mailing_id} has {failed} failed deliveries "
                f"(threshold schedule.notify_failed_deliveries = "
                f"{ctx.settings.schedule.notify_failed_deliveries}).\nDeliveries: {summary}\n\n"
                f"Details: rundbrief mailing show {mailing_id}\n"
            ),
        )


# --- bounces ---------------------------------------------------------------------------


def bounces_job(ctx: JobContext) -> JobResult:
    def body() -> JobResult:
        from pipeline.bounces.process import BounceProcessor
        from pipeline.bounces.sources import parse_source, read_source

        source = ctx.settings.bounces.source
        if not source:
            return JobResult("bounces", "skipped", "no [bounces] source configured")
        processor = BounceProcessor(ctx.settings, ctx.store, clock=ctx.clock)
        read_source(parse_source(source), ctx.settings, processor.process_message)
        r = processor.report
        return JobResult(
            "bounces",
            "ok",
            f"{r.messages} read, {r.hard} hard, {r.soft} soft, {r.complaints} complaints, "
            f"{r.suppressed} suppressed",
        )

    return recorded(ctx, "bounces", body)


# --- sync ------------------------------------------------------------------------------


def sync_job(ctx: JobContext) -> JobResult:
    return recorded(ctx, "sync", lambda: catch_up(ctx))


def due_job(ctx: JobContext, mailing_id: int) -> JobResult:
    """Whatever one mailing needs now: resume it, release it, or send it when due."""
    state = q.mailing_state(ctx.store, mailing_id)
    if state is None:
        return JobResult("send", "skipped", f"no mailing {mailing_id}")
    if state.kind == "press":
        return release_press_job(ctx, mailing_id)
    if state.status == "sending":
        return recorded(ctx, "send", lambda: send_now(ctx, mailing_id))

    def body() -> JobResult:
        settings = ctx.settings
        tz = settings.organisation.tz
        due = previous_fire(settings.schedule.send_newsletter, ctx.clock.now(), tz)
        if due is None or state.period_key != newsletter_key(due, tz, settings.schedule.period):
            return JobResult("send", "skipped", f"mailing {mailing_id} is not due", mailing_id)
        return _send_when_due(ctx, state, due)

    return recorded(ctx, "send", body)


def _run_send(ctx: JobContext, mailing_id: int) -> None:
    if ctx.dispatch is not None:
        ctx.dispatch(mailing_id)
    else:
        due_job(ctx, mailing_id)


def catch_up(ctx: JobContext) -> JobResult:
    """What the cron triggers may have missed: run every minute and at start."""
    settings, store = ctx.settings, ctx.store
    tz = settings.organisation.tz
    now = ctx.clock.now()
    done: list[str] = []
    # 1. Sends left in ``sending`` whose holder let go or is gone.
    for state in q.mailings_in(store, ("sending",)):
        if state.id in ctx.active:
            continue
        holder = state.claimed_by
        if (
            holder is None
            or holder == ctx.worker
            or guard.holder_is_gone(holder)
            or (state.claimed_at is not None and now - state.claimed_at > guard.STALE_AFTER)
        ):
            done.append(f"resume {state.id}")
            _run_send(ctx, state.id)
    # 2. A compose the daemon missed (it was down at the compose time of this period).
    compose_at = previous_fire(settings.schedule.compose_newsletter, now, tz)
    if compose_at is not None and period_key(compose_at, tz, settings.schedule.period) == (
        period_key(now, tz, settings.schedule.period)
    ):
        key = newsletter_key(now, tz, settings.schedule.period)
        if q.mailing_for_period(store, key) is None and not q.job_ran_since(
            store, "compose", compose_at
        ):
            done.append("compose")
            compose_job(ctx)
    # 3. The newsletter: approved after its send time (within the delay) or held.
    due = previous_fire(settings.schedule.send_newsletter, now, tz)
    if due is not None:
        mailing = q.mailing_for_period(store, newsletter_key(due, tz, settings.schedule.period))
        waiting = mailing is not None and mailing.status in ("approved", "scheduled", "draft")
        if (
            mailing is not None
            and waiting
            and (
                mailing.status != "draft"
                or settings.schedule.auto_approve
                or guard.is_late(due, now, settings.schedule.max_send_delay_minutes)
            )
        ):
            done.append(f"newsletter {mailing.id}")
            _run_send(ctx, mailing.id)
    # 4. Press mailings whose embargo has passed (a missed trigger) or that have none.
    for state in q.mailings_in(store, ("approved", "scheduled"), kind="press"):
        if state.send_at is None or state.send_at <= now:
            done.append(f"press {state.id}")
            _run_send(ctx, state.id)
    # 5. Reports: paused mailings, failed deliveries; retry unsent notifications.
    for state in q.mailings_in(store, ("paused", "sending", "sent")):
        if state.sending_started_at is not None and (now - state.sending_started_at).days < 7:
            check_mailing(ctx, state.id)
    check_feeds(ctx)
    notify.flush(settings, store, clock=ctx.clock, transport_factory=ctx.transport_factory)
    return JobResult("sync", "ok", ", ".join(done) or "nothing due")
