"""A press release written in Rundbrief, not collected from a feed.

The press office often has the text before the website does (or it never goes on the
website). ``item_row`` turns what the editor wrote into an item of kind
``press_release`` without a feed, so the press release is composed, rendered, approved
and archived exactly like one from a feed. The item is not eligible for newsletters: it
has no page on the website for a newsletter card to link to.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from typing import Any

from pipeline.config import Settings
from pipeline.errors import ComposeError
from pipeline.render import markdown_to_html, safe_url

MAX_TITLE = 300
MAX_TEXT = 100_000
SUMMARY_CHARS = 300
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class WrittenRelease:
    """What the editor wrote: title and text (Markdown) are required; a link to the
    release on the web, a photo (https, with a description and a credit), an author and
    the language (default: the organisation's) are optional."""

    title: str
    text_md: str
    link: str = ""
    image_url: str = ""
    image_alt: str = ""
    image_credit: str = ""
    author: str = ""
    language: str = ""


def _plain(html: str) -> str:
    return " ".join(unescape(_TAGS.sub(" ", html)).split())


def _summary(html: str) -> str:
    first = html.split("</p>", 1)[0]
    text = _plain(first) or _plain(html)
    if len(text) <= SUMMARY_CHARS:
        return text
    return text[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _checked(release: WrittenRelease, settings: Settings) -> WrittenRelease:
    title = " ".join(release.title.split())
    if not title:
        raise ComposeError("the press release needs a title", field="title")
    if len(title) > MAX_TITLE:
        raise ComposeError(f"the title is longer than {MAX_TITLE} characters", field="title")
    if not release.text_md.strip():
        raise ComposeError("the press release needs a text", field="text")
    if len(release.text_md) > MAX_TEXT:
        raise ComposeError(f"the text is longer than {MAX_TEXT} characters", field="text")
    link = release.link.strip()
    if link and not safe_url(link).startswith(("https://", "http://")):
        raise ComposeError(f"link {link!r} is not an http(s) address", field="link")
    image = release.image_url.strip()
    if image:
        if not safe_url(image, image=True).startswith("https://"):
            # mail clients block or warn about images over plain http
            raise ComposeError(f"image_url {image!r} is not an https address", field="image_url")
        if not release.image_alt.strip():
            raise ComposeError(
                "the photo needs a description for people who cannot see it", field="image_alt"
            )
    elif release.image_alt.strip() or release.image_credit.strip():
        raise ComposeError("a description or credit without a photo", field="image_url")
    language = release.language.strip() or settings.organisation.language
    if language not in {settings.organisation.language, *settings.compose.languages}:
        raise ComposeError(f"language {language!r} is not one this site mails in", field="language")
    return WrittenRelease(
        title=title,
        text_md=release.text_md,
        link=link,
        image_url=image,
        image_alt=" ".join(release.image_alt.split()),
        image_credit=" ".join(release.image_credit.split()),
        author=" ".join(release.author.split()),
        language=language,
    )


def item_row(release: WrittenRelease, settings: Settings, now: datetime) -> dict[str, Any]:
    """The item of a written press release (``ComposeError`` naming the field at fault)."""
    release = _checked(release, settings)
    html = markdown_to_html(release.text_md)
    if not _plain(html):
        raise ComposeError("the text has nothing to show once cleaned", field="text")
    digest = hashlib.sha256(f"{release.title}\n{release.text_md}".encode()).hexdigest()
    return {
        "identity": f"rundbrief:press:{uuid.uuid4()}",
        "canonical_link": release.link or None,
        "feed_id": None,
        "kind": "press_release",
        "title": release.title,
        "link": release.link,
        "summary": _summary(html),
        "content_html": html,
        "image_url": release.image_url or None,
        "image_alt": release.image_alt or None,
        "image_credit": release.image_credit or None,
        "author": release.author or None,
        "published_at": now,
        "source_updated_at": None,
        "tags": [],
        "language": release.language,
        "content_hash": digest,
        "eligible": False,
        "first_seen_at": now,
        "updated_at": now,
    }
