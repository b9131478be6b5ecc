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
