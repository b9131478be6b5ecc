"""Accounts on PostgreSQL, as several web workers share them: the case-insensitive
address, log-in and its throttle, the one-time code, tokens and ended sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.access import Role
from pipeline.accounts import Accounts, totp_code
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import AccountError, LoginRefused
from pipeline.store import Store
from pipeline.store import accounts as q
from tests.accounts.conftest import PASSWORD, ROOT


def test_accounts_log_in_throttle_codes_and_tokens_on_postgres(
    settings: Settings, pg_store: Store, clock: FakeClock
) -> None:
    one = Accounts(pg_store, settings, clock)
    other_worker = Accounts(pg_store, settings, clock)  # the same store, another service
    one.add(ROOT, "Anna@Example.org", "approver", PASSWORD, name="Anna")
    with pytest.raises(AccountError, match="already"):
        one.add(ROOT, "anna@example.ORG", "editor", PASSWORD)
    assert other_worker.authenticate("ANNA@example.org", PASSWORD, address="10.0.0.1").role is (
        Role.APPROVER
    )
    # guesses from one address: that address waits, another does not
    for _ in range(6):
        with pytest.raises(LoginRefused):
            one.authenticate("anna@example.org", "falsch", address="198.51.100.9")
    with pytest.raises(LoginRefused) as waiting:
        other_worker.authenticate("anna@example.org", PASSWORD, address="198.51.100.9")
    assert waiting.value.retry_after > 0
    assert other_worker.authenticate("anna@example.org", PASSWORD, address="10.0.0.2")
    # a one-time code works once, whichever worker sees it
    anna = one.actor_for("anna@example.org")
    one.enroll_totp(anna, "anna@example.org")
    secret = q.find_account(pg_store, "anna@example.org").totp_secret  # type: ignore[union-attr]
    assert secret
    code = totp_code(secret, clock.now())
    one.authenticate("anna@example.org", PASSWORD, address="10.0.0.2", totp_code=code)
    with pytest.raises(LoginRefused, match="used already"):
        other_worker.authenticate("anna@example.org", PASSWORD, address="10.0.0.3", totp_code=code)
    # tokens: verified by another worker, dead once revoked or expired
    token, record = one.create_token(anna, "anna@example.org", name="cms")
    assert other_worker.verify_token(token, address="10.0.0.4").email == "Anna@Example.org"
    one.revoke_token(anna, record.id)
    with pytest.raises(AccountError):
        other_worker.verify_token(token)
    later, _ = one.create_token(
        anna, "anna@example.org", name="kurz", expires_at=clock.now() + timedelta(hours=1)
    )
    clock.advance(hours=2)
    with pytest.raises(AccountError):
        other_worker.verify_token(later)
    # disabling stops the account everywhere
    one.disable(ROOT, "anna@example.org")
    with pytest.raises(LoginRefused):
        other_worker.authenticate("anna@example.org", PASSWORD, address="10.0.0.5")
