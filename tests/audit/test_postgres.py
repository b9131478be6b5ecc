"""The four-eyes rule and the audit log on PostgreSQL: the same entries, filters and
erasure as on SQLite (case-insensitive matching of the scrub included)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import audit
from pipeline.access import Role
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ApprovalRefused
from pipeline.mailings import Workflow
from pipeline.store import Store
from pipeline.subscribers import Subscribers
from tests.audit.conftest import ANNA, BERT, CLARA, DORA, person
from tests.support.mail_items import add_item


def test_four_eyes_and_the_audit_log_on_postgres(
    settings: Settings, pg_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    item = add_item(
        pg_store, title="Pressemitteilung", kind="press_release", published_at=clock.now()
    )
    flow = Workflow(settings, pg_store, clock)
    press = flow.compose_press(item, by=person(BERT, Role.APPROVER))
    with pytest.raises(ApprovalRefused):
        flow.approve(press.id, by=person(BERT, Role.APPROVER))
    flow.approve(press.id, by=person(CLARA, Role.APPROVER))
    assert [(e.action, e.actor_email) for e in audit.entries(pg_store, mailing=press.id)] == [
        ("compose", BERT),
        ("approve", CLARA),
    ]

    people = Subscribers(settings, pg_store, clock)
    csv = tmp_path / "people.csv"
    csv.write_text("email,first_name\nerika@example.org,Erika\n", encoding="utf-8")
    people.import_csv(csv, list_name="members", by=person(ANNA, Role.EDITOR))
    flow.send_test_copy(press.id, ANNA, by=person(ANNA, Role.EDITOR))
    people.erase("erika@example.org", by=person(DORA, Role.ADMIN))
    assert all("erika" not in (e.summary + str(e.details)).lower() for e in audit.entries(pg_store))
    assert [e.action for e in audit.entries(pg_store, user=DORA)] == ["erase"]
