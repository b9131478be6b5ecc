"""What the public archive shows about follow-ups of a press release.

The page of a release lists its follow-ups that have gone out (kind, date, link), in a
note put at the top of the mail as it was sent; the page of a withdrawn release shows
that it was withdrawn instead of its content. The follow-up's own page needs nothing
here: its mail links back to the original already. Whether a follow-up may be written,
and what a withdrawal or a lift does, is the workflow's (``pipeline.mailings``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from flask import render_template, url_for
from werkzeug.wrappers import Response

from pipeline.models import Mailing
from pipeline.web.i18n import t

_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)
NOTE_STYLE = (
    "max-width:600px;margin:12px auto;padding:12px 16px;border-left:4px solid #9b1c1c;"
    "background:#fff;color:#1a1a1a;font:16px/1.5 system-ui,sans-serif"
)


def _when(mailing: Mailing, local_date: object) -> str:
    assert callable(local_date)
    return str(local_date(mailing.sent_at or mailing.send_at or mailing.created_at))


def with_follow_ups(html: str, follow_ups: Sequence[Mailing], local_date: object) -> str:
    """The archive copy of a release with a note listing its ``follow_ups`` (those that
    went out and are public) at the top of the body; ``html`` unchanged without any."""
    if not follow_ups:
        return html
    items = "".join(
        f'<li><a href="{escape(url_for("archive.show", mailing_id=m.id))}">'
        + escape(
            t(
                "archive.follow_up_entry",
                label=t(f"followup.label_{m.follow_kind}"),
                date=_when(m, local_date),
            )
        )
        + "</a></li>"
        for m in follow_ups
    )
    note = (
        f'<div role="note" class="rb-follow-ups" style="{NOTE_STYLE}">'
        f"<strong>{escape(t('archive.follow_ups'))}</strong>"
        f'<ul style="margin:4px 0 0;padding-left:20px">{items}</ul></div>'
    )
    match = _BODY.search(html)
    if match is None:
        return note + html
    return html[: match.end()] + note + html[match.end() :]


def withdrawn_page(original: Mailing, withdrawal: Mailing, local_date: object) -> Response:
    """The page of a withdrawn release: that it was withdrawn, when, and the notice; no
    content of the release."""
    body = render_template(
        "archive/withdrawn.html",
        original=original,
        withdrawal=withdrawal,
        when=_when(withdrawal, local_date),
    )
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
