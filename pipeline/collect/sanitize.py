"""Sanitizing: raw entry values → what an item keeps (safe HTML, plain text, lead image).

Feed HTML is hostile until it has been through ``nh3`` with an allow-list: no script,
no event handlers, no ``style``, no iframes, forms, objects or SVG, and only
``http``/``https``/``mailto``/``tel`` URLs (so no ``javascript:`` and no ``data:``).
Relative URLs are made absolute against the entry's base (``xml:base``, else the
entry's link, else the feed's site): an e-mail has no base URL of its own. One-pixel
images (tracking pixels) are dropped.

The lead image comes from ``media:content``/``media:thumbnail``/enclosures, else from
the first image in the content; its credit from ``media:credit``, else from a "©…" (or
"Foto: …") line in the image's caption or the content. Credit lines stay in the
content: German law wants the photographer named where the picture appears.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from pipeline.collect.parse import EntryData

if TYPE_CHECKING:
    import nh3

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del",
        "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4",
        "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q",
        "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
        "th", "thead", "time", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "time": {"datetime"},
    "abbr": {"title"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Removed together with everything inside them (not just the tag).
DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "form", "svg", "math", "noscript",
     "template", "textarea", "select", "button", "head", "title", "audio", "video",
     "canvas", "frameset", "applet"}
)  # fmt: skip


@functools.cache
def _text_only() -> nh3.Cleaner:
    import nh3

    return nh3.Cleaner(tags=set(), clean_content_tags=set(DROP_WITH_CONTENT), attributes={})


_IMG = re.compile(r"<img\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'([a-zA-Z-]+)="([^"]*)"')
_FIGURE = re.compile(r"<figure\b[^>]*>(.*?)</figure>", re.IGNORECASE | re.DOTALL)
_FIGCAPTION = re.compile(r"<figcaption\b[^>]*>(.*?)</figcaption>", re.IGNORECASE | re.DOTALL)
_BLOCK = re.compile(r"<(p|figcaption|li|h[1-6]|div|td)\b[^>]*>(.*?)</\1>", re.I | re.DOTALL)
_BREAKS = re.compile(r"</(p|div|h[1-6]|li|figcaption|blockquote|tr|td|th|dd|dt)>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")
_CREDIT = re.compile(r"(©.*|\((?:c|C)\)\s.*|(?:Fotos?|Bild|Quelle|Foto/Grafik)\s*:\s*\S.*)$")
# No leading \s*: the text is stripped after the marker is cut, and without it the
# search skips quickly to the marker's first character.
_READ_MORE = re.compile(r"(\[(?:…|\.\.\.)\]|…|\.\.\.|Weiterlesen\W*)\s*$")
_IFRAME = re.compile(
    r"<iframe\b[^>]*\bsrc=([\"'])(.*?)\1[^>]*>(?:.*?</iframe>)?", re.IGNORECASE | re.DOTALL
)
_VIDEO = re.compile(
    r"https?://(?:www\.)?(youtube(?:-nocookie)?\.com/embed|player\.vimeo\.com/video)/([\w-]+)",
    re.IGNORECASE,
)
_LAZY_IMG = re.compile(
    r"<img\b[^>]*\bdata-(?:lazy-)?src=([\"'])(.*?)\1[^>]*>", re.IGNORECASE | re.DOTALL
)
_SRC_ATTR = re.compile(r"\ssrc=([\"']).*?\1", re.IGNORECASE | re.DOTALL)
_EMPTY_BLOCK = re.compile(r"<(p|div|span|figure)>\s*</\1>")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_PIXEL = re.compile(r'\b(width|height)="[01](px)?"')


@dataclass(frozen=True)
class CleanEntry:
    title: str
    link: str
    summary: str
    content_html: str
    image_url: str | None
    image_alt: str | None
    image_credit: str | None
    author: str | None


def clean_entry(
    entry: EntryData,
    *,
    site: str = "",
    feed_url: str = "",
    summary_length: int = 320,
    sanitizer: Sanitizer | None = None,
) -> CleanEntry:
    """Turn a parsed entry into the safe values an item stores."""
    link = absolute_url(entry.link or "", entry.base_url or site or feed_url) or ""
    base = _pick_base(entry, link, site, feed_url)
    content = (sanitizer or Sanitizer()).clean(entry.content_html, base)
    title = html_to_text(entry.title, raw=True) or _first_words(content) or "(ohne Titel)"
    summary_source = entry.summary_html if entry.summary_html else content
    summary = truncate(
        html_to_text(summary_source, raw=summary_source is not content), summary_length
    )
    if not summary and summary_source is not content:
        summary = truncate(html_to_text(content), summary_length)
    image_url, image_alt, image_credit = lead_image(entry, content, base)
    return CleanEntry(
        title=title,
        link=link,
        summary=summary,
        content_html=content,
        image_url=image_url,
        image_alt=image_alt or (title if image_url else None),
        image_credit=image_credit,
        author=html_to_text(entry.author, raw=True) or None if entry.author else None,
    )


class Sanitizer:
    """One nh3 cleaner for a whole collect run (building one costs more than using it).

    Relative URLs are resolved by a callback against the base of the fragment being
    cleaned; a Sanitizer is therefore used by one thread at a time.
    """

    def __init__(self) -> None:
        self._base: str | None = None
        self._origin = ""

    @functools.cached_property
    def _cleaner(self) -> nh3.Cleaner:
        # made on first use: a run of unchanged feeds (HTTP 304) never imports nh3
        import nh3

        return nh3.Cleaner(
            tags=set(ALLOWED_TAGS),
            clean_content_tags=set(DROP_WITH_CONTENT),
            attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
            url_schemes=set(URL_SCHEMES),
            url_relative=self._resolve,
            link_rel="noopener noreferrer",
            strip_comments=True,
        )

    def _resolve(self, url: str) -> str | None:
        if not self._base:
            return None  # no web base (a file feed without links): drop the URL
        if url.startswith("/") and not url.startswith("//"):
            return self._origin + url  # the common case, without urljoin's cost
        try:
            return urljoin(self._base, url)
        except ValueError:
            return None

    def clean(self, value: str, base: str | None) -> str:
        """Allow-list sanitize ``value``; relative URLs become absolute against ``base``."""
        if not value:
            return ""
        if "<iframe" in value:
            value = _IFRAME.sub(_video_link, value)
        if "data-src" in value or "data-lazy-src" in value:
            value = _LAZY_IMG.sub(_unlazy, value)
        self._base = base
        if base:
            self._origin = "/".join(base.split("/", 3)[:3])  # scheme://host[:port]
        try:
            cleaned = self._cleaner.clean(value)
        finally:
            self._base = None
        if "<img" in cleaned:
            cleaned = _IMG.sub(_keep_image, cleaned)
        if "></" in cleaned:
            cleaned = _EMPTY_BLOCK.sub("", cleaned)
        if "\n" in cleaned:
            cleaned = _BLANK_LINES.sub("\n", cleaned)
        return cleaned.strip()


def sanitize_html(value: str, base: str | None) -> str:
    """``Sanitizer().clean`` for a single fragment."""
    return Sanitizer().clean(value, base)


def _video_link(match: re.Match[str]) -> str:
    # An embedded video cannot play in a mail; a link to it keeps the content whole.
    # Every other iframe disappears with the sanitizer.
    src = html.unescape(match.group(2)).strip()
    found = _VIDEO.match(src if "://" in src else "https:" + src)
    if not found:
        return match.group(0)
    host, ident = found.group(1), found.group(2)
    url = (
        f"https://vimeo.com/{ident}"
        if "vimeo" in host
        else f"https://www.youtube.com/watch?v={ident}"
    )
    return f'<p><a href="{url}">▶ {url}</a></p>'


def _unlazy(match: re.Match[str]) -> str:
    # Lazy-loading plugins put a placeholder (often a data: SVG) in src and the real
    # image in data-src; a mail client runs no script to swap them, so we do it here.
    tag = _SRC_ATTR.sub("", match.group(0))
    real = match.group(2).replace('"', "&quot;")
    return f'<img src="{real}"{tag[4:]}'


def _keep_image(match: re.Match[str]) -> str:
    attrs = match.group(1)
    # An image whose src was removed (data:, javascript:) or a 1x1 tracking pixel.
    if 'src="' not in attrs or len(_PIXEL.findall(attrs)) == 2:
        return ""
    return match.group(0)


def html_to_text(value: str | None, *, raw: bool = False) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, spaces collapsed.

    ``raw`` fragments are sanitized first (so script content disappears); fragments that
    came out of ``sanitize_html`` are already safe and well-formed.
    """
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        return " ".join(value.split())  # already plain text
    if raw:
        value = _text_only().clean(_BREAKS.sub(" ", value))
    else:
        value = _TAG.sub("", _BREAKS.sub(" ", value))
    # split() and re's \s agree on what whitespace is; join is the cheaper collapse
    return " ".join(html.unescape(value).split())


def truncate(text: str, length: int) -> str:
    """At most ``length`` characters, cut at a word boundary and marked with "…"."""
    shortened = _READ_MORE.sub("", text).strip()
    if len(shortened) <= length:
        # the feed cut it ("[…]"): keep saying so
        cut_by_feed = shortened != text.strip() and shortened[-1:] not in ("", ".", "!", "?")
        return shortened + "…" if cut_by_feed else shortened
    text = shortened
    cut = text[: length - 1]
    space = cut.rfind(" ")
    if space > length // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:–-") + "…"


def absolute_url(url: str, base: str) -> str | None:
    """``url`` made absolute against ``base``; None unless it ends up http(s)."""
    url = url.strip()
    if not url:
        return None
    if url.startswith(("https://", "http://")) and " " not in url:
        return url
    joined = urljoin(base, url) if base and not urlsplit(url).scheme else url
    return joined if urlsplit(joined).scheme in ("http", "https") else None


def lead_image(
    entry: EntryData, content: str, base: str | None
) -> tuple[str | None, str | None, str | None]:
    """(url, alt, credit) of the entry's lead image, or three Nones."""
    for media in entry.images:
        url = absolute_url(media.url, base or "")
        if url:
            alt = media.alt or next((a for u, a in _content_images(content) if u == url), None)
            return url, alt or None, media.credit or _credit_near(content, url)
    first = next(_content_images(content), None)
    if first is not None:
        url, alt = first
        return url, alt or None, _credit_near(content, url)
    return None, None, None


def _content_images(content: str) -> Iterator[tuple[str, str]]:
    """(src, alt) of each image in sanitized HTML, lazily (usually the first is enough)."""
    if "<img" not in content:
        return
    for match in _IMG.finditer(content):
        attrs = dict(_ATTR.findall(match.group(1)))
        if attrs.get("src"):
            yield html.unescape(attrs["src"]), html.unescape(attrs.get("alt", ""))


def _credit_near(content: str, image_url: str) -> str | None:
    """The "©…" credit from the image's own caption, else the first short credit line."""
    escaped = html.escape(image_url, quote=True)
    for figure in _FIGURE.finditer(content):
        if escaped in figure.group(1) or image_url in figure.group(1):
            caption = _FIGCAPTION.search(figure.group(1))
            if caption:
                credit = credit_in(html_to_text(caption.group(1)))
                if credit:
                    return credit
    for block in _BLOCK.finditer(content):
        text = html_to_text(block.group(2))
        if len(text) <= 200:
            credit = credit_in(text)
            if credit:
                return credit
    return None


def credit_in(text: str) -> str | None:
    """``"… in Berlin statt. ©NJB/Sebastian Bolesch"`` → ``"©NJB/Sebastian Bolesch"``."""
    if "©" in text:
        return text[text.index("©") :].strip() or None
    match = _CREDIT.search(text)
    return match.group(1).strip() if match else None


def _pick_base(entry: EntryData, link: str, site: str, feed_url: str) -> str | None:
    # xml:base first; then the entry's own page (where its HTML lives), the feed's site,
    # the feed's URL. A file path is no base for links in an e-mail.
    for candidate in (entry.base_url, link, site, feed_url):
        if candidate.startswith(("https://", "http://")):
            return candidate
    return None


def _first_words(content: str) -> str:
    return truncate(html_to_text(content), 80)
