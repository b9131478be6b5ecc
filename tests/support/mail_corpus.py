"""Every mail template rendered for real, in German and English: a newsletter of seed
items (images with credits, one whose summary carries its credit already), a press
release with embargo, image, credit and press contact, the opt-in mail and the welcome
mail of a list.

The mail-detail tests (dark mode, validity, narrow screens, accessible names) run over
all of them, so a new template or section is checked by adding it here.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.mailings.compose import compose_newsletter, compose_press
from pipeline.render import RenderedMailing, render_confirmation, render_welcome
from pipeline.store import Store
from tests.support.mail_items import TITLES, add_item, seed_paragraphs
from tests.support.settings import BASE, make_settings

LANGS = ("de", "en")
SECRET = "ein-langes-geheimnis-fuer-signierte-links-0123"
PHONE = "+49 30 1234567-0"
CREDIT = "©NJB/Sebastian Bolesch"
# A summary that names its photo's credit itself (as WordPress feeds often do).
SUMMARY_WITH_CREDIT = (
    "Das Netzwerktreffen der jungen Bürgermeisterinnen und Bürgermeister fand am 15. und "
    f"16. Juni in Berlin statt. Foto: {CREDIT}"
)
# A press release whose text names the press contact with a phone number mid-sentence.
PRESS_CONTACT_PARAGRAPH = (
    "Für Rückfragen steht Ihnen die Pressestelle des Netzwerks Junge Bürgermeister*innen "
    f"gern zur Verfügung: Jana Köhler, Telefon {PHONE}, Marienstraße 6, 10117 Berlin."
)


def corpus_settings(tmp_path: Path, **overrides: object) -> Settings:
    data: dict[str, object] = {
        "compose": {"languages": ["de", "en"]},
        "organisation": {
            "privacy_url": "https://www.junge-buergermeister.example/datenschutz",
            "logo_url": "https://www.junge-buergermeister.example/logo.png",
        },
        "press": {
            "contact_name": "Jana Köhler",
            "contact_email": "presse@junge-buergermeister.example",
            "contact_phone": PHONE,
        },
        # the press list greets new journalists (the welcome mail of the corpus)
        "lists": [
            {**m, "welcome": "welcome"} if m["name"] == "press" else m for m in BASE["lists"]
        ],
    }
    data.update(overrides)
    return make_settings(tmp_path, **data)


def render_corpus(settings: Settings, store: Store, clock: FakeClock) -> dict[str, RenderedMailing]:
    """``newsletter-de`` … ``welcome-en`` -> the rendered mail (placeholders kept)."""
    now = clock.now()
    paragraphs = seed_paragraphs()
    for n in range(7):
        add_item(
            store,
            title=TITLES[n],
            kind=("article", "event_report")[n % 2],
            published_at=now - timedelta(days=n, hours=1),
            summary=SUMMARY_WITH_CREDIT if n == 0 else paragraphs[n % len(paragraphs)][:280],
            image_url=None if n == 3 else f"https://www.junge-buergermeister.example/bild-{n}.jpg",
            author="Jana Köhler" if n == 1 else None,
        )
    press_item = add_item(
        store,
        title="Junge Bürgermeister*innen fordern Entlastung bei Förderanträgen",
        kind="press_release",
        published_at=now - timedelta(hours=2),
        summary=paragraphs[1][:280],
        content_html="".join(f"<p>{p}</p>" for p in paragraphs[0:4])
        + f"<p>{PRESS_CONTACT_PARAGRAPH}</p>",
        author="Jana Köhler",
    )
    flow = Workflow(settings, store, clock)
    newsletter = compose_newsletter(settings, store, clock=clock)
    assert newsletter is not None
    press = compose_press(settings, store, press_item, clock=clock, embargo=now + timedelta(1))
    out: dict[str, RenderedMailing] = {}
    for name, mailing in (("newsletter", newsletter), ("press", press)):
        for lang, rendered in flow.renders(flow.get(mailing.id), fresh=True).items():
            out[f"{name}-{lang}"] = rendered
    for lang in LANGS:
        out[f"confirmation-{lang}"] = render_confirmation(
            settings,
            language=lang,
            list_name="press",
            confirm_url="https://rundbrief.junge-buergermeister.example/c/abc",
        )
        out[f"welcome-{lang}"] = render_welcome(settings, language=lang, list_name="press")
    return out
