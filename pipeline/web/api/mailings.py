"""/mailings: list, compose, show, edit, items, approve, schedule, send, pause, cancel,
test copy.

Each view reads the request, calls one workflow operation ``by`` the token's actor and
writes the result: the role, the four-eyes rule and the lifecycle are the workflow's.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from pipeline.access import Action
from pipeline.mailings import MailingOverview, WrittenRelease
from pipeline.models import MailingKind, MailingStatus
from pipeline.web.api import common as c
from pipeline.web.api.auth import actor
from pipeline.web.api.errors import ApiError, invalid
from pipeline.web.api.spec import (
    BOOLEAN,
    CURSOR,
    DATETIME,
    EMAIL,
    INTEGER,
    LIMIT,
    STRING,
    Param,
    array,
    obj,
    page_of,
    ref,
    route,
)

TAG = "mailings"
ONE = obj(("data",), data=ref("Mailing"))
STATUSES = [str(s) for s in MailingStatus]
KINDS = [str(k) for k in MailingKind]


def _one(mailing_id: int, *, status: int = 200) -> tuple[Response, int]:
    return jsonify(data=c.mailing_json(c.flow().get(mailing_id))), status


def overview_json(view: MailingOverview) -> dict[str, Any]:
    return {
        "recipients": view.recipients,
        "unknown_attributes": list(view.unknown_attributes),
        "deliveries": dict(view.deliveries),
        "bounces": dict(view.bounces),
        "complaints": view.complaints,
        "unsubscribes": view.unsubscribes,
        "top_errors": [{"error": e, "count": n} for e, n in view.top_errors],
        "possible_duplicates": view.possible_duplicates,
        "paused_reason": view.paused_reason,
        "resume_at": c.plain(view.resume_at),
        "approved_by": view.approved_by,
        "items": [
            c.item_json(item) if item is not None else {"id": item_id, "deleted": True}
            for item_id, item in view.items
        ],
        "rendered": {lang: r is not None for lang, r in view.renders.items()},
    }


@route(
    "GET",
    "/mailings",
    "List mailings, newest first",
    tag=TAG,
    action=Action.VIEW,
    query=(
        Param("status", {"type": "string", "enum": STATUSES}),
        Param("kind", {"type": "string", "enum": KINDS}),
        CURSOR,
        LIMIT,
    ),
    returns=page_of("Mailing"),
)
def list_mailings() -> Response:
    after, limit = c.page_args()
    status = request.args.get("status") or None
    kind = request.args.get("kind") or None
    if status is not None and status not in STATUSES:
        raise invalid(f"status must be one of {', '.join(STATUSES)}", "status")
    if kind is not None and kind not in KINDS:
        raise invalid(f"kind must be one of {', '.join(KINDS)}", "kind")
    found = c.flow().list_mailings(status=status, kind=kind)
    rows = sorted(
        (m for m in found if after is None or m.id < after), key=lambda m: m.id, reverse=True
    )
    return c.page(rows[: limit + 1], limit, lambda m: m.id, c.mailing_json)


@route(
    "POST",
    "/mailings/newsletter",
    "Compose the newsletter of the current period",
    tag=TAG,
    action=Action.COMPOSE,
    status=201,
    returns=ONE,
    description="From the items not yet mailed, as `rundbrief compose` does. Answers 409 "
    "`nothing_to_compose` (with the reason) when there are no new items or the period "
    "has its newsletter already. `segment` (a name of `[segments]`) or `where` (a "
    "condition, docs/press.md) narrows the lists.",
    body=obj(segment=STRING, where=STRING),
)
def compose_newsletter() -> tuple[Response, int]:
    data = c.body()
    workflow = c.flow()
    mailing = workflow.compose_newsletter(by=actor(), **_segment(data))
    if mailing is None:
        raise ApiError(409, "nothing_to_compose", workflow.plan_newsletter().reason)
    return _one(mailing.id, status=201)


@route(
    "POST",
    "/mailings/press",
    "Compose a press release from an item or from a text",
    tag=TAG,
    action=Action.COMPOSE,
    body=obj(
        item_id=INTEGER,
        title=STRING,
        text=STRING,
        link=STRING,
        image_url=STRING,
        image_alt=STRING,
        image_credit=STRING,
        author=STRING,
        language=STRING,
        send_at=DATETIME,
        embargo=DATETIME,
        segment=STRING,
        where=STRING,
    ),
    status=201,
    returns=ONE,
    description="Either `item_id` (a collected item, e.g. a press release published on "
    "the website) or `title` and `text` (Markdown) written here, with an optional `link` "
    "to it on the web and a photo (`image_url` over https, `image_alt` required with it, "
    "`image_credit`). A written release is not offered to newsletters. `send_at`: when "
    "it goes out (default: once approved); `embargo`: the Sperrfrist, from when it may "
    "be published, never before the send time: journalists get it before. A time in the "
    "past or an embargo before the send time: 422 `invalid` with `field` `send_at` or "
    "`embargo`, the times named in the organisation's zone. `segment` (a name of "
    '`[segments]`) or `where` (a condition such as `region = "Bayern"`, docs/press.md) '
    "sends it only to those people of the press lists.",
)
def compose_press() -> tuple[Response, int]:
    data = c.body()
    embargo = c.instant(data, "embargo")
    send_at = c.instant(data, "send_at")
    segment = _segment(data)
    item_id = c.integer(data, "item_id")
    written = [k for k in _WRITTEN if k in data]
    if item_id is not None:
        if written:
            raise invalid(f"give item_id or a text, not both ({written[0]})", written[0])
        mailing = c.flow().compose_press(
            item_id, by=actor(), send_at=send_at, embargo=embargo, **segment
        )
        return _one(mailing.id, status=201)
    if "title" not in data and "text" not in data:
        raise invalid("give item_id, or title and text", "item_id")
    fields = {k: c.text(data, k) or "" for k in _WRITTEN}
    release = WrittenRelease(
        title=fields["title"],
        text_md=fields["text"],
        link=fields["link"],
        image_url=fields["image_url"],
        image_alt=fields["image_alt"],
        image_credit=fields["image_credit"],
        author=fields["author"],
        language=fields["language"],
    )
    mailing = c.flow().compose_press_text(
        release, by=actor(), send_at=send_at, embargo=embargo, **segment
    )
    return _one(mailing.id, status=201)


def _segment(data: dict[str, Any]) -> dict[str, str | None]:
    """``segment`` and ``where`` of a compose body (the workflow checks them)."""
    return {"segment": c.text(data, "segment"), "where": c.text(data, "where")}


_WRITTEN = (
    "title",
    "text",
    "link",
    "image_url",
    "image_alt",
    "image_credit",
    "author",
    "language",
)


@route(
    "GET",
    "/mailings/{mailing_id}",
    "Show a mailing with its overview",
    tag=TAG,
    action=Action.VIEW,
    returns=obj(("data", "overview"), data=ref("Mailing"), overview={"type": "object"}),
)
def show(mailing_id: int) -> Response:
    mailing = c.mailing_or_404(mailing_id)
    view = c.flow().overview(mailing.id)
    return jsonify(data=c.mailing_json(view.mailing), overview=overview_json(view))


@route(
    "PATCH",
    "/mailings/{mailing_id}",
    "Edit a mailing",
    tag=TAG,
    action=Action.EDIT,
    body=obj(
        subject=STRING,
        preheader=STRING,
        intro_md=STRING,
        lists=array(STRING),
        send_at={"type": ["string", "null"], "format": "date-time"},
        embargo={"type": ["string", "null"], "format": "date-time"},
        item_ids=array(INTEGER),
        segment={"type": ["string", "null"]},
        where={"type": ["string", "null"]},
        version=DATETIME,
    ),
    returns=ONE,
    description="Only the fields given change. An approved or scheduled mailing becomes a "
    "draft again (it needs a new approval). `segment` or `where` replaces the segment "
    "(`null` for the whole lists). `version`: the `updated_at` you saw; if the "
    "mailing changed since, 409 `conflict`. The editor becomes the mailing's last editor "
    "(the four-eyes rule of press releases asks another approver). `send_at` and "
    "`embargo` (press) follow the rule of `POST /mailings/press`; `null` clears one.",
)
def edit(mailing_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    data = c.body()
    known = {
        "subject",
        "preheader",
        "intro_md",
        "lists",
        "send_at",
        "embargo",
        "item_ids",
        "segment",
        "where",
        "version",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise invalid(f"unknown field {unknown[0]}", unknown[0])
    changes: dict[str, Any] = {}
    for name in ("subject", "preheader", "intro_md"):
        value = c.text(data, name)
        if value is not None:
            changes[name] = value
    if "lists" in data:
        changes["lists"] = c.strings(data, "lists")
    if "send_at" in data:
        changes["send_at"] = c.instant(data, "send_at")
    if "embargo" in data:
        changes["embargo_at"] = c.instant(data, "embargo")
    for name in ("segment", "where"):
        if name in data:
            changes[name] = c.text(data, name)
    if "item_ids" in data:
        ids = data["item_ids"]
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise invalid("item_ids must be a list of integers", "item_ids")
        changes["item_ids"] = ids
    mailing = c.flow().edit(mailing_id, by=actor(), version=c.instant(data, "version"), **changes)
    return jsonify(data=c.mailing_json(mailing))


@route(
    "POST",
    "/mailings/{mailing_id}/items",
    "Add an item",
    tag=TAG,
    action=Action.EDIT,
    body=obj(("item_id",), item_id=INTEGER, position=INTEGER),
    returns=ONE,
    description="Any collected item, at `position` (1 is the first; default the end).",
)
def add_item(mailing_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    data = c.body()
    item_id = c.integer(data, "item_id", required=True)
    assert item_id is not None
    mailing = c.flow().add_item(
        mailing_id, item_id, by=actor(), position=c.integer(data, "position")
    )
    return jsonify(data=c.mailing_json(mailing))


@route(
    "DELETE",
    "/mailings/{mailing_id}/items/{item_id}",
    "Drop an item",
    tag=TAG,
    action=Action.EDIT,
    returns=ONE,
)
def drop_item(mailing_id: int, item_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    return jsonify(data=c.mailing_json(c.flow().drop_item(mailing_id, item_id, by=actor())))


@route(
    "POST",
    "/mailings/{mailing_id}/items/{item_id}/move",
    "Move an item",
    tag=TAG,
    action=Action.EDIT,
    body=obj(("position",), position=INTEGER),
    returns=ONE,
    description="To `position` (1 is the first).",
)
def move_item(mailing_id: int, item_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    position = c.integer(c.body(), "position", required=True)
    assert position is not None
    mailing = c.flow().move_item(mailing_id, item_id, position, by=actor())
    return jsonify(data=c.mailing_json(mailing))


@route(
    "POST",
    "/mailings/{mailing_id}/approve",
    "Approve a draft",
    tag=TAG,
    action=Action.APPROVE,
    body=obj(version=DATETIME),
    returns=ONE,
    description="Renders, checks and approves it (`scheduled` when its send time lies "
    "ahead). The approval policy may refuse: 403 `approval_refused` with the reason "
    "(by default a press release needs an approver who did not edit it last).",
)
def approve(mailing_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    version = c.instant(c.body(), "version")
    return jsonify(data=c.mailing_json(c.flow().approve(mailing_id, by=actor(), version=version)))


@route(
    "POST",
    "/mailings/{mailing_id}/schedule",
    "Schedule a draft for a time",
    tag=TAG,
    action=Action.SCHEDULE,
    body=obj(("send_at",), send_at=DATETIME),
    returns=ONE,
    description="Sets the send time and approves it in one step (so it needs the "
    "approval as well).",
)
def schedule(mailing_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    when = c.instant(c.body(), "send_at", required=True)
    assert when is not None
    return jsonify(data=c.mailing_json(c.flow().schedule(mailing_id, when, by=actor())))


@route(
    "POST",
    "/mailings/{mailing_id}/send",
    "Send an approved mailing now",
    tag=TAG,
    action=Action.SEND,
    body=obj(dry_run=BOOLEAN),
    returns=obj(("data", "report"), data=ref("Mailing"), report={"type": "object"}),
    description="Sends it (or a paused one on from where it stopped) and answers when "
    "the run ends, with its report. 409 `not_due` before its send time, `conflict` for "
    "a draft.",
)
def send(mailing_id: int) -> Response:
    mailing = c.mailing_or_404(mailing_id)
    data = c.body()
    dry_run = data.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise invalid("dry_run must be true or false", "dry_run")
    workflow = c.flow()
    if mailing.status == MailingStatus.PAUSED:
        report = workflow.resume(mailing_id, by=actor(), dry_run=dry_run)
    else:
        report = workflow.send_now(mailing_id, by=actor(), dry_run=dry_run)
    return jsonify(data=c.mailing_json(workflow.get(mailing_id)), report=c.plain(report))


@route(
    "POST",
    "/mailings/{mailing_id}/pause",
    "Pause a mailing that is sending",
    tag=TAG,
    action=Action.SEND,
    body=obj(("reason",), reason=STRING),
    returns=ONE,
    description="The senders finish the message in hand and stop; `send` goes on from "
    "where it stopped. 409 `conflict` unless it is sending.",
)
def pause(mailing_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    reason = c.text(c.body(), "reason", required=True)
    assert reason is not None
    return jsonify(data=c.mailing_json(c.flow().pause(mailing_id, reason=reason, by=actor())))


@route(
    "POST",
    "/mailings/{mailing_id}/cancel",
    "Cancel a mailing",
    tag=TAG,
    action=Action.CANCEL,
    returns=ONE,
)
def cancel(mailing_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    return jsonify(data=c.mailing_json(c.flow().cancel(mailing_id, by=actor())))


@route(
    "POST",
    "/mailings/{mailing_id}/test-copy",
    "Send a test copy",
    tag=TAG,
    action=Action.TEST_COPY,
    body=obj(("to",), to=EMAIL, language=STRING),
    returns=obj(("ok",), ok=BOOLEAN, to=EMAIL, error={"type": ["string", "null"]}),
    description="One copy marked as a test to `to`; changes nothing else. 502 "
    "`delivery_failed` when the transport refused it.",
)
def test_copy(mailing_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    data = c.body()
    to = c.text(data, "to", required=True)
    assert to is not None
    result = c.flow().send_test_copy(mailing_id, to, language=c.text(data, "language"), by=actor())
    if not result.ok:
        raise ApiError(502, "delivery_failed", f"the test copy was refused: {result.error}")
    return jsonify(ok=result.ok, to=result.recipient, error=result.error)
