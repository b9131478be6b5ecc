"""Send a mailing through the outbox: record, claim, send, mark; resumable at any point.

    send_mailing
      ├─ check the mailing (a sent one is never sent again; drafts and embargoes wait)
      ├─ approved/scheduled → sending (one conditional UPDATE: one process wins)
      ├─ record one delivery per eligible recipient (keyset batches, unique per address)
      └─ loop: claim a batch (re-checking suppression) → build → rate limit → send a
         chunk → mark it (sent / retry at T / failed) → ... → sending → sent

What a failure is about decides what happens (``Blame``, ``retry.decide``): a refused
recipient fails or retries that delivery; trouble at the peer (5xx, 429, timeouts,
refused connections) retries it later and never pauses; a refused sender or account puts
the deliveries back and pauses the mailing at once. A pause by a fault sets
``resume_at``: the daemon probes with a few deliveries then, and the wait doubles while
the cause lasts. An answer that never came is "unknown": before sending again the
transport is asked (``Confirming``) or, where it cannot tell, the resend waits and is
counted as a possible duplicate.

The order is what makes a crash harmless: a delivery row exists before its message is
built, and a chunk is marked in one transaction right after the transport accepted it,
before the next chunk is sent. A crash therefore loses nothing (rows stay ``queued`` or
``sending``; ``sending`` rows of a dead worker are claimed again, at once when the worker
was on this machine, else after ``delivery.lease_seconds``) and at most the chunk in
flight can arrive twice (with the same Message-ID, so clients may fold the copies).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from itertools import islice
from typing import Any

import pipeline.store.outbox as db
from pipeline.audience import AddressError
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import Blame, Confirming, OutgoingMessage, SendResult, Transport
from pipeline.deliver.attachments import attachments_for
from pipeline.deliver.lease import Lease, start_sending, worker_id
from pipeline.deliver.message import MessageBuilder
from pipeline.deliver.ratelimit import RateLimiter
from pipeline.deliver.readiness import require_ready
from pipeline.deliver.retry import Outcome, RetryPolicy, decide
from pipeline.errors import AudienceError, DeliveryError, PermanentDeliveryError
from pipeline.models import MailingStatus, Recipient
from pipeline.render import RenderedMailing, language_for
from pipeline.segments import parse_optional
from pipeline.store import Store, followups, press_files
from pipeline.store.renders import load_renders

log = logging.getLogger(__name__)

StopCheck = Callable[[], bool]


@dataclass
class SendReport:
    mailing_id: int
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    skipped: int = 0  # settled by an earlier run before this one started
    retrying: int = 0  # waiting for their next attempt when this run ended
    possible_duplicates: int = 0  # sent again after an attempt nobody could confirm
    confirmed: int = 0  # unanswered attempts the provider confirmed (not sent again)
    built: int = 0  # dry run: messages built and not sent
    seconds: float = 0.0
    status: str = ""
    paused_reason: str | None = None
    dry_run: bool = False
    stopped: bool = False
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        done = self.built if self.dry_run else self.sent
        return done / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "mailing": self.mailing_id,
            "sent": self.sent,
            "failed": self.failed,
            "suppressed": self.suppressed,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "retrying": self.retrying,
            "possible_duplicates": self.possible_duplicates,
            "confirmed": self.confirmed,
            "built": self.built,
            "status": self.status,
            "paused_reason": self.paused_reason,
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True)
class Progress:
    """What a progress bar needs; ``total`` is None while it is not known (dry run)."""

    mailing_id: int
    total: int | None
    done: int
    sent: int
    failed: int
    suppressed: int


ProgressCallback = Callable[[Progress], None]


class _Sender:
    """One run over one mailing: the state shared by the steps of ``send_mailing``."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        state: db.SendingState,
        *,
        clock: Clock,
        transport: Transport | None,
        stop: StopCheck,
        progress: ProgressCallback | None,
        worker: str,
        lease: Lease | None = None,
    ) -> None:
        self.settings = settings
        self.lease = lease
        self.store = store
        self.state = state
        self.clock = clock
        self.transport = transport
        self.stop = stop
        self.progress = progress
        self.worker = worker
        self.secret = settings.secret(settings.web.secret_env, key="web.secret_env")
        self.languages = state.languages or (settings.organisation.language,)
        self.rendered = _load_renders(settings, store, state, clock)
        self.lists = state.lists
        # the segment narrows who gets a delivery row; once queued, the rows are the truth
        self.segment = parse_optional(state.segment_where)
        self._builders: dict[tuple[str, str], MessageBuilder] = {}
        # A press release's kit: each link personal per recipient, small files attached.
        self.kit = press_files.list_files(store, state.id)
        self.kit_names = tuple(f.name for f in sorted(self.kit, key=lambda f: f.name))
        self.attachments = attachments_for(settings, self.kit, self.rendered.values(), transport)
        self.report = SendReport(state.id)
        self.total: int | None = None
        self.done = 0
        # Sends (one transport call each) in a row whose every recipient was refused
        # permanently, across batches, and their deliveries: if the count reaches
        # ``pause_after_failures`` the sending is broken, not the addresses, so those
        # deliveries go back to the queue and their hard-bounce suppressions are dropped.
        self.refused_in_a_row = 0
        self.refused_ids: list[int] = []
        self.held_suppressions: list[tuple[str, str | None]] = []
        self.last_error = ""
        # The sender or the account was refused: the reason the mailing pauses with.
        self.sender_refused: str | None = None
        # Resuming after an automatic pause: claim a small batch first, as a probe.
        self.probing = state.resume_tries > 0
        self.resume_tries = state.resume_tries  # failed probes so far (the next wait)
        # The last chunk of a batch, still on the wire while the next batch is claimed.
        self.carried: _Chunk | None = None

    def builder(self, recipient: Recipient) -> MessageBuilder:
        language = language_for(self.languages, recipient.language)
        key = (language, recipient.list_name)
        found = self._builders.get(key)
        if found is None:
            found = MessageBuilder(
                self.settings,
                self.rendered[language],
                list_name=recipient.list_name,
                secret=self.secret,
                clock=self.clock,
                wants_parts=bool(getattr(self.transport, "wants_parts", False)),
                kit_names=self.kit_names,
                attachments=self.attachments,
            )
            self._builders[key] = found
        return found

    def tick(self) -> None:
        if self.progress is not None:
            r = self.report
            self.progress(
                Progress(self.state.id, self.total, self.done, r.sent, r.failed, r.suppressed)
            )


def _load_renders(
    settings: Settings, store: Store, state: db.SendingState, clock: Clock
) -> dict[str, RenderedMailing]:
    # Approval (in the workflow layer) stores the render; the send only ever reads it.
    languages = state.languages or (settings.organisation.language,)
    found = load_renders(store, state.id, languages)
    missing = [lang for lang, r in found.items() if r is None]
    if missing:
        raise DeliveryError(f"mailing {state.id} has no rendered version in {', '.join(missing)}")
    return {lang: r for lang, r in found.items() if r is not None}


def _check_sendable(
    state: db.SendingState | None, mailing_id: int, clock: Clock, tz: tzinfo
) -> db.SendingState:
    if state is None:
        raise DeliveryError(f"unknown mailing {mailing_id}")
    if state.status == MailingStatus.SENT:
        when = _local(state.sent_at, tz) if state.sent_at else "earlier"
        raise DeliveryError(
            f"mailing {mailing_id} was already sent ({when}); a sent mailing is never sent again"
        )
    if state.status == MailingStatus.DRAFT:
        raise DeliveryError(f"mailing {mailing_id} is a draft; approve it before sending")
    if state.status == MailingStatus.CANCELLED:
        raise DeliveryError(f"mailing {mailing_id} was cancelled")
    if state.send_at is not None and state.send_at > clock.now():
        # The send time, not the Sperrfrist: a release under embargo goes out before it.
        zone = getattr(tz, "key", str(tz))
        raise DeliveryError(
            f"mailing {mailing_id} waits for its send time {_local(state.send_at, tz)} ({zone})"
        )
    if not state.lists:
        raise DeliveryError(f"mailing {mailing_id} has no lists to send to")
    return state


def _local(when: datetime, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def send_mailing(
    settings: Settings,
    store: Store,
    mailing_id: int,
    *,
    clock: Clock,
    transport: Transport | None = None,
    dry_run: bool = False,
    stop: StopCheck | None = None,
    progress: ProgressCallback | None = None,
    start: bool = True,
    resume_paused: bool = True,
    wait_for_retries: bool = True,
    worker: str | None = None,
) -> SendReport:
    """Deliver a mailing to every eligible recipient once; resume where a run stopped.

    Starts the mailing (approved/scheduled → sending) or joins the senders already on it
    (``deliver.lease``): any number may work on one mailing at once. ``start=False`` (the
    ``worker`` command) only helps with mailings already sending; ``resume_paused=False``
    (the daemon) leaves a paused mailing alone. ``wait_for_retries=False`` returns when
    only future retries are left (the mailing stays ``sending``; a later run or a worker
    finishes it). A transport that reaches people needs a production-ready configuration
    (``deliver.readiness``): else ``NotReadyError``, before anything changes.
    """
    if not dry_run:
        # The one gate of every real send (send, web, daemon, worker): no byte reaches a
        # person while the mail would carry unusable links or lack the imprint.
        require_ready(settings)
    started = time.monotonic()
    stop = stop or (lambda: False)
    state = _check_sendable(
        db.mailing_state(store, mailing_id), mailing_id, clock, settings.organisation.tz
    )
    if not start and state.status != MailingStatus.SENDING:
        raise DeliveryError(f"mailing {mailing_id} is {state.status}, not sending")
    me = worker or worker_id()
    if dry_run:
        sender = _Sender(
            settings,
            store,
            state,
            clock=clock,
            transport=transport,
            stop=stop,
            progress=progress,
            worker=me,
        )
        _dry_run(sender)
        sender.report.seconds = time.monotonic() - started
        return sender.report
    own = transport is None
    if transport is None:
        from pipeline.deliver.factory import transport_from_settings

        transport = transport_from_settings(settings)
    try:
        lease = Lease(
            store, mailing_id, me, clock=clock, lease_seconds=settings.delivery.lease_seconds
        )
        sender = _Sender(
            settings,
            store,
            state,
            clock=clock,
            transport=transport,
            stop=stop,
            progress=progress,
            worker=me,
            lease=lease,
        )
        if start and start_sending(store, mailing_id, now=clock.now(), resume_paused=resume_paused):
            log.info("sending mailing", extra={"mailing": mailing_id, "worker": me})
        else:
            current = db.mailing_state(store, mailing_id)
            if current is None or current.status != MailingStatus.SENDING:
                _check_sendable(current, mailing_id, clock, settings.organisation.tz)
                raise DeliveryError(f"mailing {mailing_id} is {current and current.status}")
            log.info("joining mailing", extra={"mailing": mailing_id, "worker": me})
        with lease:
            if db.mailing_state(store, mailing_id).queued_at is None:  # type: ignore[union-attr]
                _record_recipients(sender)
            _run(sender, transport, wait_for_retries=wait_for_retries)
    finally:
        if own:
            transport.close()
    report = sender.report
    report.seconds = time.monotonic() - started
    final = db.mailing_state(store, mailing_id)
    report.status = final.status if final else ""
    report.paused_reason = final.paused_reason if final else None
    report.retrying = db.counts(store, mailing_id)["retry"]
    return report


def _record_recipients(sender: _Sender) -> None:
    """One delivery row per eligible recipient, in batches; idempotent.

    A follow-up goes to exactly the addresses the original was delivered to, whatever
    the lists say now: nobody new. Each row keeps the Message-ID of that person's copy
    of the original (the threading headers). Who unsubscribed from the lists or was
    suppressed since is held back at the claim, like in any send (``db.claim``)."""
    from pipeline.audience import iter_recipients

    original = sender.state.follows_id
    rows: Iterator[dict[str, Any]]
    if original is None:
        size = max(sender.settings.delivery.batch_size, 500)
        members = iter_recipients(
            sender.store, sender.lists, batch_size=size, segment=sender.segment
        )
        rows = (_row(sender, recipient) for recipient in members)
    else:
        rows = (
            {
                "subscriber_id": c.subscriber_id,
                "email": c.email,
                "list_name": c.list_name,
                "language": language_for(sender.languages, c.language),
                "in_reply_to": c.message_id,
            }
            for c in _original_copies(sender.store, original)
        )
    added = 0
    while batch := list(islice(rows, 1000)):
        added += db.enqueue(sender.store, sender.state.id, batch, now=sender.clock.now())
    db.set_queued(sender.store, sender.state.id, now=sender.clock.now())
    log.info(
        "recipients recorded",
        extra={"mailing": sender.state.id, "original": original, "new": added},
    )


def _original_copies(store: Store, original_id: int) -> Iterator[followups.DeliveredCopy]:
    """The delivered copies of a follow-up's original, in keyset pages."""
    after = 0
    while copies := followups.delivered_page(store, original_id, after=after, limit=1000):
        yield from copies
        after = copies[-1].delivery_id


def _row(sender: _Sender, recipient: Recipient) -> dict[str, Any]:
    language = language_for(sender.languages, recipient.language)
    return {
        "subscriber_id": recipient.subscriber_id,
        "email": recipient.email,
        "list_name": recipient.list_name,
        "language": language,
    }


def _dry_run(sender: _Sender) -> None:
    for recipient in _dry_run_recipients(sender):
        if sender.stop():
            sender.report.stopped = True
            break
        try:
            sender.builder(recipient).build(recipient, delivery_id=None)
            sender.report.built += 1
        except PermanentDeliveryError as exc:
            sender.report.failed += 1
            sender.report.errors[str(exc)] = sender.report.errors.get(str(exc), 0) + 1
        sender.done += 1
        if sender.done % 500 == 0:
            sender.tick()
    sender.report.dry_run = True
    sender.report.status = "dry-run"
    sender.tick()


def _dry_run_recipients(sender: _Sender) -> Iterator[Recipient]:
    """Who a send would record now: the list members, or a follow-up's original copies."""
    from pipeline.audience import iter_recipients

    original = sender.state.follows_id
    if original is None:
        yield from iter_recipients(
            sender.store, sender.lists, batch_size=1000, segment=sender.segment
        )
        return
    for c in _original_copies(sender.store, original):
        yield Recipient(c.subscriber_id or 0, c.email, c.list_name, language=c.language)


def _run(sender: _Sender, transport: Transport, *, wait_for_retries: bool) -> None:
    settings, store, clock = sender.settings, sender.store, sender.clock
    delivery = settings.delivery
    mailing_id = sender.state.id
    counts = db.counts(store, mailing_id)
    sender.total = sum(counts.values())
    sender.report.skipped = counts["sent"] + counts["failed"] + counts["suppressed"]
    sender.done = sender.report.skipped
    limiter = RateLimiter(
        store,
        f"transport:{transport.name}",
        per_second=delivery.per_second,
        per_hour=delivery.per_hour,
        clock=clock,
        stop=sender.stop,
    )
    policy = RetryPolicy.from_settings(delivery)
    chunk_size = max(1, min(delivery.batch_size, int(getattr(transport, "batch_hint", 50))))
    lease = timedelta(seconds=delivery.lease_seconds)
    sender.tick()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="send") as pool:
        try:
            _loop(sender, transport, limiter, policy, chunk_size, lease, pool, wait_for_retries)
        finally:
            _settle(sender, limiter, policy)
            _apply_held_suppressions(sender)


def _apply_held_suppressions(sender: _Sender) -> None:
    """The run ended without proving the sending broken: held hard bounces are real."""
    state = db.mailing_state(sender.store, sender.state.id)
    if state is not None and state.status != MailingStatus.PAUSED:
        for email, error in sender.held_suppressions:
            _suppress(sender, email, error)
    sender.held_suppressions.clear()


def _loop(
    sender: _Sender,
    transport: Transport,
    limiter: RateLimiter,
    policy: RetryPolicy,
    chunk_size: int,
    lease: timedelta,
    pool: ThreadPoolExecutor,
    wait_for_retries: bool,
) -> None:
    store, clock, delivery = sender.store, sender.clock, sender.settings.delivery
    mailing_id = sender.state.id
    while not sender.stop():
        now = clock.now()
        state = db.mailing_state(store, mailing_id)
        if state is None or state.status != MailingStatus.SENDING:
            return  # paused or finished by someone else
        assert sender.lease is not None
        look = sender.lease.look(db.sending_workers(store, mailing_id))
        claimed, blocked = db.claim(
            store,
            mailing_id,
            sender.lists,
            worker=sender.worker,
            now=now,
            limit=min(delivery.probe_size, delivery.batch_size)
            if sender.probing
            else delivery.batch_size,
            lease_before=now - lease,
            dead_workers=look.dead,
            live_workers=look.live,
        )
        sender.report.suppressed += blocked
        sender.done += blocked
        if not claimed:
            if not _settle(sender, limiter, policy):
                return
            if db.finish_if_done(store, mailing_id, now=now):
                log.info("mailing sent", extra={"mailing": mailing_id})
                return
            if not _wait_for_work(sender, wait_for_retries=wait_for_retries):
                return
            continue
        if not _send_batch(sender, transport, limiter, policy, claimed, chunk_size, pool):
            return
    sender.report.stopped = True


def _wait_for_work(sender: _Sender, *, wait_for_retries: bool) -> bool:
    """Sleep until a retry is due (or another worker's lease may lapse); False: give up."""
    store, clock = sender.store, sender.clock
    nxt = db.next_retry_at(store, sender.state.id)
    if nxt is None:
        # Rows held by another worker (or recording still under way): look again soon,
        # and no later than when the oldest claim's lease runs out.
        pause = 1.0
        claimed = db.oldest_claim(store, sender.state.id)
        if claimed is not None:
            lease_end = claimed + timedelta(seconds=sender.settings.delivery.lease_seconds)
            pause = min(5.0, max(1.0, (lease_end - clock.now()).total_seconds()))
    else:
        if not wait_for_retries:
            return False
        pause = max(0.05, (nxt - clock.now()).total_seconds())
    while pause > 0:
        if sender.stop():
            sender.report.stopped = True
            return False
        step = min(pause, 1.0)
        clock.sleep(step)
        pause -= step
    return True


@dataclass
class _Chunk:
    items: Sequence[db.Claimed]
    messages: list[OutgoingMessage]
    # settled without the transport: messages that could not be built, unanswered
    # attempts the provider confirmed it has
    results: dict[int, SendResult]
    # deliveries sent again after an unanswered attempt nobody could confirm
    duplicates: set[int] = field(default_factory=set)
    sending: Future[list[SendResult]] | None = None


def _send_batch(
    sender: _Sender,
    transport: Transport,
    limiter: RateLimiter,
    policy: RetryPolicy,
    claimed: Sequence[db.Claimed],
    chunk_size: int,
    pool: ThreadPoolExecutor,
) -> bool:
    """Send a claimed batch chunk by chunk; False when the run must end (stop, pause).

    The next chunk is built while the previous one is on the wire, but it is handed to
    the transport only after the previous one is marked: at most one chunk is ever in
    flight, so a crash can duplicate at most that chunk. The batch's last chunk is left
    on the wire (``sender.carried``) while the next batch is claimed and its first chunk
    built, so the connections do not wait for the claim.
    """
    store = sender.store
    previous, sender.carried = sender.carried, None
    previous_ids = [c.id for c in previous.items] if previous is not None else []
    for start in range(0, len(claimed) + chunk_size, chunk_size):
        chunk = claimed[start : start + chunk_size]
        if not chunk:
            sender.carried = previous
            return True
        stopping = sender.stop()
        built = _build(sender, chunk) if not stopping else None
        if previous is not None:
            try:
                _finish(sender, limiter, policy, previous)
            except DeliveryError as exc:
                # The transport itself is dead (login refused, disk full): stop, say why.
                db.release(store, previous_ids + [c.id for c in claimed[start:]])
                _pause(sender, str(exc))
                raise
            if _pause_if_failing(sender):
                db.release(store, [c.id for c in claimed[start:]])
                return False
        # Acquired after the previous chunk's results: a back-off it asked for applies.
        if built is not None and not limiter.acquire(len(chunk)):
            stopping, built = True, None
        if stopping:
            db.release(store, [c.id for c in claimed[start:]])
            sender.report.stopped = True
            return False
        if built is None:
            return True
        if built.messages:
            built.sending = pool.submit(transport.send, built.messages)
        previous, previous_ids = built, [c.id for c in chunk]
    return True


def _settle(sender: _Sender, limiter: RateLimiter, policy: RetryPolicy) -> bool:
    """Wait for and mark the chunk left on the wire by the last batch; False: paused."""
    carried, sender.carried = sender.carried, None
    if carried is None:
        return True
    try:
        _finish(sender, limiter, policy, carried)
    except DeliveryError as exc:
        db.release(sender.store, [c.id for c in carried.items])
        _pause(sender, str(exc))
        raise
    return not _pause_if_failing(sender)


def _pause_if_failing(sender: _Sender) -> bool:
    """Pause when the sending itself is broken (True: paused).

    Either the sender or the account was refused (at once), or every recipient of
    ``pause_after_failures`` sends in a row was refused permanently. Failures of single
    recipients and trouble at the peer never pause.
    """
    if sender.sender_refused is not None:
        _pause(sender, f"the sender or the account was refused: {sender.sender_refused}")
        return True
    if sender.refused_in_a_row < sender.settings.delivery.pause_after_failures:
        return False
    back = db.requeue(sender.store, sender.refused_ids)
    sender.report.failed -= back
    sender.done -= back
    sender.held_suppressions.clear()
    reason = (
        f"every recipient of {sender.refused_in_a_row} sends in a row was refused "
        f"(last: {sender.last_error}); {back} deliveries put back"
    )
    _pause(sender, reason)
    return True


def _pause(sender: _Sender, reason: str) -> None:
    """Pause by a fault: the daemon probes again after a wait that doubles per failed try."""
    delivery = sender.settings.delivery
    now = sender.clock.now()
    resume_at = None
    if delivery.resume_after_seconds > 0:
        tries = sender.resume_tries
        wait = min(delivery.resume_after_seconds * 2 ** min(tries, 16), MAX_RESUME_WAIT)
        resume_at = now + timedelta(seconds=wait)
    db.pause(sender.store, sender.state.id, reason=reason, now=now, resume_at=resume_at)
    log.warning(
        "mailing paused",
        extra={"mailing": sender.state.id, "reason": reason, "resume_at": resume_at},
    )


# However long a cause lasts, a paused mailing is probed at least this often.
MAX_RESUME_WAIT = 3600.0


def _build(sender: _Sender, chunk: Sequence[db.Claimed]) -> _Chunk:
    messages: list[OutgoingMessage] = []
    results: dict[int, SendResult] = {}
    for item in chunk:
        try:
            messages.append(
                sender.builder(item.recipient).build(
                    item.recipient, delivery_id=item.id, in_reply_to=item.in_reply_to
                )
            )
        except PermanentDeliveryError as exc:
            results[item.id] = SendResult(
                item.id, item.recipient.email, False, error=str(exc), permanent=True
            )
    built = _Chunk(chunk, messages, results)
    if any(item.unknown_at is not None for item in chunk):
        _confirm_unanswered(sender, built)
    return built


def _confirm_unanswered(sender: _Sender, built: _Chunk) -> None:
    """Before sending again what may have arrived: ask the provider where it can tell.

    Claimed only after ``unknown_wait_seconds`` (``retry.decide``). Confirmed ones are
    settled as sent; ones the provider does not have are sent as usual; the rest (it
    cannot tell) are sent and counted as possible duplicates.
    """
    unanswered = {item.id for item in built.items if item.unknown_at is not None}
    asked = [m for m in built.messages if m.delivery_id in unanswered]
    answers: dict[int, str | None] = {}
    if isinstance(sender.transport, Confirming) and asked:
        try:
            answers = dict(sender.transport.confirm(asked))
        except DeliveryError as exc:
            log.warning("cannot confirm", extra={"mailing": sender.state.id, "error": str(exc)})
    keep: list[OutgoingMessage] = []
    for message in built.messages:
        did = message.delivery_id
        if did not in unanswered or did is None:
            keep.append(message)
        elif answers.get(did) is not None:
            built.results[did] = SendResult(
                did, message.recipient, True, provider_message_id=answers[did]
            )
            sender.report.confirmed += 1
        else:
            if did not in answers:
                built.duplicates.add(did)
            keep.append(message)
    built.messages = keep


def _finish(sender: _Sender, limiter: RateLimiter, policy: RetryPolicy, done: _Chunk) -> None:
    """Wait for a chunk's results, decide each delivery's next state, mark them all."""
    chunk, messages, results = done.items, done.messages, done.results
    sent_back = done.sending.result() if done.sending is not None else []
    for result in sent_back:
        if result.delivery_id is not None:
            results[result.delivery_id] = result
    message_ids = {m.delivery_id: m.message_id for m in messages}
    now = sender.clock.now()
    outcomes: list[db.Outcome] = []
    back_off = 0.0
    delivered = False
    # Every recipient the transport was asked about refused permanently: a sign that
    # the sending is broken, held until the next send shows otherwise.
    all_refused = bool(sent_back) and all(
        not r.ok and r.blame is Blame.RECIPIENT and (r.permanent or r.hard_bounce)
        for r in sent_back
    )
    for item in chunk:
        result = results.get(item.id) or SendResult(
            item.id,
            item.recipient.email,
            False,
            error="the transport returned no result",
            blame=Blame.PEER,
        )
        decision = decide(
            result, attempts=item.attempts, queued_at=item.created_at, now=now, policy=policy
        )
        if result.retry_after:
            back_off = max(back_off, result.retry_after)
        duplicate = item.id in done.duplicates and decision.outcome == Outcome.SENT
        outcomes.append(
            db.Outcome(
                id=item.id,
                status=str(decision.outcome),
                error=decision.reason,
                next_attempt_at=decision.next_attempt_at,
                message_id=message_ids.get(item.id),
                provider_message_id=result.provider_message_id,
                unknown=decision.unknown,
                possible_duplicate=duplicate,
            )
        )
        if decision.outcome == Outcome.SENT:
            sender.report.sent += 1
            sender.report.possible_duplicates += duplicate
            sender.done += 1
            delivered = True
            continue
        if decision.outcome == Outcome.REQUEUE:
            sender.sender_refused = sender.sender_refused or result.error or "refused"
        sender.last_error = result.error or ""
        key = result.error or "unknown error"
        sender.report.errors[key] = sender.report.errors.get(key, 0) + 1
        if decision.outcome == Outcome.FAILED:
            sender.report.failed += 1
            sender.done += 1
        if decision.suppress:
            if all_refused:
                sender.held_suppressions.append((item.recipient.email, result.error))
            else:
                _suppress(sender, item.recipient.email, result.error)
    # Marked before the next chunk goes: a crash from here on re-sends nothing of it.
    db.record(sender.store, outcomes, now=now)
    if delivered:
        _sending_works(sender)
    elif all_refused:
        sender.refused_in_a_row += 1
        sender.refused_ids.extend(item.id for item in chunk)
    if back_off:
        limiter.back_off(back_off)
    sender.tick()


def _sending_works(sender: _Sender) -> None:
    """A delivery went through: refusals held back were the recipients' after all."""
    for email, error in sender.held_suppressions:
        _suppress(sender, email, error)
    sender.held_suppressions.clear()
    sender.refused_in_a_row = 0
    sender.refused_ids.clear()
    if sender.probing:
        sender.probing = False
        sender.resume_tries = 0
        db.resumed(sender.store, sender.state.id)
        log.info("mailing resumed after a pause", extra={"mailing": sender.state.id})


def _suppress(sender: _Sender, email: str, error: str | None) -> None:
    from pipeline.audience import suppress

    try:
        suppress(sender.store, email, "hard_bounce", clock=sender.clock, detail=error)
    except (AddressError, AudienceError) as exc:
        log.warning("cannot suppress", extra={"email": email, "error": str(exc)})


def mailings_to_work(store: Store) -> list[int]:
    """Mailings in ``sending`` state, oldest first (for ``rundbrief worker``)."""
    return db.mailings_sending(store)


iter_mailings_to_work = mailings_to_work  # the name before the lease module
