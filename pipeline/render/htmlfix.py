"""Repairs of MJML's HTML that no template can make: attributes that are not HTML.

MJML writes ``height="auto"`` on every image without a fixed height (the attribute takes
a number of pixels; ``auto`` is invalid, and the inline ``height: auto`` already says
it) and ``vertical-align="middle"`` on each button's cell (a CSS property, not an
attribute; ``middle`` is a cell's default anyway). Both are dropped, so the HTML
validates apart from what Outlook needs (``mso-*`` styles, the VML namespaces).
"""

from __future__ import annotations

import re

_IMG_HEIGHT_AUTO = re.compile(r'(<img\b[^>]*?)\s+height="auto"')
_TD_VERTICAL_ALIGN = re.compile(r'(<td\b[^>]*?)\s+vertical-align="[^"]*"')


def repair_html(html: str) -> str:
    html = _IMG_HEIGHT_AUTO.sub(r"\1", html)
    return _TD_VERTICAL_ALIGN.sub(r"\1", html)
