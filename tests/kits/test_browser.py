"""Issue 13, item 4: the press kit section in Chromium at 375 px (a phone): no
horizontal scrolling, the preview scales down, every image has its alt text."""

from __future__ import annotations

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.render import personalise
from pipeline.render.personalise import SAMPLE_VALUES
from pipeline.store import Store
from tests.support.browser import CHROMIUM, HAVE_CHROMIUM, chromium, open_mail
from tests.support.kits import ALT, CREDIT, EDITOR, LICENCE, pdf, photo, press_draft
from tests.support.web import set_editor_env

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason=f"{CHROMIUM} is missing (system-deps)"),
]


def test_the_kit_fits_a_phone(
    settings: Settings, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_editor_env(monkeypatch, settings)
    mailing = press_draft(settings, store, clock)
    flow = Workflow(settings, store, clock)
    flow.add_file(
        mailing.id, by=EDITOR, data=photo(1600, 1000), name="Rathaus Görlitz mit Marktplatz.jpg",
        credit=CREDIT, licence=LICENCE, alt_text=ALT,
    )  # fmt: skip
    flow.add_file(
        mailing.id, by=EDITOR, data=pdf(),
        name="Pressemappe-Investitionsprogramm-fuer-Kommunen-2026-Langfassung.pdf",
    )  # fmt: skip
    rendered = flow.renders(flow.get(mailing.id))["de"]
    html = personalise(rendered, SAMPLE_VALUES).html
    with chromium() as browser:
        page = open_mail(browser, html, width=375)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        images = page.evaluate(
            "Array.from(document.images).map(i => [i.alt, i.getBoundingClientRect().width])"
        )
        preview = [w for alt, w in images if alt == ALT]
        assert preview and 0 < preview[0] <= 375
        assert all(alt for alt, _ in images)
