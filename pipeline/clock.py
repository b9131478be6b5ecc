"""Clocks: every time-dependent part of Rundbrief takes one, so tests control time.

``SystemClock`` is the real one. ``FakeClock`` ships with the package (like httpx's
MockTransport) so tests and users exercise the same seam.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, time-zone aware (UTC)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for rates and timeouts)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait; a fake clock advances instead."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to (``advance``) or when something sleeps."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 6, 19, 8, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a time-zone aware start")
        self._now = start.astimezone(UTC)
        self._mono = 1000.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        step = timedelta(seconds=seconds, **delta)
        with self._lock:
            self._now += step
            self._mono += step.total_seconds()
            return self._now

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FakeClock.set needs a time-zone aware instant")
        with self._lock:
            delta = (instant - self._now).total_seconds()
            self._now = instant.astimezone(UTC)
            self._mono += max(0.0, delta)
