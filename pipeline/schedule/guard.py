"""Exactly one send per mailing, and one newsletter per period, enforced by the store.

Two things make a duplicate newsletter impossible whatever the scheduler does:

1. ``mailings.period_key`` is unique: a compose job firing twice, or in two daemons,
   makes one newsletter for the period (the second insert fails; compose returns None).
2. A send starts with an atomic claim (``store.schedule.try_claim``): one ``UPDATE``
   moves the mailing from ``approved``/``scheduled`` to ``sending`` and records who holds
   it. Exactly one caller wins; the others see the holder and leave it alone.

A mailing left in ``sending`` (crash, SIGKILL, clean stop) is resumed by whoever takes
the claim over: at once when its holder let go (clean stop) or was a process on this
host that no longer exists (crash), otherwise when the holder's heartbeat is older than
``STALE_AFTER``. The outbox below makes a resume safe: deliveries already marked sent
are never sent again, so only the batch in flight at a crash can go twice.

Lateness: a send more than ``schedule.max_send_delay_minutes`` after it was due is never
started by the daemon; it stays for an editor (``rundbrief send ID``) and the operator
is told.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from pipeline.clock import Clock
from pipeline.models import MailingStatus
from pipeline.store import Store
from pipeline.store import schedule as q

log = logging.getLogger(__name__)

# A holder renews its claim every HEARTBEAT; a claim not renewed for STALE_AFTER belongs
# to a worker that is gone (another machine, a frozen process) and may be taken over.
HEARTBEAT = timedelta(seconds=20)
STALE_AFTER = timedelta(minutes=3)


def make_worker_id() -> str:
    """``host:pid:random``: unique per process start, and says where the holder runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def holder_is_gone(holder: str) -> bool:
    """True when ``holder`` was a process on this host that has ended."""
    host, _, rest = holder.partition(":")
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


def is_late(due: datetime, now: datetime, max_delay_minutes: int) -> bool:
    """A send due at ``due`` is late when ``now`` is past it by more than the delay."""
    return now - due > timedelta(minutes=max_delay_minutes)


def claim(store: Store, mailing_id: int, worker: str, *, clock: Clock) -> bool:
    """Take the send of a mailing: a fresh one, or one left in ``sending`` by its holder.

    True for exactly one caller at a time; False when the mailing is not sendable or
    another live worker holds it.
    """
    state = q.mailing_state(store, mailing_id)
    if state is None:
        return False
    now = clock.now()
    if state.status in q.SENDABLE:
        return q.try_claim(store, mailing_id, worker, now=now)
    if state.status != MailingStatus.SENDING:
        return False
    holder = state.claimed_by
    if holder is None or holder == worker:
        won = q.try_claim(store, mailing_id, worker, now=now, from_statuses=(), takeover_from=None)
    elif holder_is_gone(holder) or (
        state.claimed_at is not None and now - state.claimed_at > STALE_AFTER
    ):
        log.warning(
            "taking over an interrupted send",
            extra={"mailing": mailing_id, "previous_holder": holder},
        )
        won = q.try_claim(
            store, mailing_id, worker, now=now, from_statuses=(), takeover_from=holder
        )
    else:
        return False
    return won


@contextmanager
def holding(
    store: Store, mailing_id: int, worker: str, *, clock: Clock
) -> Iterator[threading.Event]:
    """Keep a claim alive (heartbeat thread) while the block sends; let go afterwards.

    Yields an event that is set if the claim was lost (someone took it over).
    """
    lost = threading.Event()
    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT.total_seconds()):
            try:
                if not q.heartbeat(store, mailing_id, worker, now=clock.now()):
                    lost.set()
                    return
            except Exception:  # a busy database must not kill the send; retry next beat
                log.warning("claim heartbeat failed", extra={"mailing": mailing_id}, exc_info=True)

    thread = threading.Thread(target=beat, name=f"claim-{mailing_id}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        done.set()
        thread.join(timeout=5)
        q.release(store, mailing_id, worker)
