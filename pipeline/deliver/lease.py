"""One lease for sending: who sends a mailing, whether they are alive, and the start.

Every sender (``rundbrief send``, ``rundbrief worker``, the daemon's send job) works the
same way, and any number of them may work on one mailing at once:

    start_sending(store, id)   approved/scheduled → sending, once (one conditional UPDATE;
                               the embargo is part of it); a paused one only by hand
    with Lease(...) as lease:  register this sender's own row in ``mailing_senders``,
                               renew only that row (a heartbeat thread, and before each
                               claim), delete it on the way out
        lease.look()           who else is sending: live senders keep their claimed
                               deliveries, gone ones lose them (and their rows)

Nobody holds the mailing itself, so nobody can take it from another: a sender that joins
or leaves changes nothing for the others. Each delivery is claimed by one sender at a time
(the outbox), so each recipient still gets one message; the mailing becomes ``sent`` in
one conditional UPDATE by whoever finds nothing left (``store.outbox.finish_if_done``).

Liveness: a worker id is ``host:pid:random``. A sender on this host whose process has
ended is gone at once; any other is gone when its heartbeat is older than
``[delivery] lease_seconds``. A gone sender's claimed deliveries are claimed again; only
its chunk in flight can arrive twice.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

import pipeline.store.outbox as db
from pipeline.clock import Clock
from pipeline.store import Store

log = logging.getLogger(__name__)


def worker_id() -> str:
    """``host:pid:random``: unique per process start; the pid lets this host see it end."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def ended_here(worker: str) -> bool:
    """True when ``worker`` was a process on this host that no longer exists."""
    host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return False


def is_alive(worker: str, heartbeat_at: datetime, *, now: datetime, lease_seconds: float) -> bool:
    return not ended_here(worker) and now - heartbeat_at <= timedelta(seconds=lease_seconds)


def heartbeat_interval(lease_seconds: float) -> float:
    """How often a sender renews its lease: several times within one lease."""
    return min(30.0, max(0.2, lease_seconds / 5))


@dataclass(frozen=True)
class Senders:
    """Who is registered on a mailing, split by liveness (``lapsed``: another host's
    sender whose heartbeat is older than the lease; ``ended``: a process here is gone)."""

    live: tuple[str, ...]
    lapsed: tuple[str, ...]
    ended: tuple[str, ...]

    @property
    def gone(self) -> tuple[str, ...]:
        return self.ended + self.lapsed


def senders(store: Store, mailing_id: int, *, now: datetime, lease_seconds: float) -> Senders:
    live, lapsed, ended = [], [], []
    for worker, beat in db.senders(store, mailing_id):
        if ended_here(worker):
            ended.append(worker)
        elif now - beat > timedelta(seconds=lease_seconds):
            lapsed.append(worker)
        else:
            live.append(worker)
    return Senders(tuple(live), tuple(lapsed), tuple(ended))


def active_senders(
    store: Store, mailing_id: int, *, now: datetime, lease_seconds: float
) -> tuple[str, ...]:
    """The live senders of a mailing (for the daemon's catch-up and ``status``)."""
    return senders(store, mailing_id, now=now, lease_seconds=lease_seconds).live


def start_sending(
    store: Store, mailing_id: int, *, now: datetime, resume_paused: bool = True
) -> bool:
    """approved/scheduled → sending (and paused → sending when ``resume_paused``: by hand,
    never by the daemon); True for the one caller that moved it."""
    return db.start_sending(store, mailing_id, now=now, resume_paused=resume_paused)


@dataclass(frozen=True)
class Look:
    """What a sender needs before claiming: whose claimed deliveries it may take."""

    live: tuple[str, ...]  # their claims stand, however old
    dead: tuple[str, ...]  # their claims go at once (processes here that have ended)


class Lease:
    """This sender's registration on one mailing, renewed while the block runs.

    The heartbeat runs in a thread, so a long chunk (a slow provider, a tight rate
    limit) does not let the lease lapse; a failed renewal is logged and tried again at
    the next beat, never a reason to stop. If the row was dropped meanwhile (this
    process looked gone to another), the sender registers again and goes on.
    """

    def __init__(
        self,
        store: Store,
        mailing_id: int,
        worker: str,
        *,
        clock: Clock,
        lease_seconds: float,
    ) -> None:
        self.store = store
        self.mailing_id = mailing_id
        self.worker = worker
        self.clock = clock
        self.lease_seconds = lease_seconds
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Lease:
        db.join_sending(self.store, self.mailing_id, self.worker, now=self.clock.now())
        self._thread = threading.Thread(
            target=self._beat_loop, name=f"lease-{self.mailing_id}", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            db.leave_sending(self.store, self.mailing_id, self.worker)
        except Exception:  # the row lapses by itself; the send's own error matters more
            if exc is None:
                raise
            log.warning("cannot leave the lease", extra={"mailing": self.mailing_id})

    def beat(self) -> None:
        """Renew this sender's own row (register again if it was dropped)."""
        now = self.clock.now()
        if not db.renew_sending(self.store, self.mailing_id, self.worker, now=now):
            log.warning(
                "lease found dropped; registering again",
                extra={"mailing": self.mailing_id, "worker": self.worker},
            )
            db.join_sending(self.store, self.mailing_id, self.worker, now=now)

    def _beat_loop(self) -> None:
        while not self._done.wait(heartbeat_interval(self.lease_seconds)):
            try:
                self.beat()
            except Exception:  # a busy database must not end the send; retry next beat
                log.warning(
                    "lease heartbeat failed", extra={"mailing": self.mailing_id}, exc_info=True
                )

    def look(self, claimers: list[str]) -> Look:
        """Renew, then sort the other senders (and ``claimers``, the workers holding
        deliveries now) into live and dead; forget the rows of gone senders."""
        self.beat()
        now = self.clock.now()
        found = senders(self.store, self.mailing_id, now=now, lease_seconds=self.lease_seconds)
        if found.gone:
            log.warning(
                "taking over an interrupted send",
                extra={"mailing": self.mailing_id, "previous_holder": ", ".join(found.gone)},
            )
            lease_before = now - timedelta(seconds=self.lease_seconds)
            db.drop_senders(self.store, self.mailing_id, found.ended)
            db.drop_senders(
                self.store, self.mailing_id, found.lapsed, heartbeat_before=lease_before
            )
        dead = {w for w in claimers if w != self.worker and ended_here(w)}
        dead.update(found.ended)
        return Look(live=(*found.live, self.worker), dead=tuple(sorted(dead)))
