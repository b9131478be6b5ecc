"""The pure retry rules."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from pipeline.deliver import SendResult
from pipeline.deliver.retry import Outcome, RetryPolicy, decide

NOW = datetime(2026, 6, 19, 8, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=4, base=timedelta(seconds=60), max_age=timedelta(hours=2))


def result(**kwargs: object) -> SendResult:
    return SendResult(1, "a@b.example", kwargs.pop("ok", False), **kwargs)  # type: ignore[arg-type]


def test_success_is_sent() -> None:
    assert (
        decide(result(ok=True), attempts=1, queued_at=NOW, now=NOW, policy=POLICY).outcome
        == Outcome.SENT
    )


def test_permanent_fails_at_once_and_hard_bounce_suppresses() -> None:
    d = decide(
        result(error="550 5.1.1", permanent=True, hard_bounce=True),
        attempts=1,
        queued_at=NOW,
        now=NOW,
        policy=POLICY,
    )
    assert d.outcome == Outcome.FAILED and d.suppress
    d = decide(
        result(error="552 5.2.2", permanent=True), attempts=1, queued_at=NOW, now=NOW, policy=POLICY
    )
    assert d.outcome == Outcome.FAILED and not d.suppress


def test_transient_backs_off_exponentially_with_jitter() -> None:
    rng = random.Random(1)
    delays = []
    for attempts in (1, 2, 3):
        d = decide(
            result(error="451"), attempts=attempts, queued_at=NOW, now=NOW, policy=POLICY, rng=rng
        )
        assert d.outcome == Outcome.RETRY and d.next_attempt_at is not None
        delays.append((d.next_attempt_at - NOW).total_seconds())
    for n, delay in enumerate(delays):
        base = 60 * 2**n
        assert 0.5 * base <= delay <= 1.5 * base
    spread = {
        decide(result(error="x"), attempts=1, queued_at=NOW, now=NOW, policy=POLICY).next_attempt_at
        for _ in range(20)
    }
    assert len(spread) > 1  # jitter


def test_retry_after_is_never_undercut() -> None:
    d = decide(
        result(error="429", retry_after=900), attempts=1, queued_at=NOW, now=NOW, policy=POLICY
    )
    assert d.next_attempt_at is not None and d.next_attempt_at - NOW >= timedelta(seconds=900)


def test_gives_up_after_max_attempts_and_max_age() -> None:
    d = decide(result(error="451 busy"), attempts=4, queued_at=NOW, now=NOW, policy=POLICY)
    assert d.outcome == Outcome.FAILED and "after 4 attempts" in (d.reason or "")
    old = NOW - timedelta(hours=1, minutes=59)
    d = decide(result(error="451 busy"), attempts=2, queued_at=old, now=NOW, policy=POLICY)
    assert d.outcome == Outcome.FAILED and "2 hours" in (d.reason or "")
