"""Make untrusted HTML (feed content, editors' Markdown) safe to put into a mail.

Items are sanitized when collected, but the renderer does not rely on it: everything
that reaches a template as markup passes ``clean_html`` here, and every URL that becomes
an ``href`` or ``src`` passes ``safe_url``. Scripts, event handlers, forms, iframes,
styles and ``javascript:``/``data:`` URLs never survive.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "em", "figcaption", "figure",
    "h2", "h3", "h4", "hr", "i", "img", "li", "ol", "p", "pre", "q", "s", "small",
    "strong", "sub", "sup", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "abbr": {"title"},
}
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)", re.IGNORECASE)
_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_VOID = re.compile(r"<(br|hr|img)(\s[^>]*?)?\s*/?>", re.IGNORECASE)

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def safe_url(url: str | None, *, image: bool = False) -> str:
    """``url`` if it is an absolute http(s) URL (or mailto: for links), else ""."""
    if not url:
        return ""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    schemes = {"http", "https"} if image else {"http", "https", "mailto", "tel"}
    if parts.scheme.lower() not in schemes:
        return ""
    if parts.scheme.lower() in ("http", "https") and not parts.netloc:
        return ""
    return url


def _absolute_urls_only(tag: str, attribute: str, value: str) -> str | None:
    # Relative URLs mean nothing in a mail (there is no page to be relative to).
    if attribute == "href":
        return safe_url(value) or None
    if attribute == "src":
        return safe_url(value, image=True) or None
    return value


def clean_html(fragment: str) -> str:
    """Sanitized HTML, in XHTML form (void tags closed) so MJML parses it."""
    cleaned = nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        clean_content_tags={"script", "style", "iframe", "object", "template", "noscript"},
        link_rel="noopener",
        strip_comments=True,
        attribute_filter=_absolute_urls_only,
    )
    cleaned = _IMG_WITHOUT_SRC.sub("", cleaned)  # its data: or javascript: URL was dropped
    # Decorative images in feed content have no alt; an empty one tells screen readers so.
    cleaned = _IMG_WITHOUT_ALT.sub('<img alt=""', cleaned)
    return _VOID.sub(lambda m: f"<{m.group(1).lower()}{m.group(2) or ''} />", cleaned)


# The gender star between two letters ("Bürgermeister*innen") is a letter of German
# text, not emphasis: CommonMark lets "*" open and close emphasis inside words, so two of
# them in a paragraph would set everything between in italics.
_GENDER_STAR = re.compile(r"(?<=[^\W\d_])\*(?=[^\W\d_])")


def markdown_to_html(source: str) -> str:
    """Editors' Markdown (raw HTML in it is shown as text) → sanitized HTML."""
    if not source.strip():
        return ""
    return clean_html(_markdown.render(_GENDER_STAR.sub(r"\\*", source)))
