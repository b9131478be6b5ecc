"""The daemon's jobs, callable directly with a clock (tests call them without a scheduler).

    collect      every N minutes: fetch the feeds; tell the operator about a failing feed
    compose      at its cron time: this period's draft, a test copy and a preview link to
                 the editors
    send         at its cron time: the period's newsletter if approved (or auto-approved)
    press:<id>   at its send time, to the second: one scheduled mailing (a press release
                 with a send time of its own, or a newsletter given one)
    bounces      every N minutes when [bounces] source is set
    sync         every minute: catch up what is due (missed compose, a newsletter approved
                 late, a mailing an editor sent now, a scheduled mailing whose time came
                 while the daemon was down, sends left in ``sending``), report
                 paused or failing mailings
    mail         every minute: send the queued system mail (confirmations, notifications,
                 test copies) that is due, with the deliveries' back-off

Each job records a ``job_runs`` row (started, finished, outcome: ok | skipped | held |
waiting | stopped | error) so ``rundbrief jobs`` and ``status`` can show what happened.
Every send goes through the one lease (``deliver.lease``: senders cooperate on a mailing)
and the outbox (one delivery per recipient, claimed by one sender at a time), so a job
firing twice, or in two daemons, sends each recipient one message.
"""

import logging

from pipeline.bounces import process_source
from pipeline.collect import collect
from pipeline.deliver import active_senders, drain_system_mail
from pipeline.errors import RundbriefError
from pipeline.mailings import lifecycle, newsletter_key, period_key
from pipeline.models import MailingKind, MailingStatus
from pipeline.schedule.context import (
    JobContext,
    JobResult,
    local_time,
    operator,
    preview_url,
    recorded,
    tell,
    workflow,
)
from pipeline.schedule.periods import next_fire, previous_fire
from pipeline.schedule.sending import (
    check_mailing,
    is_late,
    newsletter_due,
    press_due,
    report_missed,
    send_now,
    send_when_due,
)
from pipeline.store import outbox as outbox_db
from pipeline.store import schedule as q

__all__ = [
    "JobContext",
    "JobResult",
    "bounces_job",
    "catch_up",
    "check_feeds",
    "check_mailing",
    "collect_job",
    "compose_job",
    "due_job",
    "mail_job",
    "newsletter_due",
    "press_due",
    "release_press_job",
    "report_missed",
    "send_newsletter_job",
    "send_now",
    "sync_job",
]

log = logging.getLogger(__name__)
S = MailingStatus


# --- collect ---------------------------------------------------------------------------


def collect_job(ctx: JobContext) -> JobResult:
    def body() -> JobResult:
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
            f"Last success: {local_time(ctx, feed.last_success_at) if feed.last_success_at else 'never'}\n\n"
            "Check it with: rundbrief feeds\n"
        )
        if tell(
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
        mailing = workflow(ctx).compose_newsletter(by=operator(ctx))
        if mailing is None:
            return JobResult("compose", "skipped", "nothing new, or this period has a newsletter")
        tell_editors(ctx, mailing.id, mailing.subject)
        return JobResult("compose", "ok", f"draft {mailing.id}: {mailing.subject}", mailing.id)

    return recorded(ctx, "compose", body)


def tell_editors(ctx: JobContext, mailing_id: int, subject: str) -> None:
    """A test copy of the draft and a note with its preview link, to every editor."""
    settings = ctx.settings
    upcoming = next_fire(
        settings.schedule.send_newsletter, ctx.clock.now(), settings.organisation.tz
    )
    when = local_time(ctx, upcoming) if upcoming else "(no send time configured)"
    approval = (
        "Er geht ohne Freigabe raus (auto_approve = true)."
        if settings.schedule.auto_approve
        else "Er geht nur raus, wenn ihn jemand freigibt."
    )
    for editor in settings.sender.editors:
        try:
            result = workflow(ctx).send_test_copy(mailing_id, editor, by=operator(ctx))
            if not result.ok:
                log.warning("test copy refused", extra={"to": editor, "error": result.error})
        except RundbriefError as exc:
            log.warning("test copy not sent", extra={"to": editor, "error": str(exc)})
        tell(
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


def send_newsletter_job(ctx: JobContext) -> JobResult:
    return recorded(ctx, "send", lambda: newsletter_due(ctx, report_missing=True))


def release_press_job(ctx: JobContext, mailing_id: int) -> JobResult:
    return recorded(ctx, f"press:{mailing_id}", lambda: press_due(ctx, mailing_id))


# --- bounces ---------------------------------------------------------------------------


def bounces_job(ctx: JobContext) -> JobResult:
    def body() -> JobResult:
        if not ctx.settings.bounces.source:
            return JobResult("bounces", "skipped", "no [bounces] source configured")
        r = process_source(ctx.settings, ctx.store, clock=ctx.clock)
        return JobResult(
            "bounces",
            "ok",
            f"{r.messages} read, {r.hard} hard, {r.soft} soft, {r.complaints} complaints, "
            f"{r.suppressed} suppressed"
            + (f", {r.unmatched} not ours (rundbrief bounces unmatched)" if r.unmatched else ""),
        )

    return recorded(ctx, "bounces", body)


# --- system mail -----------------------------------------------------------------------


def mail_job(ctx: JobContext) -> JobResult:
    def body() -> JobResult:
        report = drain_system_mail(ctx.store, ctx.settings, ctx.transport_factory, ctx.clock)
        if not report.claimed:
            return JobResult("mail", "skipped", "no system mail due")
        detail = f"{report.sent} sent, {report.retrying} retrying, {report.failed} failed"
        return JobResult("mail", "ok" if report.sent or not report.errors else "error", detail)

    return recorded(ctx, "mail", body)


# --- sync ------------------------------------------------------------------------------


def sync_job(ctx: JobContext) -> JobResult:
    return recorded(ctx, "sync", lambda: catch_up(ctx))


def due_job(ctx: JobContext, mailing_id: int) -> JobResult:
    """Whatever one mailing needs now: resume it, release it, or send it when due."""
    state = q.mailing_state(ctx.store, mailing_id)
    if state is None:
        return JobResult("send", "skipped", f"no mailing {mailing_id}")
    if state.kind == MailingKind.PRESS or state.status == S.SCHEDULED:
        return release_press_job(ctx, mailing_id)
    if state.status == S.SENDING:
        return recorded(ctx, "send", lambda: send_now(ctx, mailing_id))

    def body() -> JobResult:
        settings = ctx.settings
        tz = settings.organisation.tz
        due = previous_fire(settings.schedule.send_newsletter, ctx.clock.now(), tz)
        if due is None or state.period_key != newsletter_key(due, tz, settings.schedule.period):
            return JobResult("send", "skipped", f"mailing {mailing_id} is not due", mailing_id)
        return send_when_due(ctx, state, due)

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
    # 0. Mailings paused by a fault whose retry time has come: back to ``sending``, so
    #    step 1 takes them up at once; the outbox sends a small probe batch first.
    for mailing_id in outbox_db.due_probes(store, now):
        if outbox_db.try_resume(store, mailing_id, now=now):
            log.info("probing a paused mailing", extra={"mailing": mailing_id})
            done.append(f"probe {mailing_id}")
    # 1. Sends left in ``sending`` that nobody works on (stopped, or every sender gone);
    #    one with a live sender is left to it (joining would be safe, but is not needed).
    for state in q.mailings_in(store, (S.SENDING,)):
        if state.id in ctx.active:
            continue
        others = active_senders(
            store, state.id, now=now, lease_seconds=settings.delivery.lease_seconds
        )
        if not [w for w in others if w != ctx.worker]:
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
        # A newsletter given its own send time (scheduled) goes out then, by step 4.
        waiting = mailing is not None and mailing.status in (S.APPROVED, S.DRAFT)
        if (
            mailing is not None
            and waiting
            and lifecycle.is_due(mailing.send_at, now)
            and (
                mailing.status != S.DRAFT
                or settings.schedule.auto_approve
                or is_late(due, now, settings.schedule.max_send_delay_minutes)
            )
        ):
            done.append(f"newsletter {mailing.id}")
            _run_send(ctx, mailing.id)
    # 4. Scheduled mailings whose time has come (a missed trigger, or "send now":
    #    ``Workflow.send_soon``), and approved press mailings whose send time has passed.
    #    An approved press mailing without a send time waits: approving is not sending.
    for state in q.mailings_in(store, (S.APPROVED, S.SCHEDULED)):
        if state.kind != MailingKind.PRESS and state.status != S.SCHEDULED:
            continue
        if state.status == S.APPROVED and state.send_at is None:
            continue
        if lifecycle.is_due(state.send_at, now):
            done.append(f"{state.kind} {state.id}")
            _run_send(ctx, state.id)
    # 5. Reports: paused mailings, failed deliveries; retry unsent notifications.
    for state in q.mailings_in(store, (S.PAUSED, S.SENDING, S.SENT)):
        if state.sending_started_at is not None and (now - state.sending_started_at).days < 7:
            check_mailing(ctx, state.id)
    check_feeds(ctx)
    return JobResult("sync", "ok", ", ".join(done) or "nothing due")
