"""Details of every rendered mail (``tests.support.mail_corpus``): the preheader's
padding, image attributes, accessible "Weiterlesen" links, photo credits once per part,
phone numbers and addresses whole in the text part."""

from __future__ import annotations

import html
import re

import pytest

from pipeline.render import RenderedMailing
from pipeline.render.text import wrap
from tests.support.mail_corpus import CREDIT, PHONE

NAMES = [f"{kind}-{lang}" for kind in ("newsletter", "press", "confirmation", "welcome") for lang in ("de", "en")]  # fmt: skip
_PREVIEW = re.compile(r'<div style="display:none;mso-hide:all;[^"]*">(.*?)</div>', re.S)
_PADDING_CHARS = {"\u034f", "\u200c", "\u00a0", " "}


@pytest.mark.parametrize("name", NAMES)
def test_preheader_is_padded(corpus: dict[str, RenderedMailing], name: str) -> None:
    """Inbox lists show the preheader and then whatever text follows ("Im Browser
    ansehen", the organisation): invisible padding after it fills the line."""
    found = _PREVIEW.search(corpus[name].html)
    assert found is not None
    hidden = html.unescape(found.group(1))
    text = hidden.rstrip("".join(_PADDING_CHARS))
    assert text and not set(text) <= _PADDING_CHARS
    padding = hidden[len(text) :]
    assert len(padding) >= 150, f"{len(padding)} padding characters after the preheader"
    assert set(padding) <= _PADDING_CHARS


@pytest.mark.parametrize("name", NAMES)
def test_images_have_no_invalid_height(corpus: dict[str, RenderedMailing], name: str) -> None:
    images = re.findall(r"<img\b[^>]*>", corpus[name].html)
    for tag in images:
        height = re.search(r'\sheight="([^"]*)"', tag)
        assert height is None or height.group(1).isdigit(), tag
        width = re.search(r'\swidth="([^"]*)"', tag)
        assert width is not None and width.group(1).isdigit(), tag  # Outlook needs it


def _visible_texts(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.mark.parametrize("lang", ["de", "en"])
def test_photo_credit_once_in_each_part(corpus: dict[str, RenderedMailing], lang: str) -> None:
    newsletter = corpus[f"newsletter-{lang}"]
    body = newsletter.html.split("<body", 1)[1]
    photos = len(re.findall(r'<img\b[^>]*src="[^"]*/(?:bild-\d|bilder/)', body))
    assert photos == 7
    # one item's summary ends in "Foto: ©…" itself: its caption is not repeated
    assert _visible_texts(body).count(CREDIT) == photos
    assert newsletter.text.count(CREDIT) == photos

    press = corpus[f"press-{lang}"]  # the release's text carries its credit already
    assert _visible_texts(press.html.split("<body", 1)[1]).count(CREDIT) == 1
    assert press.text.count(CREDIT) == 1


@pytest.mark.parametrize("lang", ["de", "en"])
def test_phone_and_address_whole_in_text_part(
    corpus: dict[str, RenderedMailing], lang: str
) -> None:
    text = corpus[f"press-{lang}"].text
    flat = " ".join(text.split())
    assert flat.count(PHONE) == 2  # in the release's text and in the press contact
    lines = text.splitlines()
    assert sum(PHONE in line for line in lines) == 2, "a phone number broken over lines"
    assert any("Marienstraße 6, 10117 Berlin" in line for line in lines)
    assert not any(line.endswith(("Marienstraße", "10117")) for line in lines)


@pytest.mark.parametrize(
    "text",
    [
        f"Für Rückfragen erreichen Sie die Pressestelle unter der Nummer {PHONE} oder per Mail.",
        "Bitte rufen Sie uns an: Telefon (030) 123 456 78, Fax 030 123456-99, jederzeit gern.",
        "Unsere Geschäftsstelle finden Sie in der Marienstraße 6, 10117 Berlin-Mitte, gleich hier.",
    ],
)
def test_wrap_keeps_phone_numbers_and_postal_lines_whole(text: str) -> None:
    for width in range(30, 80):
        lines = wrap(text, width).splitlines()
        joined = " ".join(lines)
        assert joined == " ".join(text.split())
        for piece in ("+49 30 1234567-0", "(030) 123 456 78", "030 123456-99", "Marienstraße 6", "10117 Berlin-Mitte"):  # fmt: skip
            if piece in text:
                assert any(piece in line for line in lines), (width, piece, lines)
