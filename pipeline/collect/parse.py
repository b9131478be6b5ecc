"""Parsing: fetched bytes → ``ParsedFeed`` of frozen, raw ``EntryData`` (no I/O).

feedparser reads every RSS and Atom flavour and honours the declared encoding (the HTTP
``charset`` first, then the XML declaration). Its own sanitizer and relative-URI
rewriting are switched off: they are slow and we sanitize with nh3 later, and only
entries that changed (see ``decide``). Values here are as the feed sent them; making
them safe is ``sanitize``'s job.

A document without a feed version and without entries (an HTML page, an error page,
garbage) is a ``FeedError``. A feed that is slightly broken (feedparser's "bozo") but
still yields entries is parsed, and the problem is reported as a warning.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.errors import FeedError

# feedparser flags these although the document is fine (files have no Content-Type).
_HARMLESS_BOZO = ("NonXMLContentType", "CharacterEncodingOverride")


@dataclass(frozen=True)
class MediaImage:
    """An image the feed names for an entry (media:content/thumbnail, an enclosure)."""

    url: str
    alt: str | None = None
    credit: str | None = None


@dataclass(frozen=True)
class EntryData:
    """One entry as parsed, before identity, sanitizing or storage."""

    guid: str | None
    link: str | None
    title: str  # may hold markup (RSS titles are ambiguous); sanitize makes it text
    content_html: str
    summary_html: str
    author: str | None
    published: datetime | None
    updated: datetime | None
    tags: tuple[str, ...]
    images: tuple[MediaImage, ...]
    base_url: str  # xml:base when the feed sets one, else ""
    language: str


@dataclass(frozen=True)
class ParsedFeed:
    version: str
    title: str
    link: str
    language: str
    entries: tuple[EntryData, ...]
    warning: str | None = None


def parse_feed(
    body: bytes, *, url: str, content_type: str | None = None, name: str | None = None
) -> ParsedFeed:
    """Parse a fetched document; raise ``FeedError`` when it is not a feed.

    Well-formed RSS 2.0, Atom 1.0 and RSS 1.0 take the fast path (``fastparse``), which
    yields what feedparser would; everything else goes through feedparser.
    """
    from pipeline.collect.fastparse import Unsupported, fast_parse

    try:
        return fast_parse(body, url=url, content_type=content_type)
    except Unsupported:
        return parse_with_feedparser(body, url=url, content_type=content_type, name=name)


def parse_with_feedparser(
    body: bytes, *, url: str, content_type: str | None = None, name: str | None = None
) -> ParsedFeed:
    """The reference path: feedparser, for every format and every kind of brokenness."""
    import feedparser  # only here: an unchanged feed (HTTP 304) never imports it

    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    try:
        parsed = feedparser.parse(
            body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as exc:  # feedparser should not raise; if it does, it is this feed's
        raise FeedError(f"cannot parse: {exc}", feed=name) from exc
    version = parsed.get("version") or ""
    raw_entries = parsed.get("entries") or []
    problem = _bozo_message(parsed)
    if not version and not raw_entries:
        head = body[:512].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
            raise FeedError("not a feed: the URL returned an HTML page", feed=name)
        raise FeedError(f"not a feed: {problem or 'no RSS or Atom document found'}", feed=name)
    feed = parsed.get("feed") or {}
    language = _language(feed.get("language"))
    entries = tuple(
        entry
        for entry in (_entry(raw, base=url, language=language) for raw in raw_entries)
        if entry is not None
    )
    warning = f"feed is malformed but yielded entries: {problem}" if problem else None
    if problem and not entries:
        raise FeedError(f"malformed feed without entries: {problem}", feed=name)
    return ParsedFeed(
        version=version,
        title=str(feed.get("title") or ""),
        link=str(feed.get("link") or ""),
        language=language,
        entries=entries,
        warning=warning,
    )


def _bozo_message(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if exc is None or type(exc).__name__ in _HARMLESS_BOZO:
        return None
    line = getattr(exc, "getLineNumber", None)
    where = f" (line {line()})" if callable(line) else ""
    return f"{exc}{where}"


def _entry(raw: Any, *, base: str, language: str) -> EntryData | None:
    title = str(raw.get("title") or "")
    link = _link(raw)
    content = _content(raw)
    summary = _text_value(raw.get("summary_detail")) or str(raw.get("summary") or "")
    guid = str(raw.get("id") or "").strip() or None
    if not (title or link or content or summary or guid):
        return None  # a fragment a broken feed left behind: nothing to identify
    # feedparser reports the fetch URL as the base unless xml:base says otherwise.
    explicit = _base(raw)
    entry_base = explicit if explicit != base else ""
    return EntryData(
        guid=guid,
        link=link,
        title=title,
        content_html=content or summary,
        summary_html=summary,
        author=_author(raw),
        # dict.get: FeedParserDict would answer "updated" with the published date
        published=_instant(dict.get(raw, "published_parsed")),
        updated=_instant(dict.get(raw, "updated_parsed")),
        tags=_tags(raw),
        images=_images(raw),
        base_url=entry_base,
        language=_language(_detail_language(raw)) or language,
    )


def _link(raw: Any) -> str | None:
    for link in raw.get("links") or []:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"]).strip()
    value = raw.get("link")
    return str(value).strip() if value else None


def _content(raw: Any) -> str:
    """The fullest HTML body: content:encoded / atom:content before the summary."""
    contents = raw.get("content") or []
    best = ""
    for item in contents:
        value = _text_value(item)
        if value and (not best or item.get("type", "").endswith("html")):
            best = value
    return best


def _text_value(detail: Any) -> str:
    # Plain text goes through the HTML sanitizer as well: RSS marks nearly everything
    # text/plain and feedparser only guesses, so markup found there is treated as markup.
    return str(detail.get("value") or "") if detail else ""


def _base(raw: Any) -> str:
    for key in ("content", "summary_detail", "title_detail"):
        detail = raw.get(key)
        if isinstance(detail, list):
            detail = detail[0] if detail else None
        if detail and detail.get("base"):
            return str(detail["base"])
    return ""


def _detail_language(raw: Any) -> str | None:
    for key in ("content", "summary_detail", "title_detail"):
        detail = raw.get(key)
        if isinstance(detail, list):
            detail = detail[0] if detail else None
        if detail and detail.get("language"):
            return str(detail["language"])
    return None


def language_of(value: Any) -> str:
    """``de-DE`` → ``de``: mails pick locale strings by the primary subtag."""
    text = str(value or "").strip().replace("_", "-")
    return text.split("-")[0].lower() if text else ""


_language = language_of


def _author(raw: Any) -> str | None:
    value = raw.get("author") or (raw.get("author_detail") or {}).get("name")
    return str(value).strip() or None if value else None


def _instant(parsed: time.struct_time | None) -> datetime | None:
    # feedparser normalises every date to UTC in a struct_time (offsets already applied).
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _tags(raw: Any) -> tuple[str, ...]:
    return entry_tags(
        str(tag.get("label") or tag.get("term") or "") for tag in raw.get("tags") or []
    )


def entry_tags(terms: Iterable[str]) -> tuple[str, ...]:
    """Tags in order, stripped, without empties or case-insensitive repeats."""
    seen: dict[str, str] = {}
    for term in terms:
        term = term.strip()
        if term and term.casefold() not in seen:
            seen[term.casefold()] = term
    return tuple(seen.values())


def _images(raw: Any) -> tuple[MediaImage, ...]:
    credits = [str(c.get("content") or "").strip() for c in raw.get("media_credit") or []]
    credit = next((c for c in credits if c), None)
    found: list[MediaImage] = []
    for media in raw.get("media_content") or []:
        url = str(media.get("url") or "").strip()
        medium = str(media.get("medium") or "")
        mime = str(media.get("type") or "")
        if url and (medium == "image" or mime.startswith("image/") or _looks_like_image(url)):
            found.append(MediaImage(url=url, credit=credit))
    for thumb in raw.get("media_thumbnail") or []:
        url = str(thumb.get("url") or "").strip()
        if url:
            found.append(MediaImage(url=url, credit=credit))
    for link in raw.get("links") or []:
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            found.append(MediaImage(url=str(link.get("href") or ""), credit=credit))
    for enclosure in raw.get("enclosures") or []:
        href = str(enclosure.get("href") or "")
        if href and str(enclosure.get("type", "")).startswith("image/"):
            found.append(MediaImage(url=href, credit=credit))
    unique: dict[str, MediaImage] = {}
    for image in found:
        if image.url and image.url not in unique:
            unique[image.url] = image
    return tuple(unique.values())


def _looks_like_image(url: str) -> bool:
    return url.lower().split("?")[0].endswith((".jpg", ".jpeg", ".png", ".gif", ".webp"))
