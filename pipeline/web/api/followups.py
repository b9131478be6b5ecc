"""/mailings/{id}/followups: follow-ups of a press release (correction, update, lift,
withdraw) that go to exactly the addresses it was delivered to."""

from __future__ import annotations

from flask import Response, jsonify

from pipeline.access import Action
from pipeline.models import FollowKind
from pipeline.web.api import common as c
from pipeline.web.api.auth import actor
from pipeline.web.api.errors import invalid
from pipeline.web.api.spec import DATETIME, STRING, array, obj, ref, route

KINDS = [str(k) for k in FollowKind]
_FIELDS = {"kind", "text", "title", "send_at"}


@route(
    "POST",
    "/mailings/{mailing_id}/followups",
    "Compose a follow-up of a press release that was sent",
    tag="mailings",
    action=Action.COMPOSE,
    body=obj(
        ("kind",),
        kind={"type": "string", "enum": KINDS},
        text=STRING,
        title=STRING,
        send_at=DATETIME,
    ),
    status=201,
    returns=obj(("data",), data=ref("Mailing")),
    description="A draft of its own (`follows_id`, `follow_kind`) that goes to exactly the "
    "addresses the release was delivered to, minus who unsubscribed from its lists or was "
    "suppressed since; each copy is threaded (`In-Reply-To`, `References`) under the "
    "person's copy of the release. `kind`: `correction` (Berichtigung), `update` "
    "(Aktualisierung), `lift` (Sperrfrist aufgehoben: the release's embargo moves to the "
    "moment the lift is sent) or `withdraw` (Rückzug: the archive then shows no content). "
    "`text` (Markdown) is required for a correction and an update; a lift and a "
    "withdrawal have a default text naming the release and its times. `title`: default "
    "the release's. Approved by a second person like any press release. Refusals (a "
    "newsletter, a release not delivered yet, a lift after the embargo, a withdrawn "
    "release) are 422 `invalid` with `field` `original`, `kind` or `text`.",
)
def compose_followup(mailing_id: int) -> tuple[Response, int]:
    c.mailing_or_404(mailing_id)
    data = c.body()
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise invalid(f"unknown field {unknown[0]}", unknown[0])
    kind = c.text(data, "kind")
    if not kind:
        raise invalid(f"kind is required: one of {', '.join(KINDS)}", "kind")
    mailing = c.flow().compose_followup(
        mailing_id,
        kind,
        by=actor(),
        text_md=c.text(data, "text"),
        title=c.text(data, "title"),
        send_at=c.instant(data, "send_at"),
    )
    return jsonify(data=c.mailing_json(mailing)), 201


@route(
    "GET",
    "/mailings/{mailing_id}/followups",
    "The follow-ups of a press release",
    tag="mailings",
    action=Action.VIEW,
    returns=obj(("data",), data=array(ref("Mailing"))),
    description="Oldest first, whatever their status.",
)
def list_followups(mailing_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    return jsonify(data=[c.mailing_json(m) for m in c.flow().follow_ups(mailing_id)])
