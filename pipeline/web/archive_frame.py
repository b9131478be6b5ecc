"""The site around an archive copy: who publishes it, the way back, how to subscribe.

An archive copy is the mail as it was sent (``archive.show``); on the web it gets a frame
of the site: a skip link, a banner with the organisation's name, "Zurück zum Archiv" and
the newsletter's sign-up form, the mail as the page's main content, and a footer with
the archive's feed. The mail's own "Im Browser ansehen" link points to the copy itself
there, so it is left out of the copy (the stored render, and so what subscribers get,
stays as it was).

The copy stays under the mail's policy (``mailview.MAIL_CSP``: no script, inline styles
only), so the frame brings its few styles along in the document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

from pipeline.web.i18n import t

_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)

FRAME_STYLE = """
.rb-site{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;
color:#1a1a1a;background:#ffffff}
.rb-site a{color:#0b4f8a}
.rb-site a:focus-visible{outline:3px solid #0b4f8a;outline-offset:2px}
.rb-banner,.rb-site-footer{box-sizing:border-box;max-width:600px;margin:0 auto;
padding:10px 16px;display:flex;flex-wrap:wrap;gap:4px 20px;align-items:center;
justify-content:space-between}
.rb-banner{border-bottom:1px solid #d0d7de}
.rb-site-footer{border-top:1px solid #d0d7de;font-size:14px}
.rb-site-name{font-weight:700;margin:0}
.rb-site ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px}
.rb-skip{position:absolute;left:-9999px;top:0;padding:8px 16px;background:#ffffff}
.rb-skip:focus{left:8px;z-index:10}
#inhalt:focus{outline:none}
"""


def without_links_to(html: str, urls: Iterable[str]) -> str:
    """``html`` without its links to any of ``urls`` (with the separator that follows
    one in a row of links): the "view in browser" link on the copy it points to."""
    for url in urls:
        link = re.compile(
            r'<a\s+href="' + re.escape(escape(url, quote=True)) + r'"[^>]*>[^<]*</a>(\s*·\s*)?'
        )
        html = link.sub("", html)
    return html


def framed(
    html: str, *, back_url: str, signup_url: str | None, feed_url: str, organisation: str
) -> str:
    """The archive copy ``html`` inside the site's frame (see the module's text)."""
    signup = (
        f'<li><a href="{escape(signup_url)}">{escape(t("archive.subscribe"))}</a></li>'
        if signup_url
        else ""
    )
    banner = (
        '<div class="rb-site">'
        f'<a class="rb-skip" href="#inhalt">{escape(t("page.skip_link"))}</a>'
        '<header class="rb-banner">'
        f'<p class="rb-site-name">{escape(organisation)}</p>'
        f'<nav aria-label="{escape(t("archive.title"))}"><ul>'
        f'<li><a href="{escape(back_url)}">{escape(t("archive.back_to_archive"))}</a></li>'
        f"{signup}</ul></nav></header></div>"
        '<main id="inhalt" tabindex="-1">'
    )
    footer = (
        '</main><div class="rb-site"><footer class="rb-site-footer">'
        f'<a href="{escape(back_url)}">{escape(t("archive.back_to_archive"))}</a>'
        f'<a href="{escape(feed_url)}" type="application/atom+xml">'
        f"{escape(t('archive.feed'))}</a></footer></div>"
    )
    style = f"<style>{FRAME_STYLE}</style>"
    head = _HEAD_END.search(html)
    if head is not None:
        html = html[: head.start()] + style + html[head.start() :]
    else:
        banner = style + banner
    body = _BODY.search(html)
    end = _BODY_END.search(html, body.end() if body else 0)
    start = body.end() if body else 0
    stop = end.start() if end else len(html)
    return html[:start] + banner + html[start:stop] + footer + html[stop:]
