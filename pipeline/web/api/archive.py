"""/archive: the public side of the archive for other sites (no token).

Exactly what the archive pages show, by the same rule (``pipeline.mailings.public``):
mailings that went out, press releases only once their embargo has passed, to the
second. Before then a release answers 404 like an unknown id, so nothing tells that it
exists. The copy is the render that was sent, filled without personal data.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from pipeline.errors import RundbriefError
from pipeline.models import Mailing, MailingKind
from pipeline.web import mailview
from pipeline.web.api import common as c
from pipeline.web.api.errors import not_found
from pipeline.web.api.spec import INTEGER, STRING, array, obj, route
from pipeline.web.context import deps

TAG = "archive"
# A published mailing does not change; the list does (the next release, an embargo
# that passes), so it is kept only briefly.
LIST_CACHE_SECONDS = 60
MAILING_CACHE_SECONDS = 3600
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
ENTRY = obj(
    ("id", "kind", "subject", "url"),
    id=INTEGER,
    kind={"type": "string", "enum": ["newsletter", "press"]},
    subject=STRING,
    languages=array(STRING),
    sent_at=NULLABLE_TIME,
    embargo=NULLABLE_TIME,
    url=STRING,
    follows_id={"type": ["integer", "null"]},
    follow_kind={"type": ["string", "null"]},
)
VERSION = obj(
    ("language", "subject", "html", "text", "url"),
    language=STRING,
    subject=STRING,
    preheader=STRING,
    html=STRING,
    text=STRING,
    url=STRING,
)


def _languages(mailing: Mailing) -> list[str]:
    return list(mailing.languages) or [deps().settings.organisation.language]


def _url(mailing: Mailing, language: str) -> str:
    """The archive page of this version (as the mail's "view in browser" link)."""
    url = f"{deps().settings.web.base_url}/archive/{mailing.id}"
    return url if language == _languages(mailing)[0] else f"{url}/{language}"


def _entry(mailing: Mailing) -> dict[str, Any]:
    tz = deps().settings.organisation.tz
    languages = _languages(mailing)
    return {
        "id": mailing.id,
        "kind": str(mailing.kind),
        "subject": mailing.subject,
        "languages": languages,
        "sent_at": c.plain(mailing.sent_at and mailing.sent_at.astimezone(tz)),
        "embargo": c.plain(mailing.embargo_at and mailing.embargo_at.astimezone(tz)),
        "url": _url(mailing, languages[0]),
        # a follow-up (correction, update, lift, withdraw): the release it follows
        "follows_id": mailing.follows_id,
        "follow_kind": str(mailing.follow_kind) if mailing.follow_kind else None,
    }


def _cached(response: Response, seconds: int) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    return response


@route(
    "GET",
    "/archive",
    "The public archive: sent newsletters and press releases",
    tag=TAG,
    public=True,
    returns=obj(("data",), data=array(ENTRY)),
    description="Every mailing the public archive shows, the last sent first: sent "
    "newsletters, and press releases once their embargo (`embargo`) has passed. A "
    "release under embargo is not listed before that second. Times are in the "
    "organisation's zone. No token needed.",
)
def list_archive() -> Response:
    shown = c.flow().published_mailings()
    return _cached(jsonify(data=[_entry(m) for m in shown]), LIST_CACHE_SECONDS)


@route(
    "GET",
    "/archive/{mailing_id}",
    "One mailing of the public archive, as sent",
    tag=TAG,
    public=True,
    returns=obj(
        ("data",),
        data={
            **ENTRY,
            "properties": {
                **ENTRY["properties"],
                "versions": array(VERSION),
                "follow_ups": array(INTEGER),
                "withdrawn": {
                    "type": ["object", "null"],
                    "properties": {"by": INTEGER, "at": {"type": "string", "format": "date-time"}},
                },
            },
        },
    ),
    description="The mailing with each language version as it was sent (HTML and text), "
    "filled without personal data as on its archive page. 404 for an unknown id, a "
    "mailing that has not gone out, and a press release before its embargo, to the "
    "second (the same rule as the archive pages). No token needed. `follow_ups`: the "
    "public follow-ups of a press release (ids); a withdrawn release has `withdrawn` "
    "(`by` the withdrawal's id, `at`) and no versions, as on its archive page.",
)
def show_archive(mailing_id: int) -> Response:
    flow = c.flow()
    found = flow.find_published(mailing_id)
    if found is None:
        raise not_found(f"no mailing {mailing_id} in the archive")
    now = deps().clock.now()
    shown, withdrawal = flow.public_follow_ups(found.id)
    follow_ups = [m.id for m in shown]
    if withdrawal is not None:
        # withdrawn: as on its archive page, that it was and when, none of its content
        tz = deps().settings.organisation.tz
        gone = {"by": withdrawal.id, "at": c.plain((withdrawal.sent_at or now).astimezone(tz))}
        data = {**_entry(found), "withdrawn": gone, "follow_ups": follow_ups, "versions": []}
        return _cached(jsonify(data=data), LIST_CACHE_SECONDS)
    try:
        renders = flow.renders(found)
    except RundbriefError:
        raise not_found(f"no mailing {mailing_id} in the archive") from None
    settings = deps().settings
    versions = []
    for language in _languages(found):
        rendered = renders.get(language)
        if rendered is None:
            continue
        html, text = mailview.fill(rendered, mailview.neutral_values(settings, found, language))
        versions.append(
            {
                "language": language,
                "subject": rendered.subject,
                "preheader": rendered.preheader,
                "html": html,
                "text": text,
                "url": _url(found, language),
            }
        )
    data = {**_entry(found), "withdrawn": None, "follow_ups": follow_ups, "versions": versions}
    # a press release may still be corrected or withdrawn: kept only briefly
    seconds = MAILING_CACHE_SECONDS if found.kind != MailingKind.PRESS else LIST_CACHE_SECONDS
    return _cached(jsonify(data=data), seconds)
