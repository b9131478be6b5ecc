"""Fixtures of the issue 12 rules: a workflow with items to compose from, actors of
each role, subscribers imported from a real CSV file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.access import Actor, Role
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.store import Store
from pipeline.subscribers import Subscribers
from tests.support.mail_items import add_item, add_items

ANNA = "anna@junge-buergermeister.example"  # an editor
BERT = "bert@junge-buergermeister.example"  # an approver
CLARA = "clara@junge-buergermeister.example"  # another approver
DORA = "dora@junge-buergermeister.example"  # the admin


def person(email: str, role: Role, channel: str = "cli") -> Actor:
    return Actor(email=email, role=role, channel=channel)


EMAIL_OF = {Role.EDITOR: ANNA, Role.APPROVER: BERT, Role.ADMIN: DORA}


def of_role(role: Role) -> Actor:
    return person(EMAIL_OF[role], role)


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")


@pytest.fixture
def flow(settings: Settings, store: Store, clock: FakeClock) -> Workflow:
    add_items(store, clock.now(), 4, kinds=("article", "event_report"))
    return Workflow(settings, store, clock)


@pytest.fixture
def press_item(store: Store, clock: FakeClock) -> int:
    return add_item(
        store,
        title="Bürgermeisterinnen fordern Investitionsprogramm",
        kind="press_release",
        published_at=clock.now() - timedelta(hours=1),
    )


@pytest.fixture
def people(settings: Settings, store: Store, clock: FakeClock) -> Subscribers:
    return Subscribers(settings, store, clock)


@pytest.fixture
def csv_file(tmp_path: Path) -> Callable[[str], Path]:
    def write(*addresses: str) -> Path:
        path = tmp_path / "list.csv"
        lines = ["email,first_name"] + [f"{a},Max" for a in addresses]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write  # type: ignore[return-value]
