"""Issue 12, item 3: the four-eyes rule of ``[approval]``. By default a press release
needs an approver who did not last edit it (composing counts), a newsletter any
approver; a list's rule can make a mailing stricter, never looser."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline import audit
from pipeline.access import Role
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ApprovalRefused, PermissionDenied
from pipeline.mailings import Workflow
from pipeline.models import MailingStatus
from pipeline.store import Store
from tests.audit.conftest import ANNA, BERT, CLARA, person

S = MailingStatus
anna = person(ANNA, Role.EDITOR)
bert = person(BERT, Role.APPROVER)
clara = person(CLARA, Role.APPROVER)


def test_an_editor_cannot_approve_the_press_release_she_wrote_another_approver_can(
    flow: Workflow, press_item: int
) -> None:
    press = flow.compose_press(press_item, by=anna)
    assert (press.composed_by, press.last_edited_by) == (ANNA, ANNA)
    with pytest.raises(PermissionDenied):
        flow.approve(press.id, by=anna)
    assert flow.approve(press.id, by=bert).status == S.APPROVED


def test_the_approver_who_edited_a_press_release_last_cannot_approve_it(
    flow: Workflow, store: Store, press_item: int
) -> None:
    press = flow.compose_press(press_item, by=anna)
    flow.edit(press.id, subject="Investitionsprogramm jetzt", by=bert)
    with pytest.raises(ApprovalRefused) as refused:
        flow.approve(press.id, by=bert)
    assert str(refused.value) == (
        f"mailing {press.id}: {BERT} may not approve it: {BERT} edited this press release "
        "last; another approver must approve it (four-eyes rule, [approval])"
    )
    assert flow.get(press.id).status == S.DRAFT
    assert [e.action for e in audit.entries(store, mailing=press.id)] == ["compose", "edit"]
    # the rule compares addresses, not spellings
    with pytest.raises(ApprovalRefused):
        flow.approve(press.id, by=person(BERT.upper(), Role.ADMIN))
    approved = flow.approve(press.id, by=clara)
    assert approved.approved_by == CLARA


def test_after_another_edit_the_first_author_may_approve(flow: Workflow, press_item: int) -> None:
    press = flow.compose_press(press_item, by=bert)
    flow.edit(press.id, preheader="Kurzfassung", by=clara)
    assert flow.approve(press.id, by=bert).status == S.APPROVED


def test_scheduling_is_approving_and_keeps_the_send_time_when_refused(
    flow: Workflow, clock: FakeClock, press_item: int
) -> None:
    press = flow.compose_press(press_item, by=bert)
    when = clock.now() + timedelta(days=1)
    with pytest.raises(ApprovalRefused, match="edited this press release last"):
        flow.schedule(press.id, when, by=bert)
    assert flow.get(press.id).send_at is None
    scheduled = flow.schedule(press.id, when, by=clara)
    assert scheduled.status == S.SCHEDULED and scheduled.send_at == when
    # setting the time as part of the approval does not make clara the last editor
    assert scheduled.last_edited_by == BERT


def test_any_approver_may_approve_a_newsletter_even_its_last_editor(flow: Workflow) -> None:
    newsletter = flow.compose_newsletter(by=bert)
    assert newsletter is not None
    flow.edit(newsletter.id, subject="Sommerausgabe", by=bert)
    assert flow.approve(newsletter.id, by=bert).status == S.APPROVED


def test_a_list_rule_makes_a_newsletter_four_eyes(
    settings_factory: object, store: Store, clock: FakeClock
) -> None:
    settings: Settings = settings_factory(approval={"lists": {"members": "four-eyes"}})  # type: ignore[operator]
    from tests.support.mail_items import add_items

    add_items(store, clock.now(), 3)
    flow = Workflow(settings, store, clock)
    newsletter = flow.compose_newsletter(by=bert)
    assert newsletter is not None and "members" in newsletter.lists
    with pytest.raises(ApprovalRefused, match="edited this newsletter last"):
        flow.approve(newsletter.id, by=bert)
    assert flow.approve(newsletter.id, by=clara).status == S.APPROVED


def test_press_releases_can_be_set_to_any_approver(
    settings_factory: object, store: Store, clock: FakeClock, press_item: int
) -> None:
    settings: Settings = settings_factory(approval={"press": "any-approver"})  # type: ignore[operator]
    flow = Workflow(settings, store, clock)
    press = flow.compose_press(press_item, by=bert)
    assert flow.approve(press.id, by=bert).status == S.APPROVED


def test_the_approval_table_is_checked(settings_factory: object) -> None:
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match=r"approval\.lists names list 'presse'"):
        settings_factory(approval={"lists": {"presse": "four-eyes"}})  # type: ignore[operator]
    with pytest.raises(ConfigError, match="approval"):
        settings_factory(approval={"press": "six-eyes"})  # type: ignore[operator]
