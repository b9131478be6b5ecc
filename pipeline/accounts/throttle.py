"""Log-in throttling that a stranger cannot turn against an editor.

Failures are counted under three keys, each with its own free tries and a delay that
doubles with every further failure up to a cap:

- ``pair:<account>|<address>``: one account from one client address (3 free, capped
  at 15 minutes). This is the key that slows a guesser down, and it is the reason
  wrong passwords from one address never block the right one from another address.
- ``address:<address>``: all accounts from one address (10 free, 15 minutes): one
  address spraying many accounts.
- ``account:<account>``: one account from all addresses together, with a high number
  of free tries (100) and a short cap (1 minute): a botnet is slowed, but the real
  editor waits at most a minute, never a lock-out.

The counts live in the store (``login_failures``) so that every web worker sees
them. ``decide`` is pure; ``Throttle`` reads and writes the store. A key is forgotten
an hour after its last failure; a successful log-in clears its pair key only (an
attacker who owns one account cannot reset their address's count with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.clock import Clock
from pipeline.store import Store
from pipeline.store import accounts as q
from pipeline.store.accounts import Failures


@dataclass(frozen=True)
class Rule:
    free: int  # failures without any delay
    base: timedelta  # the first delay, doubled with every further failure
    cap: timedelta


RULES: dict[str, Rule] = {
    "pair": Rule(3, timedelta(seconds=1), timedelta(minutes=15)),
    "address": Rule(10, timedelta(seconds=1), timedelta(minutes=15)),
    "account": Rule(100, timedelta(seconds=1), timedelta(minutes=1)),
}
FORGET = timedelta(hours=1)


def keys(email_key: str, address: str) -> list[str]:
    address = address or "-"
    return [f"pair:{email_key}|{address}", f"address:{address}", f"account:{email_key}"]


def delay(rule: Rule, failures: int) -> timedelta:
    """How long a client waits after its ``failures``-th failure under ``rule``."""
    over = failures - rule.free - 1
    if over < 0:
        return timedelta(0)
    # 2**over overflows nothing: it is capped before it is multiplied out.
    if over >= 40:
        return rule.cap
    grown: timedelta = rule.base * (2**over)
    return min(rule.cap, grown)


def bump(old: Failures | None, key: str, now: datetime) -> Failures:
    """The row of ``key`` after one more failure at ``now``."""
    count = 1
    if old is not None and now - old.last_failure_at < FORGET:
        count = old.failures + 1
    rule = RULES[key.partition(":")[0]]
    return Failures(key, count, now, now + delay(rule, count))


def wait_seconds(rows: list[Failures], now: datetime) -> int:
    """Seconds until every key of ``rows`` lets a try through (0: now), rounded up."""
    wait = max((r.blocked_until - now for r in rows), default=timedelta(0))
    seconds = wait.total_seconds()
    return max(0, int(seconds) + (1 if seconds > int(seconds) else 0))


class Throttle:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def retry_after(self, email_key: str, address: str) -> int:
        return wait_seconds(q.failures(self.store, keys(email_key, address)), self.clock.now())

    def failed(self, email_key: str, address: str) -> int:
        """Count a failure; the seconds the client must now wait."""
        now = self.clock.now()
        rows = q.record_failure(
            self.store, keys(email_key, address), lambda old, key: bump(old, key, now)
        )
        q.purge_failures(self.store, now - FORGET)
        return wait_seconds(rows, now)

    def succeeded(self, email_key: str, address: str) -> None:
        q.clear_failures(self.store, keys(email_key, address)[:1])
