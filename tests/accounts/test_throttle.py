"""Log-in throttling: growing delays per (account, address), never a lock-out from elsewhere."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pipeline.accounts import Accounts
from pipeline.accounts.throttle import RULES, delay
from pipeline.clock import FakeClock
from pipeline.errors import LoginRefused
from pipeline.store import Store
from tests.accounts.conftest import PASSWORD

EMAIL = "editor@example.org"


def _fail(accounts: Accounts, address: str, times: int, clock: FakeClock) -> None:
    """Wrong passwords from ``address``, each as soon as the throttle lets it through."""
    for _ in range(times):
        try:
            accounts.authenticate(EMAIL, "falsch", address=address)
        except LoginRefused as refused:
            if refused.retry_after:
                clock.advance(refused.retry_after)
                with pytest.raises(LoginRefused):
                    accounts.authenticate(EMAIL, "falsch", address=address)


def test_delays_double_and_are_capped() -> None:
    pair = RULES["pair"]
    assert [delay(pair, n).total_seconds() for n in range(1, 8)] == [0, 0, 0, 1, 2, 4, 8]
    assert delay(pair, 500) == timedelta(minutes=15)
    assert delay(RULES["account"], 10_000) == timedelta(minutes=1)


def test_the_pair_key_grows_and_the_right_password_later_works(
    accounts: Accounts, people: dict[str, Any], clock: FakeClock
) -> None:
    for n in range(1, 7):
        with pytest.raises(LoginRefused) as refused:
            accounts.authenticate(EMAIL, "falsch", address="203.0.113.5")
        assert refused.value.retry_after == 0
        wait = accounts.throttle.retry_after(EMAIL, "203.0.113.5")
        assert wait == int(delay(RULES["pair"], n).total_seconds())
        with pytest.raises(LoginRefused) as throttled:
            if wait:
                accounts.authenticate(EMAIL, PASSWORD, address="203.0.113.5")
            else:
                raise LoginRefused("", retry_after=0)
        assert throttled.value.retry_after == wait
        clock.advance(wait)
    assert accounts.authenticate(EMAIL, PASSWORD, address="203.0.113.5").email == EMAIL


def test_a_throttled_address_does_not_block_another(
    accounts: Accounts, people: dict[str, Any], clock: FakeClock
) -> None:
    _fail(accounts, "203.0.113.5", 30, clock)
    assert accounts.throttle.retry_after(EMAIL, "203.0.113.5") > 60
    # the editor at the office logs in at once
    assert accounts.authenticate(EMAIL, PASSWORD, address="198.51.100.7").email == EMAIL


def test_many_addresses_only_slow_the_account_for_a_minute(
    accounts: Accounts, people: dict[str, Any], clock: FakeClock
) -> None:
    for n in range(150):  # a botnet: every address stays under its own limit
        with pytest.raises(LoginRefused):
            accounts.authenticate(EMAIL, "falsch", address=f"10.1.{n // 250}.{n % 250}")
    wait = accounts.throttle.retry_after(EMAIL, "198.51.100.7")
    assert 0 < wait <= 60
    clock.advance(wait)
    assert accounts.authenticate(EMAIL, PASSWORD, address="198.51.100.7").email == EMAIL


def test_throttle_state_is_shared_through_the_store(
    accounts: Accounts, people: dict[str, Any], clock: FakeClock, store: Store, settings: Any
) -> None:
    _fail(accounts, "203.0.113.5", 5, clock)
    other_worker = Accounts(store, settings, clock)
    assert other_worker.throttle.retry_after(EMAIL, "203.0.113.5") > 0


def test_counts_are_forgotten_an_hour_after_the_last_failure(
    accounts: Accounts, people: dict[str, Any], clock: FakeClock
) -> None:
    _fail(accounts, "203.0.113.5", 8, clock)
    clock.advance(hours=1, seconds=1)
    with pytest.raises(LoginRefused) as refused:
        accounts.authenticate(EMAIL, "falsch", address="203.0.113.5")
    assert refused.value.retry_after == 0
    assert accounts.throttle.retry_after(EMAIL, "203.0.113.5") == 0  # one failure: free
