"""Issue 12: each role allowed and refused each mailing and audience action through the
workflow layer, parametrized over the one role × action table (``access.LEAST_ROLE``).

A refused action raises ``PermissionDenied``, changes nothing and writes no audit
entry; an allowed one does its work and writes exactly one entry naming the actor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline import audit
from pipeline.access import LEAST_ROLE, Action, Actor, Role, allowed
from pipeline.clock import FakeClock
from pipeline.errors import PermissionDenied
from pipeline.mailings import Workflow
from pipeline.models import MailingStatus
from pipeline.store import Store
from pipeline.subscribers import Subscribers
from tests.audit.conftest import of_role, person
from tests.support.mailings import set_status

S = MailingStatus
SETUP = person("setup@junge-buergermeister.example", Role.ADMIN)
SUBSCRIBER = "max.muster@example.org"
TEST_TO = "redaktion@junge-buergermeister.example"


@dataclass
class World:
    flow: Workflow
    people: Subscribers
    store: Store
    clock: FakeClock
    csv: Path


def _draft(w: World) -> int:
    mailing = w.flow.compose_newsletter(by=SETUP)
    assert mailing is not None
    return mailing.id


def _approved(w: World) -> int:
    mailing_id = _draft(w)
    w.flow.approve(mailing_id, by=SETUP)
    return mailing_id


def _subscribed(w: World) -> None:
    w.people.import_csv(w.csv, list_name="members", by=SETUP)


# action -> (prepare, act, audit action, what an allowed act leaves behind)
Prepare = Callable[[World], Any]
Act = Callable[[World, Any, Actor], Any]
OPERATIONS: dict[str, tuple[Action, Prepare, Act, str]] = {
    "compose": (
        Action.COMPOSE,
        lambda w: None,
        lambda w, _, by: w.flow.compose_newsletter(by=by),
        "compose",
    ),
    "edit": (
        Action.EDIT,
        _draft,
        lambda w, mid, by: w.flow.edit(mid, subject="Neuer Betreff", by=by),
        "edit",
    ),
    "drop item": (
        Action.EDIT,
        _draft,
        lambda w, mid, by: w.flow.drop_item(mid, w.flow.get(mid).item_ids[0], by=by),
        "edit",
    ),
    "test copy": (
        Action.TEST_COPY,
        _draft,
        lambda w, mid, by: w.flow.send_test_copy(mid, TEST_TO, by=by),
        "test_copy",
    ),
    "approve": (Action.APPROVE, _draft, lambda w, mid, by: w.flow.approve(mid, by=by), "approve"),
    "schedule": (
        Action.SCHEDULE,
        _draft,
        lambda w, mid, by: w.flow.schedule(mid, w.clock.now() + timedelta(days=1), by=by),
        "schedule",
    ),
    "send": (Action.SEND, _approved, lambda w, mid, by: w.flow.send_now(mid, by=by), "send"),
    "pause": (
        Action.SEND,
        lambda w: set_status(w.store, _approved(w), S.SENDING, clock=w.clock).id,
        lambda w, mid, by: w.flow.pause(mid, reason="Rückfrage", by=by),
        "pause",
    ),
    "cancel": (Action.CANCEL, _draft, lambda w, mid, by: w.flow.cancel(mid, by=by), "cancel"),
    "import": (
        Action.IMPORT,
        lambda w: None,
        lambda w, _, by: w.people.import_csv(w.csv, list_name="members", by=by),
        "import",
    ),
    "unsubscribe": (
        Action.UNSUBSCRIBE,
        _subscribed,
        lambda w, _, by: w.people.unsubscribe(SUBSCRIBER, ["members"], by=by),
        "unsubscribe",
    ),
    "suppress": (
        Action.SUPPRESS,
        _subscribed,
        lambda w, _, by: w.people.suppress(SUBSCRIBER, "complaint", by=by),
        "suppress",
    ),
    "export": (
        Action.EXPORT,
        _subscribed,
        lambda w, _, by: w.people.export(SUBSCRIBER, by=by),
        "export",
    ),
    "erase": (
        Action.ERASE,
        _subscribed,
        lambda w, _, by: w.people.erase(SUBSCRIBER, by=by),
        "erase",
    ),
}


def test_every_mailing_and_audience_action_of_the_table_is_exercised() -> None:
    covered = {action for action, *_ in OPERATIONS.values()}
    # viewing and previewing refuse nobody; accounts and lists are the accounts tests'
    untested = {Action.VIEW, Action.PREVIEW, Action.MANAGE_ACCOUNTS, Action.MANAGE_LISTS}
    assert covered == set(LEAST_ROLE) - untested


@pytest.fixture
def world(
    flow: Workflow, people: Subscribers, store: Store, clock: FakeClock, csv_file: Any
) -> World:
    return World(flow, people, store, clock, csv_file(SUBSCRIBER))


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("name", list(OPERATIONS))
def test_each_role_is_allowed_or_refused_each_action(world: World, name: str, role: Role) -> None:
    action, prepare, act, logged = OPERATIONS[name]
    actor = of_role(role)
    target = prepare(world)
    before = audit.entries(world.store)
    if allowed(actor, action):
        act(world, target, actor)
        new = audit.entries(world.store)[len(before) :]
        assert [(e.action, e.actor_email, e.actor_role) for e in new] == [
            (logged, actor.email, str(role))
        ]
    else:
        with pytest.raises(PermissionDenied, match=f"needs the role {LEAST_ROLE[action]}"):
            act(world, target, actor)
        assert audit.entries(world.store) == before
        if isinstance(target, int):  # the mailing is as it was
            assert world.flow.get(target).status in (S.DRAFT, S.APPROVED, S.SENDING)
            assert world.flow.get(target).last_edited_by == SETUP.email


def test_a_refused_erase_keeps_the_person(world: World) -> None:
    _subscribed(world)
    with pytest.raises(PermissionDenied):
        world.people.erase(SUBSCRIBER, by=of_role(Role.APPROVER))
    assert world.people.export(SUBSCRIBER, by=of_role(Role.ADMIN))["subscriber"] is not None
