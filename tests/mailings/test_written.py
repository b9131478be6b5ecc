"""A press release written in Rundbrief (issue 12: "create press release from an item
or from text"): the text becomes an item of its own, the draft is made, rendered and
audited as one from a feed; bad input names its field and leaves nothing behind."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline import audit
from pipeline.access import Actor, Role
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ComposeError
from pipeline.mailings import Workflow, WrittenRelease
from pipeline.models import MailingKind
from pipeline.store import Store
from pipeline.store import items as store_items
from tests.support.mail_items import add_items, seed_paragraphs

ANNA = Actor("anna@junge-buergermeister.example", Role.EDITOR)
PHOTO = "https://www.junge-buergermeister.example/bilder/pressekonferenz.jpg"


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")


@pytest.fixture
def flow(settings: Settings, store: Store, clock: FakeClock) -> Workflow:
    return Workflow(settings, store, clock)


def _release(**changes: str) -> WrittenRelease:
    first, second = seed_paragraphs()[:2]
    values = {
        "title": "  Junge Bürgermeister*innen fordern\nein Investitionsprogramm ",
        "text_md": f"{first}\n\n**{second}**\n\n<script>alert(1)</script>",
        "image_url": PHOTO,
        "image_alt": "Drei Bürgermeisterinnen vor dem Rathaus",
        "image_credit": "Foto: ©NJB",
    }
    values.update(changes)
    return WrittenRelease(**values)


def test_a_written_release_is_a_draft_like_any_other(
    flow: Workflow, store: Store, clock: FakeClock
) -> None:
    embargo = clock.now() + timedelta(days=1)
    mailing = flow.compose_press_text(_release(), by=ANNA, embargo=embargo)
    assert mailing.kind == MailingKind.PRESS
    assert mailing.subject == "Junge Bürgermeister*innen fordern ein Investitionsprogramm"
    assert mailing.embargo_at == embargo and mailing.composed_by == ANNA.email
    (item_id,) = mailing.item_ids
    item = store_items.get_item(store, item_id)
    assert item is not None
    assert (item.kind, item.feed, item.eligible) == ("press_release", None, False)
    assert item.summary.startswith(seed_paragraphs()[0][:80])
    assert len(item.summary) <= 300
    # rendered as sent: the text as HTML, the Markdown's raw HTML shown as text
    (render,) = flow.renders(flow.get(mailing.id)).values()
    assert "<strong>" in render.html and seed_paragraphs()[1][:60] in render.html
    assert "<script>" not in render.html and "&lt;script&gt;" in render.html
    assert PHOTO in render.html and "Drei Bürgermeisterinnen vor dem Rathaus" in render.html
    (entry,) = audit.entries(store, mailing=mailing.id)
    assert (entry.action, entry.actor_email, entry.details["written"]) == (
        "compose",
        ANNA.email,
        True,
    )
    assert "from a written text" in entry.summary


def test_a_written_release_is_not_offered_to_the_newsletter(
    flow: Workflow, store: Store, clock: FakeClock
) -> None:
    add_items(store, clock.now(), 2)
    written = flow.compose_press_text(_release(), by=ANNA)
    newsletter = flow.compose_newsletter(by=ANNA)
    assert newsletter is not None
    assert written.item_ids[0] not in newsletter.item_ids


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " \n "}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"text_md": "  \n"}, "text"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"image_url": "http://www.junge-buergermeister.example/bild.jpg"}, "image_url"),
        ({"image_alt": " "}, "image_alt"),
        ({"image_url": ""}, "image_url"),  # description and credit without a photo
        ({"language": "fr"}, "language"),
    ],
)
def test_bad_input_names_its_field_and_leaves_nothing(
    flow: Workflow, store: Store, changes: dict[str, str], field: str
) -> None:
    with pytest.raises(ComposeError) as refused:
        flow.compose_press_text(_release(**changes), by=ANNA)
    assert refused.value.field == field
    assert store_items.count_items(store) == 0
    assert flow.list_mailings() == []


def test_a_past_embargo_leaves_no_item(flow: Workflow, store: Store, clock: FakeClock) -> None:
    with pytest.raises(ComposeError) as refused:
        flow.compose_press_text(_release(), by=ANNA, embargo=clock.now() - timedelta(minutes=1))
    assert refused.value.field == "embargo"
    assert store_items.count_items(store) == 0


def test_raw_html_in_the_text_is_shown_as_text(flow: Workflow, store: Store) -> None:
    mailing = flow.compose_press_text(_release(text_md="<p></p>"), by=ANNA)
    item = store_items.get_item(store, mailing.item_ids[0])
    assert item is not None and "&lt;p&gt;&lt;/p&gt;" in item.content_html
