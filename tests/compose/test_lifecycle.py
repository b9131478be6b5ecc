"""The mailing lifecycle through the workflow layer: checked steps, edits, approval
under the policy with a stored render, ``scheduled`` for a send time ahead."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest

from pipeline.access import Actor
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ApprovalRefused, ComposeError, TransitionError
from pipeline.mailings import Workflow
from pipeline.mailings.compose import compose_newsletter
from pipeline.models import Mailing, MailingStatus
from pipeline.store import Store
from pipeline.store import mailings as sm
from pipeline.store.renders import load_render as load_rendered
from tests.support.mail_items import add_items
from tests.support.mailings import actor, set_status

S = MailingStatus
ED = actor()


@pytest.fixture
def draft(settings: Settings, store: Store, clock: FakeClock) -> Mailing:
    add_items(store, clock.now(), 4, kinds=("article", "event_report"))
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    return mailing


@pytest.fixture
def flow(settings: Settings, store: Store, clock: FakeClock) -> Workflow:
    return Workflow(settings, store, clock)


def test_approve_renders_stores_and_records_who(
    flow: Workflow, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    assert load_rendered(store, draft.id, "de") is None
    clock.advance(60)
    approved = flow.approve(draft.id, by=actor("redaktion@example.org"))
    assert approved.status == S.APPROVED
    assert approved.approved_at == clock.now()
    assert sm.approved_by(store, draft.id) == "redaktion@example.org"
    stored = load_rendered(store, draft.id, "de")
    assert stored is not None and stored.subject == draft.subject
    # the approved render is frozen: the workflow returns the stored bytes unchanged
    assert flow.renders(approved, fresh=True)["de"] == stored


def test_approve_with_a_send_time_ahead_schedules(
    flow: Workflow, clock: FakeClock, draft: Mailing
) -> None:
    flow.set_send_at(draft.id, clock.now() + timedelta(hours=3), by=ED)
    assert flow.approve(draft.id, by=actor("x")).status == S.SCHEDULED
    # clearing (or moving) the send time is an edit: the render states it, approve anew
    assert flow.clear_send_at(draft.id, by=ED).status == S.DRAFT
    assert flow.approve(draft.id, by=actor("x")).status == S.APPROVED


def test_the_approval_policy_decides(
    settings: Settings, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    def only_chief(mailing: Mailing, by: Actor) -> str | None:
        return None if by.email == "chefin" else "only the chief approves"

    strict = Workflow(settings, store, clock, policy=only_chief)
    with pytest.raises(ApprovalRefused, match="only the chief approves"):
        strict.approve(draft.id, by=actor("praktikant"))
    assert sm.get_mailing(store, draft.id).status == S.DRAFT
    assert strict.approve(draft.id, by=actor("chefin")).status == S.APPROVED


def test_an_edit_between_render_and_approval_is_not_approved(
    flow: Workflow, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    seen = draft.updated_at
    clock.advance(5)
    flow.edit(draft.id, subject="Von jemand anderem", by=ED)
    with pytest.raises(TransitionError, match="changed in the meantime"):
        flow.approve(draft.id, by=actor("x"), version=seen)
    assert sm.get_mailing(store, draft.id).status == S.DRAFT


def test_editing_an_approved_mailing_returns_it_to_draft_and_drops_the_render(
    flow: Workflow, store: Store, draft: Mailing
) -> None:
    flow.approve(draft.id, by=actor("x"))
    edited = flow.edit(draft.id, subject="Sommerausgabe", by=ED)
    assert edited.status == S.DRAFT
    assert edited.approved_at is None
    assert edited.subject == "Sommerausgabe"
    assert load_rendered(store, draft.id, "de") is None


def test_drop_move_add_and_restore_items(flow: Workflow, draft: Mailing) -> None:
    a, b, c, d = draft.item_ids
    assert flow.drop_item(draft.id, b, by=ED).item_ids == (a, c, d)
    assert flow.move_item(draft.id, d, 1, by=ED).item_ids == (d, a, c)
    assert flow.move_item(draft.id, d, 3, by=ED).item_ids == (a, c, d)
    with pytest.raises(ComposeError, match="not in this mailing"):
        flow.drop_item(draft.id, b, by=ED)
    with pytest.raises(ComposeError, match=r"outside 1\.\.3"):
        flow.move_item(draft.id, a, 4, by=ED)
    with pytest.raises(ComposeError, match="twice"):
        flow.edit(draft.id, item_ids=[a, a], by=ED)
    assert flow.restore_item(draft.id, b, position=2, by=ED).item_ids == (a, b, c, d)
    with pytest.raises(ComposeError, match="no such item"):
        flow.add_item(draft.id, 999, by=ED)


def test_embargo_is_edited_and_cleared(flow: Workflow, clock: FakeClock, draft: Mailing) -> None:
    when = clock.now() + timedelta(days=1)
    assert flow.set_send_at(draft.id, when, by=ED).send_at == when
    assert flow.clear_send_at(draft.id, by=ED).send_at is None
    # not passing send_at leaves it alone
    flow.set_send_at(draft.id, when, by=ED)
    assert flow.edit(draft.id, subject="x", by=ED).send_at == when


def test_the_whole_way_to_sent_and_what_is_refused(
    flow: Workflow, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    with pytest.raises(TransitionError, match="draft; it cannot become sending"):
        set_status(store, draft.id, S.SENDING, clock=clock)
    flow.approve(draft.id, by=actor("x"))
    set_status(store, draft.id, S.SENDING, clock=clock)
    paused = flow.pause(draft.id, reason="zu viele Fehler", by=ED)
    assert paused.paused_reason == "zu viele Fehler"
    with pytest.raises(TransitionError, match="can no longer be edited"):
        flow.edit(draft.id, subject="zu spät", by=ED)
    set_status(store, draft.id, S.SENDING, clock=clock)
    sent = set_status(store, draft.id, S.SENT, clock=clock)
    assert sent.status == S.SENT and sent.sent_at == clock.now()
    for target in (S.DRAFT, S.CANCELLED, S.SENDING):
        with pytest.raises(TransitionError, match="sent; it cannot become"):
            set_status(store, draft.id, target, clock=clock)
    with pytest.raises(TransitionError, match="sent; it cannot become cancelled"):
        flow.cancel(draft.id, by=ED)


def test_a_sending_mailing_cannot_be_cancelled_or_approved_again(
    flow: Workflow, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    flow.approve(draft.id, by=actor("x"))
    with pytest.raises(TransitionError, match="approved; it cannot become approved"):
        flow.approve(draft.id, by=actor("x"))
    set_status(store, draft.id, S.SENDING, clock=clock)
    with pytest.raises(TransitionError, match="sending; it cannot become cancelled"):
        flow.cancel(draft.id, by=ED)


def test_the_store_refuses_a_step_the_table_does_not_have(
    store: Store, clock: FakeClock, draft: Mailing
) -> None:
    with pytest.raises(ValueError, match="draft → sent is not a step"):
        sm.set_status(store, draft.id, S.SENT, expected=S.DRAFT, now=clock.now())
    # the expected status is part of the update: a stale caller changes nothing
    assert not sm.set_status(store, draft.id, S.SENDING, expected=S.APPROVED, now=clock.now())
    assert sm.get_mailing(store, draft.id).status == S.DRAFT


def test_unknown_mailing(store: Store, clock: FakeClock) -> None:
    with pytest.raises(ComposeError, match="mailing 42: no such mailing"):
        sm.get_mailing(store, 42)
    assert sm.find_mailing(store, 42) is None
    with pytest.raises(ComposeError, match="mailing 42"):
        Workflow(cast(Settings, None), store, clock).edit(42, subject="x", by=ED)


def test_list_mailings_filters(
    settings: Settings, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    assert [m.id for m in sm.list_mailings(store, status="draft")] == [draft.id]
    assert sm.list_mailings(store, status=[S.SENT, S.SENDING]) == []
    assert sm.list_mailings(store, kind="press") == []
    assert sm.list_mailings(store, kind="newsletter")[0].item_ids == draft.item_ids
