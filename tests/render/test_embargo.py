"""A press release under embargo says so where a journalist looks first (issue 13):
the subject starts with the Sperrfrist, and the top of the HTML and of the text part
state it with weekday, date, time and zone, in the mail's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings.compose import compose_press
from pipeline.store import Store
from tests.support.mail_items import add_item
from tests.support.mailings import render_mailing

TITLE = "Junge Bürgermeister*innen fordern ein Investitionsprogramm"
WINTER = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # Thursday 3 December, 10:00 in Berlin


def _release(settings: Settings, store: Store, clock: FakeClock, **times: datetime) -> int:
    item = add_item(
        store, title=TITLE, kind="press_release", published_at=clock.now() - timedelta(hours=1)
    )
    return compose_press(settings, store, item, clock=clock, **times).id


def test_subject_html_and_text_state_the_embargo_in_german(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing_id = _release(settings, store, clock, embargo=WINTER)
    (rendered,) = render_mailing(settings, store, mailing_id, clock=clock)
    assert rendered.subject == f"SPERRFRIST 3.12.2026, 10:00 Uhr: {TITLE}"
    notice = "Sperrfrist: Donnerstag, 3. Dezember 2026, 10:00 Uhr (MEZ)"
    assert notice in rendered.html
    # at the top: before the title and the text
    assert rendered.html.index(notice) < rendered.html.index("<h1")
    assert f"*** {notice} ***" in rendered.text
    assert rendered.text.index(notice) < rendered.text.index(TITLE.upper())
    assert "Bitte veröffentlichen Sie diese Mitteilung nicht" in rendered.text
    # the public copy answers 404 until the embargo: the mail does not point to it
    assert "/archive/" not in rendered.html and "/archive/" not in rendered.text


def test_subject_and_notice_in_english(settings_factory: object, clock: FakeClock) -> None:
    settings = settings_factory(compose={"languages": ["en"]})  # type: ignore[operator]
    store = Store.open(settings.database_url())
    summer = datetime(2026, 6, 23, 8, 0, tzinfo=UTC)  # 10:00 CEST
    mailing_id = _release(settings, store, clock, embargo=summer)
    (rendered,) = render_mailing(settings, store, mailing_id, clock=clock)
    # babel puts a narrow no-break space before "AM"
    subject, text = (s.replace("\u202f", " ") for s in (rendered.subject, rendered.text))
    assert subject == f"EMBARGOED UNTIL 23 Jun 2026, 10:00 AM: {TITLE}"
    assert "Embargoed until Tuesday, June 23, 2026, 10:00 AM (CEST)" in text
    assert "Tuesday, June 23, 2026" in rendered.html and "(CEST)" in rendered.html
    store.close()


def test_a_send_time_alone_is_no_embargo(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing_id = _release(settings, store, clock, send_at=WINTER)
    (rendered,) = render_mailing(settings, store, mailing_id, clock=clock)
    assert rendered.subject == TITLE
    assert "Sperrfrist" not in rendered.html and "Sperrfrist" not in rendered.text
    assert f"/archive/{mailing_id}" in rendered.html and f"/archive/{mailing_id}" in rendered.text
