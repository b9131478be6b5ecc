"""What to do with a delivery after a send attempt: pure, so every rule is easy to test.

By what the failure is about (``Blame``, see ``pipeline.deliver``):

- the recipient, transient (a full mailbox): retried with exponential back-off and
  jitter (so thousands of retries do not arrive at once) until ``max_attempts`` or
  ``max_age``; permanent: failed at once, and a 5.1.x rejection suppresses the address;
- the peer (HTTP 429/5xx, timeouts, refused or dropped connections, SMTP 421): retried
  with the same back-off until ``max_age`` only: a provider that is down for an hour
  must not use up every delivery's attempts;
- the sender or the account: put back untouched (``REQUEUE``); the outbox pauses;
- no answer at all (``unknown``): asked about, or sent again, after ``unknown_wait``.

A delay the peer asked for (Retry-After) is never undercut.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pipeline.config import Delivery
from pipeline.deliver import Blame, SendResult

# No single retry waits longer than this, however many attempts came before.
MAX_DELAY = timedelta(hours=6)


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    REQUEUE = "queued"  # not this delivery's fault: back in the queue, attempt not counted


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base: timedelta = timedelta(seconds=60)
    max_age: timedelta = timedelta(hours=48)
    unknown_wait: timedelta = timedelta(minutes=10)

    @classmethod
    def from_settings(cls, delivery: Delivery) -> RetryPolicy:
        return cls(
            max_attempts=delivery.max_attempts,
            base=timedelta(seconds=delivery.retry_base_seconds),
            max_age=timedelta(hours=delivery.max_retry_hours),
            unknown_wait=timedelta(seconds=delivery.unknown_wait_seconds),
        )

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """Back-off after ``attempts`` tries: base·2^(n-1), jittered to 50–150 %."""
        factor = (rng or random).uniform(0.5, 1.5)
        raw: timedelta = self.base * (2 ** max(0, attempts - 1)) * factor
        return min(raw, MAX_DELAY)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    next_attempt_at: datetime | None = None
    suppress: bool = False  # hard bounce: never mail this address again
    reason: str | None = None
    unknown: bool = False  # the attempt went unanswered: ask or wait before the next one


def decide(
    result: SendResult,
    *,
    attempts: int,
    queued_at: datetime,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> Decision:
    """The next state of a delivery after attempt number ``attempts`` gave ``result``."""
    if result.ok:
        return Decision(Outcome.SENT)
    error = result.error or "unknown error"
    if result.blame is Blame.SENDER:
        return Decision(Outcome.REQUEUE, reason=error)
    if result.unknown:
        at = now + policy.unknown_wait
        if at - queued_at > policy.max_age:
            # Past the age limit nothing is sent again; it may well have arrived.
            return Decision(Outcome.FAILED, reason=f"no answer, not sent again: {error}")
        return Decision(Outcome.RETRY, next_attempt_at=at, reason=error, unknown=True)
    if result.blame is Blame.RECIPIENT:
        if result.permanent or result.hard_bounce:
            return Decision(Outcome.FAILED, suppress=result.hard_bounce, reason=error)
        if attempts >= policy.max_attempts:
            return Decision(Outcome.FAILED, reason=f"gave up after {attempts} attempts: {error}")
    delay = policy.delay(attempts, rng)
    if result.retry_after is not None:
        delay = max(delay, timedelta(seconds=result.retry_after))
    at = now + delay
    if at - queued_at > policy.max_age:
        hours = policy.max_age.total_seconds() / 3600
        return Decision(Outcome.FAILED, reason=f"gave up after {hours:g} hours: {error}")
    return Decision(Outcome.RETRY, next_attempt_at=at, reason=error)
