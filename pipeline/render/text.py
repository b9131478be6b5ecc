"""The plain-text part: wrapping, numbered link references, sanitized HTML → text.

The text templates (``*.txt.j2``) render the same content model as the MJML ones. Links
become ``[n]`` references listed under "Links" at the end, so paragraphs stay readable;
footer links (unsubscribe, imprint) are written out in full where they stand.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

WIDTH = 72
_BLANKS = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+\n")
# Runs that a line break would make unusable: phone numbers ("+49 30 1234567-0",
# "(030) 123 456 78"), street and number ("Marienstraße 6"), postcode and town
# ("10117 Berlin-Mitte"). Each is wrapped as if it were one word.
_WHOLE = re.compile(
    r"(?:\+\d{1,3}|\(0\d{1,5}\)|(?<![\w.,])0\d{1,5})(?:[ /.-]\d+)+"
    r"|\b[A-ZÄÖÜ][\w.-]*(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer|markt)"
    r" \d+(?: ?[a-z]\b)?"
    r"|\b\d{5} [A-ZÄÖÜ][\w-]*"
)
_DIGIT = re.compile(r"\d")
_GLUE = "\ue000"  # stands for a space inside a run during wrapping (private use)


def _glued(para: str) -> str:
    if not _DIGIT.search(para):  # every run holds a digit: most paragraphs skip this
        return para
    return _WHOLE.sub(lambda m: m.group(0).replace(" ", _GLUE), para)


def wrap(text: str, width: int = WIDTH, indent: str = "") -> str:
    """Wrap each paragraph of ``text``; URLs, long words, phone numbers and address
    parts are never broken."""
    out: list[str] = []
    for para in str(text).split("\n"):
        words = [word.replace(_GLUE, " ") for word in _glued(para).split()]
        if not words:
            out.append("")
            continue
        # greedy fill: textwrap does the same but costs ten times as much per paragraph
        line = indent + words[0]
        for word in words[1:]:
            if len(line) + 1 + len(word) <= width:
                line += " " + word
            else:
                out.append(line)
                line = indent + word
        out.append(line)
    return "\n".join(out)


class References:
    """Numbered link references of one text part, in order of first appearance."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def ref(self, url: str) -> str:
        if not url:
            return ""
        if url not in self.urls:
            self.urls.append(url)
        return f"[{self.urls.index(url) + 1}]"

    def render(self, title: str) -> str:
        if not self.urls:
            return ""
        lines = [title, "-" * len(title)]
        lines += [f"[{n}] {url}" for n, url in enumerate(self.urls, start=1)]
        return "\n".join(lines)


_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "blockquote", "figure", "figcaption", "pre", "ul", "ol", "hr"}  # fmt: skip


class _TextParser(HTMLParser):
    def __init__(self, refs: References, width: int) -> None:
        super().__init__(convert_charrefs=True)
        self.refs = refs
        self.width = width
        self.blocks: list[tuple[str, bool]] = []  # (text, is a list item)
        self.current: list[str] = []
        self.prefix = ""
        self.heading = False
        self.links: list[str] = []
        self.depth_list: list[str] = []
        self.counters: list[int] = []

    def _flush(self) -> None:
        raw = "".join(self.current)
        self.current = []
        # "\n" only comes from <br>: a line break the author meant (addresses, contacts)
        lines = [" ".join(part.split()) for part in raw.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            return
        if self.heading:
            lines = [line.upper() for line in lines]
        indent = "   " if self.prefix else ""
        body = "\n".join(wrap(line, self.width - len(indent), indent) for line in lines)
        item = bool(self.prefix)
        if item:
            body = self.prefix + body[len(indent) :]
        self.blocks.append((body, item))
        self.prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK or tag == "li":
            self._flush()
        if tag in ("h1", "h2", "h3", "h4"):
            self.heading = True
        elif tag in ("ul", "ol"):
            self.depth_list.append(tag)
            self.counters.append(0)
        elif tag == "li":
            if self.counters:
                self.counters[-1] += 1
            kind = self.depth_list[-1] if self.depth_list else "ul"
            self.prefix = f"{self.counters[-1]}. " if kind == "ol" else "-  "
        elif tag == "br":
            self.current.append("\n")
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.current.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href = self.links.pop()
            if href and not href.startswith("mailto:"):
                self.current.append(" " + self.refs.ref(href))
            elif href:
                self.current.append(f" <{href.removeprefix('mailto:')}>")
        if tag in _BLOCK or tag == "li":
            self._flush()
        if tag in ("h1", "h2", "h3", "h4"):
            self.heading = False
        elif tag in ("ul", "ol") and self.depth_list:
            self.depth_list.pop()
            self.counters.pop()

    def handle_data(self, data: str) -> None:
        self.current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_text(fragment: str, refs: References, width: int = WIDTH) -> str:
    """Sanitized HTML (items, the editor's intro) as wrapped paragraphs with ``[n]`` links."""
    if not fragment:
        return ""
    parser = _TextParser(refs, width)
    parser.feed(fragment)
    parser.close()
    out = ""
    previous_item = False
    for text, item in parser.blocks:
        # list items stay together; everything else is a paragraph
        out += ("\n" if item and previous_item else "\n\n") + text if out else text
        previous_item = item
    return out


def tidy(text: str) -> str:
    """No trailing blanks, at most one empty line in a row, one final newline."""
    text = _TRAILING.sub("\n", text.replace("\r\n", "\n"))
    # keep the signature separator "-- " (its trailing space is meaningful)
    text = text.replace("\n--\n", "\n-- \n")
    return _BLANKS.sub("\n\n", text).strip("\n") + "\n"
