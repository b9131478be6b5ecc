"""The public archive as an Atom feed, for feed readers.

    GET /archive/feed.atom    the mailings the archive shows, newest first

The entries are exactly the archive's (``Workflow.published_mailings``: sent, and a
press release only once its embargo has passed): title, the link to the archive copy,
the instant it became public, a summary from the mail's plain text filled neutrally (no
personal data) and an id that never changes (a ``tag:`` URI of the site's host and the
day the mailing was created). A withdrawn release is shown as the archive shows it: that
it was withdrawn, not its content.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, url_for
from werkzeug.wrappers import Response

from pipeline.errors import RundbriefError
from pipeline.mailings import Workflow
from pipeline.models import Mailing
from pipeline.web import mailview
from pipeline.web.context import deps
from pipeline.web.i18n import page_language, t

bp = Blueprint("archive_feed", __name__, url_prefix="/archive")

ATOM = "http://www.w3.org/2005/Atom"
XML = "http://www.w3.org/XML/1998/namespace"
SUMMARY_CHARS = 400


def _flow() -> Workflow:
    return Workflow(deps().settings, deps().store, deps().clock)


def _public_since(mailing: Mailing) -> datetime:
    """When the public could first see the mailing (a release: its embargo)."""
    return mailing.embargo_at or mailing.sent_at or mailing.send_at or mailing.created_at


def tag_uri(mailing: Mailing) -> str:
    """The entry's id: the site's host, the day the mailing was created, its number."""
    host = urlsplit(deps().settings.web.base_url).hostname or "localhost"
    return f"tag:{host},{mailing.created_at:%Y-%m-%d}:archive/{mailing.id}"


def _title(mailing: Mailing) -> str:
    if mailing.follow_kind:
        return t(f"followup.subject_{mailing.follow_kind}", subject=mailing.subject)
    return mailing.subject


def summary_of(text: str, salutation: str) -> str:
    """The start of a mail's plain text: without its header lines and salutation, in one
    line, cut at a word before ``SUMMARY_CHARS``."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if paragraphs:
        paragraphs = paragraphs[1:]  # the organisation and the mail's label and date
    if paragraphs and paragraphs[0].rstrip(",") == salutation:
        paragraphs = paragraphs[1:]
    flat = " ".join(" ".join(paragraphs).split())
    if len(flat) <= SUMMARY_CHARS:
        return flat
    return flat[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + " …"


def _summary(flow: Workflow, mailing: Mailing, local_date: object) -> tuple[str, datetime]:
    """The entry's summary and updated instant (a withdrawal's date when withdrawn)."""
    _, withdrawal = flow.public_follow_ups(mailing.id)
    if withdrawal is not None:
        assert callable(local_date)
        return (
            t("archive.withdrawn", date=local_date(_public_since(withdrawal))),
            _public_since(withdrawal),
        )
    languages = list(mailing.languages) or [deps().settings.organisation.language]
    try:
        rendered = flow.renders(mailing)[languages[0]]
    except (RundbriefError, KeyError):
        return "", _public_since(mailing)
    values = mailview.neutral_values(deps().settings, mailing, languages[0])
    text = mailview.fill(rendered, values)[1]
    return summary_of(text, values.salutation), _public_since(mailing)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _instant(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


@bp.get("/feed.atom")
def feed() -> Response:
    settings = deps().settings
    flow = _flow()
    base = settings.web.base_url
    local_date = current_app.jinja_env.filters["local_date"]
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {f"{{{XML}}}lang": page_language()})
    _sub(root, "title", f"{t('archive.title')} · {settings.organisation.name}")
    _sub(root, "subtitle", t("archive.intro", organisation=settings.organisation.name))
    _sub(root, "id", base + url_for("archive_feed.feed"))
    _sub(root, "link", rel="self", type="application/atom+xml", href=base + url_for(".feed"))
    _sub(root, "link", rel="alternate", type="text/html", href=base + url_for("archive.index"))
    author = _sub(root, "author")
    _sub(author, "name", settings.organisation.name)
    updated = _sub(root, "updated")
    newest: datetime | None = None
    for mailing in flow.published_mailings():
        summary, when = _summary(flow, mailing, local_date)
        newest = when if newest is None or when > newest else newest
        entry = _sub(root, "entry")
        _sub(entry, "title", _title(mailing))
        link = base + url_for("archive.show", mailing_id=mailing.id)
        _sub(entry, "link", rel="alternate", type="text/html", href=link)
        _sub(entry, "id", tag_uri(mailing))
        _sub(entry, "updated", _instant(when))
        _sub(entry, "published", _instant(_public_since(mailing)))
        _sub(entry, "summary", summary)
    updated.text = _instant(newest or flow.clock.now())
    body = ET.tostring(root, encoding="unicode", xml_declaration=False)
    response = Response(
        '<?xml version="1.0" encoding="utf-8"?>\n' + body,
        mimetype="application/atom+xml",
    )
    # Like the archive's list: it changes the second an embargo ends.
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.register_blueprint(bp)
