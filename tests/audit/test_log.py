"""Issue 12, item 4: the audit log has one entry per action with the right user, says
what an edit changed and to whom a test copy went, and an erased subscriber's address
is gone from it while the entries stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pipeline import audit
from pipeline.access import Actor, Role
from pipeline.clock import FakeClock
from pipeline.mailings import Workflow
from pipeline.store import Store
from pipeline.subscribers import Subscribers
from tests.audit.conftest import ANNA, BERT, CLARA, DORA, person

anna = person(ANNA, Role.EDITOR, channel="web")
bert = person(BERT, Role.APPROVER)
clara = person(CLARA, Role.APPROVER)
dora = person(DORA, Role.ADMIN)
TEST_TO = "redaktion@junge-buergermeister.example"


def test_a_mailings_life_is_one_entry_per_action_by_the_right_user(
    flow: Workflow, store: Store, clock: FakeClock
) -> None:
    web_anna = Actor(ANNA, Role.EDITOR, channel="web", address="192.0.2.7")
    newsletter = flow.compose_newsletter(by=web_anna)
    assert newsletter is not None
    clock.advance(minutes=5)
    flow.edit(newsletter.id, subject="Sommerausgabe", intro_md="Hallo!", by=bert)
    flow.send_test_copy(newsletter.id, TEST_TO, by=web_anna)
    flow.approve(newsletter.id, by=clara)
    flow.cancel(newsletter.id, by=dora)

    entries = audit.entries(store, mailing=newsletter.id)
    assert [(e.action, e.actor_email, e.actor_role, e.channel) for e in entries] == [
        ("compose", ANNA, "editor", "web"),
        ("edit", BERT, "approver", "cli"),
        ("test_copy", ANNA, "editor", "web"),
        ("approve", CLARA, "approver", "cli"),
        ("cancel", DORA, "admin", "cli"),
    ]
    compose, edit, test_copy, approve, cancel = entries
    assert compose.address == "192.0.2.7" and edit.address == ""
    assert edit.at == compose.at + timedelta(minutes=5)
    assert {e.target_kind for e in entries} == {"mailing"}
    assert {e.target_id for e in entries} == {str(newsletter.id)}
    # the edit says what changed, old and new
    assert "subject" in edit.summary and "'Sommerausgabe'" in edit.summary
    assert "intro text" in edit.summary
    assert edit.details["subject"]["to"] == "Sommerausgabe"
    assert test_copy.details["to"] == TEST_TO and TEST_TO in test_copy.summary
    assert "approved newsletter" in approve.summary
    assert cancel.details == {"was": "approved"}


def test_entries_by_user_and_since(flow: Workflow, store: Store, clock: FakeClock) -> None:
    first = flow.compose_newsletter(by=anna)
    assert first is not None
    clock.advance(days=2)
    cutoff = clock.now()
    flow.edit(first.id, subject="Zweite Fassung", by=bert)
    flow.approve(first.id, by=clara)
    assert [e.action for e in audit.entries(store, user=BERT)] == ["edit"]
    assert [e.action for e in audit.entries(store, user=BERT.upper())] == ["edit"]
    assert [e.action for e in audit.entries(store, since=cutoff)] == ["edit", "approve"]
    assert audit.entries(store, user=ANNA, since=cutoff) == []
    assert audit.entries(store, mailing=first.id + 1) == []


def test_audience_entries_name_the_subscriber_by_id_not_address(
    people: Subscribers, store: Store, csv_file: Any
) -> None:
    address = "max.muster@example.org"
    people.import_csv(csv_file(address), list_name="members", by=anna)
    people.unsubscribe(address, ["members"], by=anna)
    people.suppress(address, "complaint", detail=f"Beschwerde von {address}", by=bert)
    people.export(address, by=bert)
    subscriber = [e for e in audit.entries(store) if e.target_kind == "subscriber"]
    assert [e.action for e in subscriber] == ["unsubscribe", "suppress", "export"]
    ident = int(subscriber[0].target_id)
    assert [e.action for e in audit.entries(store, subscriber=ident)] == [
        "unsubscribe",
        "suppress",
        "export",
    ]
    for entry in audit.entries(store):
        assert address not in entry.summary + str(entry.details), entry


def test_erasing_keeps_the_entries_and_removes_the_address(
    people: Subscribers, flow: Workflow, store: Store, clock: FakeClock, csv_file: Any
) -> None:
    address = "Erika.Beispiel@Example.org"
    people.import_csv(csv_file(address, "other@example.org"), list_name="members", by=anna)
    people.unsubscribe(address, ["members"], by=anna)
    # an entry an adapter wrote with the address in it
    audit.record(
        store,
        anna,
        "note",
        target=("list", "members"),
        summary=f"Rückruf von {address.lower()} notiert",
        details={"contact": address, "nested": [{"who": address.upper()}]},
        clock=clock,
    )
    before = audit.entries(store)
    ident = int(next(e for e in before if e.action == "unsubscribe").target_id)

    people.erase(address, by=dora)

    after = audit.entries(store)
    assert [e.id for e in after[:-1]] == [e.id for e in before]  # nothing deleted
    erase = after[-1]
    assert (erase.action, erase.actor_email, erase.target_kind, erase.target_id) == (
        "erase",
        DORA,
        "subscriber",
        str(ident),
    )
    assert erase.details["audit_entries_scrubbed"] == 1
    for entry in after:
        text = (entry.summary + str(entry.details)).lower()
        assert "erika.beispiel" not in text, entry
    note = next(e for e in after if e.action == "note")
    assert note.summary == "Rückruf von [erased] notiert"
    assert note.details == {"contact": "[erased]", "nested": [{"who": "[erased]"}]}
    # the other subscriber's entries are untouched
    assert any("subscribed" in e.summary for e in after if e.action == "import")
    assert [e.action for e in audit.entries(store, subscriber=ident)] == ["unsubscribe", "erase"]
