"""Sending from the daemon: when a mailing is due, whether it is too late, the send
itself, and what the operator hears about it afterwards.

The send goes through the one lease every sender uses (``deliver.lease``): the daemon
starts a due mailing or joins the senders already on it, and a ``rundbrief send`` or
``rundbrief worker`` joining it later changes nothing for the daemon's send. A mailing is
sent at most once because each delivery is (the outbox) and because a newsletter exists
once per period (``mailings.period_key`` is unique).

Lateness: a send more than ``schedule.max_send_delay_minutes`` after it was due is never
started by the daemon; it stays for an editor (``rundbrief send ID``) and the operator
is told.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pipeline.errors import ApprovalRefused, PermissionDenied, RundbriefError
from pipeline.mailings import lifecycle, newsletter_key
from pipeline.models import MailingKind, MailingStatus
from pipeline.schedule.context import (
    JobContext,
    JobResult,
    local_time,
    operator,
    preview_url,
    tell,
    workflow,
)
from pipeline.schedule.periods import previous_fire
from pipeline.store import outbox as outbox_db
from pipeline.store import schedule as q

log = logging.getLogger(__name__)
S = MailingStatus


def is_late(due: datetime, now: datetime, max_delay_minutes: int) -> bool:
    """A send due at ``due`` is late when ``now`` is past it by more than the delay."""
    return now - due > timedelta(minutes=max_delay_minutes)


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
            tell(
                ctx,
                f"no-newsletter:{key}",
                f"Kein Newsletter für {key.partition(':')[2]}",
                (
                    f"At the send time ({local_time(ctx, due)}) there was no newsletter for "
                    f"{key.partition(':')[2]}: nothing new was collected, or compose did "
                    "not run. See: rundbrief status\n"
                ),
            )
        return JobResult("send", "skipped", f"no newsletter for {key}")
    return send_when_due(ctx, mailing, due)


def press_due(ctx: JobContext, mailing_id: int) -> JobResult:
    """Release one press mailing, or any scheduled mailing: never a second before its
    send time."""
    job = f"press:{mailing_id}"
    mailing = q.mailing_state(ctx.store, mailing_id)
    if mailing is None or (mailing.kind != MailingKind.PRESS and mailing.status != S.SCHEDULED):
        if mailing is not None and mailing.kind == MailingKind.NEWSLETTER:
            return JobResult(job, "skipped", f"mailing is {mailing.status}", mailing_id)
        return JobResult(job, "skipped", "no such press mailing")
    if mailing.status not in (S.APPROVED, S.SCHEDULED, S.SENDING):
        return JobResult(job, "skipped", f"mailing is {mailing.status}", mailing_id)
    if mailing.status == S.APPROVED and mailing.send_at is None:
        return JobResult(
            job, "waiting", f"mailing {mailing_id} is approved without a send time", mailing_id
        )
    now = ctx.clock.now()
    # The trigger fires at send_at, but a clock that jumped, a re-synced trigger or a
    # direct call must still never release early: check against the clock every time.
    if not lifecycle.is_due(mailing.send_at, now):
        assert mailing.send_at is not None
        if ctx.reschedule is not None:
            ctx.reschedule(mailing_id, mailing.send_at)
        return JobResult(
            job, "waiting", f"send time {local_time(ctx, mailing.send_at)}", mailing_id
        )
    due = mailing.send_at or mailing.approved_at or now
    return send_when_due(ctx, mailing, due)


def send_when_due(ctx: JobContext, mailing: q.ScheduleView, due: datetime) -> JobResult:
    job = "send" if mailing.kind == MailingKind.NEWSLETTER else f"press:{mailing.id}"
    settings = ctx.settings
    now = ctx.clock.now()
    if mailing.status in (S.SENT, S.CANCELLED):
        return JobResult(job, "skipped", f"mailing {mailing.id} is {mailing.status}", mailing.id)
    if mailing.status == S.PAUSED:
        return JobResult(job, "skipped", f"mailing {mailing.id} is paused", mailing.id)
    if mailing.status == S.SCHEDULED and not lifecycle.is_due(mailing.send_at, now):
        assert mailing.send_at is not None
        return JobResult(
            job,
            "waiting",
            f"mailing {mailing.id} is scheduled for {local_time(ctx, mailing.send_at)}",
            mailing.id,
        )
    if mailing.status != S.SENDING and is_late(due, now, settings.schedule.max_send_delay_minutes):
        report_missed(ctx, mailing, due)
        return JobResult(
            job, "held", f"mailing {mailing.id} was due {local_time(ctx, due)}: held", mailing.id
        )
    if mailing.status == S.DRAFT:
        refusal: str | None = None
        auto = mailing.kind == MailingKind.NEWSLETTER and settings.schedule.auto_approve
        if auto:
            try:
                approved = workflow(ctx).approve(mailing.id, by=operator(ctx))
            except (ApprovalRefused, PermissionDenied) as exc:
                # The operator account is under the same rules (four eyes on a newsletter
                # the daemon composed itself): it waits for a person, like without
                # auto_approve, and the notice says why.
                refusal = str(exc)
            else:
                log.info("auto-approved", extra={"mailing": mailing.id})
                if approved.status == S.SCHEDULED:
                    return JobResult(
                        job, "waiting", f"mailing {mailing.id} is scheduled", mailing.id
                    )
        if refusal is not None or not auto:
            why = f"It was not approved automatically: {refusal}\n" if refusal else ""
            tell(
                ctx,
                f"unapproved:{mailing.id}",
                f"Nicht freigegeben: {mailing.subject}",
                (
                    f"Mailing {mailing.id} ({mailing.subject}) was due at {local_time(ctx, due)} "
                    "but nobody has approved it. It goes out by itself if it is approved "
                    f"within {settings.schedule.max_send_delay_minutes} minutes of that time; "
                    f"after that an editor has to send it: rundbrief send {mailing.id}\n"
                    f"{why}"
                    f"Preview: {preview_url(settings, mailing.id)}\n"
                ),
            )
            return JobResult(job, "waiting", f"mailing {mailing.id} is not approved", mailing.id)
    return send_now(ctx, mailing.id, job=job)


def report_missed(ctx: JobContext, mailing: q.ScheduleView, due: datetime) -> bool:
    """Tell the operator once that a mailing is too late to go out by itself."""
    delay = ctx.settings.schedule.max_send_delay_minutes
    return tell(
        ctx,
        f"missed:{mailing.id}",
        f"Versand verpasst: {mailing.subject}",
        (
            f"Mailing {mailing.id} ({mailing.kind}, {mailing.status}) was due at "
            f"{local_time(ctx, due)} and it is now {local_time(ctx, ctx.clock.now())}: more than "
            f"{delay} minutes late (schedule.max_send_delay_minutes), so it was NOT sent "
            "automatically. It stays as it is for an editor.\n\n"
            f"Send it now:   rundbrief send {mailing.id}\n"
            f"Or cancel it:  rundbrief cancel {mailing.id}\n"
            f"Preview: {preview_url(ctx.settings, mailing.id)}\n"
        ),
    )


def send_now(ctx: JobContext, mailing_id: int, *, job: str = "send") -> JobResult:
    """Start or join the send of one mailing (never a paused one: that waits for its
    probe or for a person); other senders on it go on as they were."""
    with ctx.lock:
        if mailing_id in ctx.active:
            return JobResult(job, "skipped", f"mailing {mailing_id} is being sent", mailing_id)
        ctx.active.add(mailing_id)
    try:
        state = q.mailing_state(ctx.store, mailing_id)
        if state is None or state.status not in (S.APPROVED, S.SCHEDULED, S.SENDING):
            status = state.status if state else "?"
            return JobResult(job, "skipped", f"mailing {mailing_id} is {status}", mailing_id)
        transport = ctx.transport_factory() if ctx.transport_factory else None
        try:
            # through the workflow: the operator's role is asked and the send is logged
            report = workflow(ctx).send_now(
                mailing_id,
                transport=transport,
                stop=ctx.stop.is_set,
                resume_paused=False,
                wait_for_retries=False,
                worker=ctx.worker,
                by=operator(ctx),
            )
        except RundbriefError as exc:
            check_mailing(ctx, mailing_id)
            # Once per distinct error: a send retried every minute must not mail every minute.
            tell(
                ctx,
                f"send-error:{mailing_id}:{str(exc)[:200]}",
                f"Versand fehlgeschlagen: Mailing {mailing_id}",
                (
                    f"Sending mailing {mailing_id} failed: {exc}\n\n"
                    "The daemon tries again every minute while it is left in 'sending'. "
                    f"Details: rundbrief mailing show {mailing_id} · rundbrief status\n"
                ),
            )
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
    if report.status == S.SENT:
        return JobResult(job, "ok", detail, mailing_id)
    if report.status == S.PAUSED:
        return JobResult(job, "error", detail + f": {report.paused_reason}", mailing_id)
    if ctx.stop.is_set():
        return JobResult(job, "stopped", detail + "; resumes on the next start", mailing_id)
    return JobResult(job, "ok", detail, mailing_id)


def _report_pause(ctx: JobContext, state: q.ScheduleView, summary: str) -> None:
    """Once per pause: why, and when the daemon tries again by itself (if it does).

    A probe that fails again pauses again with a longer wait; that is shown by
    ``rundbrief status`` but not mailed again, or a long outage would mail every hour.
    """
    paused = outbox_db.mailing_state(ctx.store, state.id)
    if paused is None or paused.resume_tries > 1:
        return
    if paused.resume_at is not None:
        next_step = (
            f"The daemon tries again by itself at {local_time(ctx, paused.resume_at)} with "
            f"{ctx.settings.delivery.probe_size} deliveries, and goes on if they go through "
            "(the wait doubles, up to an hour, while the cause lasts). To resume now once "
            f"the cause is fixed: rundbrief send {state.id}\n"
        )
    else:
        next_step = f"Fix the cause, then resume it with: rundbrief send {state.id}\n"
    tell(
        ctx,
        f"paused:{state.id}:{paused.paused_at or state.sending_started_at}",
        f"Versand angehalten: {state.subject}",
        (
            f"Mailing {state.id} paused itself while sending: {paused.paused_reason or '?'}\n"
            f"Deliveries so far: {summary}\n\n{next_step}"
        ),
    )


def check_mailing(ctx: JobContext, mailing_id: int) -> None:
    """Tell the operator once: a finished send, a pause, many failed deliveries."""
    state = q.mailing_state(ctx.store, mailing_id)
    if state is None:
        return
    counts = q.delivery_counts(ctx.store, mailing_id)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no deliveries"
    started = local_time(ctx, state.sending_started_at) if state.sending_started_at else "?"
    if state.status == S.SENT:
        finished = local_time(ctx, state.sent_at) if state.sent_at else "?"
        tell(
            ctx,
            f"sent:{mailing_id}",
            f"Versendet: {state.subject}",
            (
                f"Mailing {mailing_id} ({state.kind}) was sent.\n"
                f"Started {started}, finished {finished}.\nDeliveries: {summary}\n"
            ),
        )
    if state.status == S.PAUSED:
        _report_pause(ctx, state, summary)
    failed = counts.get("failed", 0)
    if failed >= ctx.settings.schedule.notify_failed_deliveries:
        tell(
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
