"""An admin sends the confirmation of a pending sign-up again: a fresh link that works,
at most once per ``audience.resend_confirmation_minutes``, audited; refused for editors
and approvers, for an active or unknown address (workflow, CLI, API)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from pipeline import audit
from pipeline.access import Action, Actor, Role
from pipeline.audience import RateLimited, Signup, is_receiving
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import AudienceError, PermissionDenied
from pipeline.signup import confirm_signup, resend_confirmation, sign_up
from pipeline.store import Store
from pipeline.store import system_mail as db
from tests.audience.conftest import SECRET

ADMIN = Actor("dora@junge-buergermeister.example", Role.ADMIN, channel="cli")
PERSON = "k.brandt@stadtanzeiger.example"


def _pending(settings: Settings, store: Store, clock: FakeClock, address: str = PERSON) -> None:
    outcome = sign_up(
        settings,
        store,
        Signup(email=address, list_name="press", ip="192.0.2.7", source="test"),
        clock=clock,
        secret=SECRET,
    )
    assert outcome.action == "queued"


def _confirmations(store: Store) -> list[db.SystemMail]:
    return sorted((m for m in db.list_mail(store) if m.kind == "confirmation"), key=lambda m: m.id)


def _token(mail: db.SystemMail) -> str:
    found = re.search(rb"/confirm/([A-Za-z0-9._=-]+)", mail.data.replace(b"=\r\n", b""))
    assert found is not None
    return found.group(1).decode()


def test_an_admin_resends_once_an_hour_and_the_fresh_link_confirms(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    _pending(settings, store, clock)
    with pytest.raises(RateLimited, match="60 minutes") as refused:
        resend_confirmation(settings, store, PERSON, "press", by=ADMIN, clock=clock, secret=SECRET)
    assert refused.value.retry_after == 3600
    clock.advance(minutes=59)
    with pytest.raises(RateLimited) as refused:
        resend_confirmation(settings, store, PERSON, "press", by=ADMIN, clock=clock, secret=SECRET)
    assert refused.value.retry_after == 60
    clock.advance(minutes=1)
    mail_id = resend_confirmation(
        settings, store, PERSON, "PRESS".lower(), by=ADMIN, clock=clock, secret=SECRET
    )
    first, again = _confirmations(store)
    assert again.id == mail_id and again.recipient == PERSON
    assert _token(first) != _token(again)
    with pytest.raises(RateLimited):
        resend_confirmation(settings, store, PERSON, "press", by=ADMIN, clock=clock, secret=SECRET)

    confirm_signup(settings, store, _token(again), ip="192.0.2.9", clock=clock, secret=SECRET)
    assert is_receiving(store, PERSON, "press")
    (entry,) = [e for e in audit.entries(store) if e.action == Action.MANAGE_LISTS]
    assert entry.actor_email == ADMIN.email
    assert PERSON not in entry.summary  # named by id only
    clock.advance(hours=2)
    with pytest.raises(AudienceError, match=r"no pending sign-up on the list 'press' \(active\)"):
        resend_confirmation(settings, store, PERSON, "press", by=ADMIN, clock=clock, secret=SECRET)


@pytest.mark.parametrize("role", [Role.EDITOR, Role.APPROVER])
def test_only_an_admin_may_resend(
    settings: Settings, store: Store, clock: FakeClock, role: Role
) -> None:
    _pending(settings, store, clock)
    clock.advance(hours=2)
    someone = Actor("anna@junge-buergermeister.example", role, channel="cli")
    with pytest.raises(PermissionDenied, match="admin"):
        resend_confirmation(
            settings, store, PERSON, "press", by=someone, clock=clock, secret=SECRET
        )
    assert len(_confirmations(store)) == 1


def test_unknown_addresses_and_lists_without_sign_up_are_named(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    with pytest.raises(AudienceError, match="no subscriber with the address niemand@"):
        resend_confirmation(
            settings,
            store,
            "niemand@zeitung.example",
            "press",
            by=ADMIN,
            clock=clock,
            secret=SECRET,
        )
    with pytest.raises(AudienceError, match="'members' does not take sign-ups"):
        resend_confirmation(
            settings, store, PERSON, "members", by=ADMIN, clock=clock, secret=SECRET
        )


def test_the_window_is_configurable(settings_factory: Any, clock: FakeClock) -> None:
    settings = settings_factory(audience={"resend_confirmation_minutes": 5})
    store = Store.open(settings.database_url())
    try:
        _pending(settings, store, clock)
        clock.advance(minutes=5)
        resend_confirmation(settings, store, PERSON, "press", by=ADMIN, clock=clock, secret=SECRET)
        assert len(_confirmations(store)) == 2
    finally:
        store.close()


CONFIG = """
[organisation]
name = "Netzwerk Junge Bürgermeister*innen"
website = "https://www.junge-buergermeister.example"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "https://www.junge-buergermeister.example/impressum"

[storage]
url = "sqlite:///var/test.db"

[sender]
from_name = "Netzwerk"
from_address = "newsletter@junge-buergermeister.example"

[[lists]]
name = "members"
title = "Mitglieder"
reason = "Sie sind Mitglied."
double_opt_in = false

[[lists]]
name = "press"
title = "Presseverteiler"
reason = "Sie sind im Presseverteiler."
"""


def test_cli_resend_confirmation(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from pipeline.config import load_settings
    from tests.support.cli import run_cli
    from tests.support.settings import write_config

    config = write_config(tmp_path, CONFIG)
    (tmp_path / "var").mkdir(exist_ok=True)
    settings = load_settings(config)
    store = Store.open(settings.database_url())
    try:
        from pipeline.clock import SystemClock

        clock = SystemClock()
        outcome = sign_up(
            settings,
            store,
            Signup(email=PERSON, list_name="press", ip="192.0.2.7", source="test"),
            clock=clock,  # type: ignore[arg-type]
            secret=SECRET,
        )
        assert outcome.action == "queued"
    finally:
        store.close()
    run = run_cli(capsys, config, "subscribers", "resend-confirmation", PERSON, "--list", "press")
    assert run.returncode == 1
    assert "less than 60 minutes ago" in run.stderr and "Traceback" not in run.stderr
    run = run_cli(
        capsys, config, "subscribers", "resend-confirmation", "x@zeitung.example", "--list", "press"
    )
    assert run.returncode == 1 and "no subscriber with the address x@zeitung.example" in run.stderr
