from __future__ import annotations

from typing import Any

import pytest

from pipeline.access import Actor, Role
from pipeline.accounts import Accounts
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store

PASSWORD = "richtig-langes-passwort"
ROOT = Actor("root@example.org", Role.ADMIN, channel="cli")


@pytest.fixture
def accounts(store: Store, settings: Settings, clock: FakeClock) -> Accounts:
    return Accounts(store, settings, clock)


@pytest.fixture
def people(accounts: Accounts) -> dict[str, Any]:
    """An admin, an approver and an editor, each with ``PASSWORD``."""
    return {
        role: accounts.add(ROOT, f"{role}@example.org", role, PASSWORD, name=role.title())
        for role in ("admin", "approver", "editor")
    }


def actor(accounts: Accounts, role: str) -> Actor:
    return accounts.actor_for(f"{role}@example.org")
