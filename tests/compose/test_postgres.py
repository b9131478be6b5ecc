"""Compose, render and the lifecycle on PostgreSQL (the same code as on SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.clock import FakeClock
from pipeline.mailings.compose import compose_newsletter
from pipeline.models import MailingStatus
from pipeline.store import Store
from pipeline.store.renders import load_render as load_rendered
from tests.support import mailings as mailing_ops
from tests.support.mail_items import add_items
from tests.support.settings import make_settings

pytestmark = pytest.mark.postgres


def test_compose_approve_edit_cancel_on_postgres(
    tmp_path: Path, pg_url: str, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path, storage={"url": pg_url})
    store = Store.open(pg_url)
    try:
        ids = add_items(store, clock.now(), 4, kinds=("article", "event_report"))
        mailing = compose_newsletter(settings, store, clock=clock)
        assert mailing is not None and set(mailing.item_ids) == set(ids)
        assert compose_newsletter(settings, store, clock=clock) is None  # period is taken
        approved = mailing_ops.approve(store, mailing.id, clock=clock, by="x", settings=settings)
        assert approved.status == MailingStatus.APPROVED
        assert load_rendered(store, mailing.id, "de") is not None
        edited = mailing_ops.move_item(store, mailing.id, mailing.item_ids[-1], 1, clock=clock)
        assert edited.status == MailingStatus.DRAFT
        assert edited.item_ids[0] == mailing.item_ids[-1]
        assert load_rendered(store, mailing.id, "de") is None
        mailing_ops.cancel(store, mailing.id, clock=clock)
        again = compose_newsletter(settings, store, clock=clock)
        assert again is not None and again.id != mailing.id
    finally:
        store.close()


def test_send_time_and_embargo_on_postgres(tmp_path: Path, pg_url: str, clock: FakeClock) -> None:
    from datetime import timedelta

    from pipeline.access import Actor, Role
    from pipeline.errors import ComposeError
    from pipeline.mailings import Workflow
    from tests.support.mail_items import add_item

    settings = make_settings(tmp_path, storage={"url": pg_url})
    store = Store.open(pg_url)
    try:
        item = add_item(
            store,
            title="Junge Bürgermeister*innen fordern ein Investitionsprogramm",
            kind="press_release",
            published_at=clock.now() - timedelta(hours=1),
        )
        flow = Workflow(settings, store, clock)
        anna = Actor("anna@junge-buergermeister.example", Role.EDITOR)
        send_at, embargo = clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=3)
        made = flow.compose_press(item, by=anna, send_at=send_at, embargo=embargo)
        again = flow.get(made.id)
        assert (again.send_at, again.embargo_at) == (send_at, embargo)
        with pytest.raises(ComposeError, match="before the send time"):
            flow.set_embargo(made.id, send_at - timedelta(minutes=1), by=anna)
    finally:
        store.close()
