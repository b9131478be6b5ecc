"""One rate limit per transport: messages per second and per hour, shared by everyone.

The bucket lives in the store (table ``rate_limits``, one row per transport), so every
thread of a process and, on PostgreSQL, every worker process draws from the same
tokens; the row is locked (``FOR UPDATE``; SQLite's write lock) while it is updated.
Tokens refill continuously at ``per_second`` up to one second's worth; a chunk larger
than that may borrow (the bucket goes negative), which keeps the average rate exact.
The hourly limit counts messages in a fixed window that starts with the first message.

``back_off(seconds)`` pauses everyone: after SMTP 421/451/454 or HTTP 429 Retry-After.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pipeline.store.outbox as db
from pipeline.clock import Clock
from pipeline.store import Store

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Wait:
    seconds: float
    reason: str


class RateLimiter:
    def __init__(
        self,
        store: Store,
        name: str,
        *,
        per_second: float,
        per_hour: int = 0,
        clock: Clock,
        stop: Callable[[], bool] | None = None,
        on_wait: Callable[[Wait], None] | None = None,
    ) -> None:
        self.store = store
        self.name = name
        self.per_second = per_second
        self.per_hour = per_hour
        self.clock = clock
        self.stop = stop or (lambda: False)
        self.on_wait = on_wait
        self._lock = threading.Lock()

    def acquire(self, n: int) -> bool:
        """Wait until ``n`` messages may go; False if ``stop`` was set while waiting."""
        with self._lock:
            while True:
                wait = self._try(n)
                if wait is None:
                    return True
                if self.on_wait is not None:
                    self.on_wait(wait)
                if not self._sleep(wait.seconds):
                    return False

    def _sleep(self, seconds: float) -> bool:
        # Sleep in short steps so a SIGTERM is honoured within a second.
        remaining = seconds
        while remaining > 0:
            if self.stop():
                return False
            step = min(remaining, 1.0)
            self.clock.sleep(step)
            remaining -= step
        return not self.stop()

    def _try(self, n: int) -> Wait | None:
        now = self.clock.now()
        with self.store.begin() as conn:
            state = db.lock_rate_limit(conn, self.name, now=now, tokens=self.per_second)
            if state.blocked_until is not None and state.blocked_until > now:
                return Wait(_seconds(state.blocked_until - now), "the server asked to back off")
            elapsed = max(0.0, _seconds(now - state.updated_at))
            tokens = min(self.per_second, state.tokens + elapsed * self.per_second)
            hour_start, hour_count = state.hour_start, state.hour_count
            if hour_start is None or now - hour_start >= HOUR:
                hour_start, hour_count = now, 0
            if self.per_hour and hour_count + n > self.per_hour and hour_count > 0:
                return Wait(_seconds(hour_start + HOUR - now), f"hourly limit {self.per_hour}")
            needed = min(float(n), self.per_second)
            if tokens < needed:
                return Wait((needed - tokens) / self.per_second, "rate limit")
            db.save_rate_limit(
                conn,
                self.name,
                tokens=tokens - n,
                updated_at=now,
                hour_start=hour_start,
                hour_count=hour_count + n,
            )
            return None

    def back_off(self, seconds: float) -> None:
        """Pause every sender of this transport for ``seconds`` (the largest pause wins)."""
        now = self.clock.now()
        until = now + timedelta(seconds=seconds)
        with self.store.begin() as conn:
            db.lock_rate_limit(conn, self.name, now=now, tokens=self.per_second)
            db.block_rate_limit(conn, self.name, until=until)


def _seconds(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds())


__all__ = ["RateLimiter", "Wait"]
