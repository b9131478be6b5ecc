"""HTML over compose.max_html_bytes: an error naming the size, or cut with a link."""

from __future__ import annotations

import pytest

from pipeline.clock import FakeClock
from pipeline.errors import ComposeError, RenderError
from pipeline.mailings.compose import compose_newsletter
from pipeline.render.checks import html_size
from pipeline.store import Store
from pipeline.store import mailings as sm
from pipeline.store.renders import load_render
from tests.support import mailings as mailing_ops
from tests.support.mail_items import add_items
from tests.support.mailings import render_mailing


def _newsletter(settings: object, clock: FakeClock, count: int = 12) -> tuple[Store, int]:
    store = Store.open(settings.database_url())  # type: ignore[attr-defined]
    add_items(store, clock.now(), count)
    mailing = compose_newsletter(settings, store, clock=clock)  # type: ignore[arg-type]
    assert mailing is not None
    return store, mailing.id


def test_twelve_seed_items_fit_the_default_limit(
    settings_factory: object, clock: FakeClock
) -> None:
    settings = settings_factory()  # type: ignore[operator]
    store, mailing_id = _newsletter(settings, clock)
    html = render_mailing(settings, store, mailing_id, clock=clock)[0].html
    assert html_size(html) < 80_000
    store.close()


def test_oversize_is_an_error_naming_the_size(settings_factory: object, clock: FakeClock) -> None:
    settings = settings_factory(compose={"max_html_bytes": 30_000})  # type: ignore[operator]
    store, mailing_id = _newsletter(settings, clock)
    with pytest.raises(RenderError) as caught:
        render_mailing(settings, store, mailing_id, clock=clock)
    message = str(caught.value)
    assert message.startswith(f"mailing {mailing_id} (de): the HTML is ")
    assert "KB" in message and "over the limit of 30 KB" in message
    assert "compose.max_html_bytes" in message and 'on_oversize = "cut"' in message
    # nothing half-done is stored, and approving fails the same way
    assert load_render(store, mailing_id, "de") is None
    with pytest.raises(RenderError, match="over the limit"):
        mailing_ops.approve(store, mailing_id, clock=clock, by="x", settings=settings)
    assert sm.get_mailing(store, mailing_id).status == "draft"
    store.close()


def test_oversize_cut_keeps_the_first_items_and_links_the_website(
    settings_factory: object, clock: FakeClock
) -> None:
    settings = settings_factory(  # type: ignore[operator]
        compose={"max_html_bytes": 30_000, "on_oversize": "cut"}
    )
    store, mailing_id = _newsletter(settings, clock)
    rendered = render_mailing(settings, store, mailing_id, clock=clock)[0]
    # measured with long sample values filled in, so a real recipient's copy fits too
    assert html_size(rendered.html) < 30_000
    assert "Mehr auf unserer Website" in rendered.html
    assert 'href="https://www.junge-buergermeister.example"' in rendered.html
    shown = rendered.html.count(">Weiterlesen<")
    assert 1 <= shown < 12
    assert "Weitere Beiträge dieser Woche finden Sie auf unserer Website." in rendered.text
    assert rendered.text.count("Weiterlesen [") == shown
    # the first items stay, the last ones go
    mailing = sm.get_mailing(store, mailing_id)
    first = store_title(store, mailing.item_ids[0])
    last = store_title(store, mailing.item_ids[-1])
    assert first in rendered.html and last not in rendered.html
    store.close()


def store_title(store: Store, item_id: int) -> str:
    from pipeline.store.items import get_item

    item = get_item(store, item_id)
    assert item is not None
    return item.title


def test_a_mailing_without_items_cannot_be_approved(
    settings_factory: object, clock: FakeClock
) -> None:
    settings = settings_factory()  # type: ignore[operator]
    store, mailing_id = _newsletter(settings, clock, count=1)
    # an editor cannot drop every item; a mailing whose items were all deleted can end so
    from pipeline.models import MailingStatus
    from pipeline.store import mailings as store_mailings

    store_mailings.update_mailing(
        store, mailing_id, expected=[MailingStatus.DRAFT], now=clock.now(), values={}, item_ids=[]
    )
    with pytest.raises(ComposeError, match="no items"):
        mailing_ops.approve(store, mailing_id, clock=clock, by="x", settings=settings)
    store.close()
