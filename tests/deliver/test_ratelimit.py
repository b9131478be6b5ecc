"""The shared token bucket in the store, on a fake clock."""

from __future__ import annotations

from pipeline.clock import FakeClock
from pipeline.deliver.ratelimit import RateLimiter
from pipeline.store import Store


def test_per_second_rate_holds_over_many_chunks(store: Store, clock: FakeClock) -> None:
    limiter = RateLimiter(store, "transport:smtp", per_second=20, clock=clock)
    start = clock.monotonic()
    for _ in range(10):
        assert limiter.acquire(10)
    # 100 messages at 20/s, the first second's worth free: about 4 seconds.
    assert 3.5 <= clock.monotonic() - start <= 4.6


def test_two_limiters_share_one_bucket(store: Store, clock: FakeClock) -> None:
    a = RateLimiter(store, "transport:smtp", per_second=10, clock=clock)
    b = RateLimiter(store, "transport:smtp", per_second=10, clock=clock)
    start = clock.monotonic()
    for _ in range(5):
        a.acquire(10)
        b.acquire(10)
    assert clock.monotonic() - start >= 8.5


def test_hourly_limit_waits_for_the_next_window(store: Store, clock: FakeClock) -> None:
    limiter = RateLimiter(store, "transport:postmark", per_second=1000, per_hour=50, clock=clock)
    start = clock.monotonic()
    for _ in range(5):
        limiter.acquire(10)
    assert clock.monotonic() - start < 1
    limiter.acquire(10)
    assert clock.monotonic() - start >= 3590


def test_back_off_pauses_everyone(store: Store, clock: FakeClock) -> None:
    limiter = RateLimiter(store, "transport:smtp", per_second=1000, clock=clock)
    other = RateLimiter(store, "transport:smtp", per_second=1000, clock=clock)
    limiter.acquire(1)
    limiter.back_off(30)
    start = clock.monotonic()
    other.acquire(1)
    assert 29.9 <= clock.monotonic() - start <= 31
    # A shorter back-off never shortens a longer one.
    limiter.back_off(60)
    limiter.back_off(5)
    start = clock.monotonic()
    other.acquire(1)
    assert clock.monotonic() - start >= 59


def test_stop_interrupts_a_wait(store: Store, clock: FakeClock) -> None:
    stopped = {"now": False}

    def stop() -> bool:
        return stopped["now"]

    limiter = RateLimiter(store, "transport:smtp", per_second=1, clock=clock, stop=stop)
    limiter.back_off(3600)
    stopped["now"] = True
    assert limiter.acquire(1) is False
