"""The mailing lifecycle: checked transitions, edits, approval with a stored render."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.clock import FakeClock
from pipeline.compose import compose_newsletter
from pipeline.config import Settings
from pipeline.errors import ComposeError
from pipeline.models import Mailing, MailingStatus
from pipeline.render import load_rendered, render_mailing
from pipeline.store import Store
from pipeline.store import mailings as sm
from tests.support.mail_items import add_items

S = MailingStatus


@pytest.fixture
def draft(settings: Settings, store: Store, clock: FakeClock) -> Mailing:
    add_items(store, clock.now(), 4, kinds=("article", "event_report"))
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    return mailing


def test_approve_renders_stores_and_records_who(
    settings: Settings, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    assert load_rendered(store, draft.id, "de") is None
    clock.advance(60)
    approved = sm.approve(
        store, draft.id, clock=clock, by="redaktion@example.org", settings=settings
    )
    assert approved.status == S.APPROVED
    assert approved.approved_at == clock.now()
    assert sm.approved_by(store, draft.id) == "redaktion@example.org"
    stored = load_rendered(store, draft.id, "de")
    assert stored is not None and stored.subject == draft.subject
    # the approved render is frozen: render_mailing returns the stored bytes unchanged
    assert render_mailing(settings, store, draft.id, clock=clock)[0] == stored


def test_approve_without_settings_needs_a_render(
    settings: Settings, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    with pytest.raises(ComposeError, match="no render for de"):
        sm.approve(store, draft.id, clock=clock, by="x")
    render_mailing(settings, store, draft.id, clock=clock)
    assert sm.approve(store, draft.id, clock=clock, by="x").status == S.APPROVED


def test_editing_an_approved_mailing_returns_it_to_draft_and_drops_the_render(
    settings: Settings, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    sm.approve(store, draft.id, clock=clock, by="x", settings=settings)
    edited = sm.edit_mailing(store, draft.id, clock=clock, subject="Sommerausgabe")
    assert edited.status == S.DRAFT
    assert edited.approved_at is None
    assert edited.subject == "Sommerausgabe"
    assert load_rendered(store, draft.id, "de") is None


def test_drop_and_move_items(store: Store, clock: FakeClock, draft: Mailing) -> None:
    a, b, c, d = draft.item_ids
    after = sm.drop_item(store, draft.id, b, clock=clock)
    assert after.item_ids == (a, c, d)
    after = sm.move_item(store, draft.id, d, 1, clock=clock)
    assert after.item_ids == (d, a, c)
    with pytest.raises(ComposeError, match="not in this mailing"):
        sm.drop_item(store, draft.id, b, clock=clock)
    with pytest.raises(ComposeError, match=r"outside 1\.\.3"):
        sm.move_item(store, draft.id, a, 4, clock=clock)
    with pytest.raises(ComposeError, match="twice"):
        sm.edit_mailing(store, draft.id, clock=clock, item_ids=[a, a])


def test_embargo_is_edited_and_cleared(store: Store, clock: FakeClock, draft: Mailing) -> None:
    when = clock.now() + timedelta(days=1)
    assert sm.edit_mailing(store, draft.id, clock=clock, send_at=when).send_at == when
    assert sm.edit_mailing(store, draft.id, clock=clock, send_at=None).send_at is None
    # not passing send_at leaves it alone
    sm.edit_mailing(store, draft.id, clock=clock, send_at=when)
    assert sm.edit_mailing(store, draft.id, clock=clock, subject="x").send_at == when


def test_the_whole_way_to_sent_and_what_is_refused(
    settings: Settings, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    with pytest.raises(ComposeError, match="draft; it cannot become sending"):
        sm.set_status(store, draft.id, S.SENDING, clock=clock)
    sm.approve(store, draft.id, clock=clock, by="x", settings=settings)
    sm.set_status(store, draft.id, S.SCHEDULED, clock=clock)
    sm.set_status(store, draft.id, S.SENDING, clock=clock)
    paused = sm.set_status(store, draft.id, S.PAUSED, clock=clock, reason="zu viele Fehler")
    assert paused.paused_reason == "zu viele Fehler"
    with pytest.raises(ComposeError, match="can no longer be edited"):
        sm.edit_mailing(store, draft.id, clock=clock, subject="zu spät")
    sm.set_status(store, draft.id, S.SENDING, clock=clock)
    sent = sm.set_status(store, draft.id, S.SENT, clock=clock)
    assert sent.status == S.SENT and sent.sent_at == clock.now()
    for target in (S.DRAFT, S.CANCELLED, S.SENDING):
        with pytest.raises(ComposeError, match="sent; it cannot become"):
            sm.set_status(store, draft.id, target, clock=clock)
    with pytest.raises(ComposeError, match="sent; it cannot become cancelled"):
        sm.cancel(store, draft.id, clock=clock)


def test_a_sending_mailing_cannot_be_cancelled_or_approved_again(
    settings: Settings, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    sm.approve(store, draft.id, clock=clock, by="x", settings=settings)
    with pytest.raises(ComposeError, match="approved; it cannot become approved"):
        sm.approve(store, draft.id, clock=clock, by="x", settings=settings)
    sm.set_status(store, draft.id, S.SENDING, clock=clock)
    with pytest.raises(ComposeError, match="sending; it cannot become cancelled"):
        sm.cancel(store, draft.id, clock=clock)


def test_unknown_mailing(store: Store, clock: FakeClock) -> None:
    with pytest.raises(ComposeError, match="mailing 42: no such mailing"):
        sm.get_mailing(store, 42)
    assert sm.find_mailing(store, 42) is None
    with pytest.raises(ComposeError, match="mailing 42"):
        sm.edit_mailing(store, 42, clock=clock, subject="x")


def test_list_mailings_filters(
    settings: Settings, store: Store, clock: FakeClock, draft: Mailing
) -> None:
    assert [m.id for m in sm.list_mailings(store, status="draft")] == [draft.id]
    assert sm.list_mailings(store, status=[S.SENT, S.SENDING]) == []
    assert sm.list_mailings(store, kind="press") == []
    assert sm.list_mailings(store, kind="newsletter")[0].item_ids == draft.item_ids
