"""Checks every rendered mail must pass before it is stored (see DESIGN.md "What every
e-mail must be"): size under Gmail's clipping limit, alt text on every image, ``<html
lang>`` matching, a preheader, and nothing executable (no script, no event handler, no
``javascript:`` or ``data:`` link) whatever the items carried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape

from pipeline.errors import RenderError

# Regex scans over the whole document, not an HTML parser: about 1 ms for a 90 KB
# newsletter instead of 15, and strict (tag-shaped text inside comments counts too).
_FORBIDDEN = re.compile(
    r"<\s*(script|iframe|object|embed|form|input|button|frame|frameset)\b", re.I
)
_HANDLER = re.compile(r"<[a-zA-Z][^>]*?[\s\"'/](on[a-z]+)\s*=", re.I)
_HANDLER_HINT = re.compile(r"[\s\"'/]on[a-z]+\s*=", re.I)
_URL_ATTR = re.compile(
    r"[\s\"'](href|src|action|formaction|background|poster|xlink:href)"
    r"\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)",
    re.I,
)
_IMG = re.compile(r"<img\b[^>]*>", re.I)
_ALT = re.compile(r"\salt\s*=", re.I)
_SRC = re.compile(r"\ssrc\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.I)
_HTML_LANG = re.compile(r"<html\b[^>]*?\slang\s*=\s*[\"']?([^\"'\s>]*)", re.I)
_TEXT_TAGS = re.compile(r"<[^>]*>")
# css-inline writes "<" unescaped inside attribute values (valid HTML): an alt text or
# title that reads "<script>" is text, not a tag, so quoted values are blanked first.
_ATTR_VALUE = re.compile(r"(\s[\w:-]+=)\"[^\"]*\"")


@dataclass
class _Findings:
    lang: str | None = None
    images_without_alt: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)


def _inspect(html: str) -> _Findings:
    found = _Findings()
    lang = _HTML_LANG.search(html)
    found.lang = lang.group(1) if lang else None
    if _FORBIDDEN.search(html):  # rare: only then pay for blanking attribute values
        blanked = _ATTR_VALUE.sub(lambda m: m.group(1) + '""', html)
        found.dangerous += [f"<{m.lower()}>" for m in _FORBIDDEN.findall(blanked)]
    if _HANDLER_HINT.search(html):  # rare too: the tag-anchored scan is the slow one
        found.dangerous += [f"{m.lower()}=…" for m in _HANDLER.findall(html)]
    for name, raw in _URL_ATTR.findall(html):
        value = "".join(unescape(raw.strip("\"'")).split()).lower()
        if value.startswith(("javascript:", "vbscript:")):
            found.dangerous.append(f"{name.lower()}=javascript:…")
        elif value.startswith("data:") and name.lower() != "src":
            # data: images are allowed (src); scripts and frames are refused above
            found.dangerous.append(f"{name.lower()}=data:…")
    for img in _IMG.findall(html):
        if not _ALT.search(img):
            src = _SRC.search(img)
            found.images_without_alt.append(src.group(1).strip("\"'") if src else "?")
    return found


def _has_preheader(html: str, preheader: str) -> bool:
    # MJML puts the preheader in a hidden block right after <body>; look only there.
    start = max(html.find("<body"), 0)
    head = unescape(_TEXT_TAGS.sub(" ", html[start : start + 2000 + 4 * len(preheader)]))
    return " ".join(preheader.split()) in " ".join(head.split())


def html_size(html: str) -> int:
    return len(html.encode("utf-8"))


def check_size(html: str, *, limit: int, name: str) -> None:
    size = html_size(html)
    if size > limit:
        raise RenderError(
            f"{name}: the HTML is {size / 1000:.1f} KB ({size} bytes), over the limit of "
            f"{limit / 1000:.0f} KB (compose.max_html_bytes); Gmail clips longer mails and "
            f'hides the footer. Drop items, or set compose.on_oversize = "cut"'
        )


def check_html(html: str, *, language: str, preheader: str, name: str) -> None:
    """Raise ``RenderError`` naming every problem found in the finished HTML."""
    found = _inspect(html)
    problems: list[str] = []
    if found.lang != language:
        problems.append(f'<html lang="{found.lang}"> does not match the language {language!r}')
    if found.images_without_alt:
        problems.append("images without alt text: " + ", ".join(found.images_without_alt[:5]))
    if not preheader.strip():
        problems.append("no preheader")
    elif not _has_preheader(html, preheader):
        problems.append("the preheader is not in the HTML")
    if found.dangerous:
        problems.append("executable content: " + ", ".join(sorted(set(found.dangerous))))
    if problems:
        raise RenderError(f"{name}: " + "; ".join(problems))
