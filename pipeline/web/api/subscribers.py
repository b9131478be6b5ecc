"""/subscribers: search, show, import a CSV, unsubscribe, suppress, export, erase, send a
pending sign-up's confirmation again.

The operations are ``pipeline.subscribers``' (role checked, audited there); a
subscriber is named by the e-mail address in the path (URL-encoded).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from flask import Response, jsonify, request

from pipeline import audience, signup
from pipeline.access import Action
from pipeline.errors import ConfigError
from pipeline.store import audience as store_audience
from pipeline.web.api import common as c
from pipeline.web.api.auth import actor
from pipeline.web.api.errors import ApiError, invalid, not_found
from pipeline.web.api.spec import (
    BOOLEAN,
    CURSOR,
    LIMIT,
    STRING,
    Param,
    array,
    obj,
    page_of,
    route,
)
from pipeline.web.context import deps

TAG = "subscribers"
STATUSES = ("pending", "active", "unsubscribed")
# How many bad rows an import answer lists (the counts are always complete).
ROWS_SHOWN = 100


def _row_json(row: store_audience.SubscriberRow) -> dict[str, object]:
    s = row.subscriber
    return {
        "id": s.id,
        "email": s.email,
        "first_name": s.first_name,
        "last_name": s.last_name,
        "language": s.language,
        "lists": dict(row.lists),
    }


@route(
    "GET",
    "/subscribers",
    "Search subscribers",
    tag=TAG,
    action=Action.VIEW,
    query=(
        Param("q", STRING, "Part of the address or the name."),
        Param("list", STRING, "Only subscribers of this list."),
        Param("status", {"type": "string", "enum": list(STATUSES)}, "With this status."),
        CURSOR,
        LIMIT,
    ),
    returns=page_of("Subscriber"),
    description="In id order (oldest first).",
)
def search() -> Response:
    after, limit = c.page_args()
    list_name = request.args.get("list") or None
    status = request.args.get("status") or None
    if list_name is not None:
        deps().settings.list_named(list_name)
    if status is not None and status not in STATUSES:
        raise invalid(f"status must be one of {', '.join(STATUSES)}", "status")
    rows = store_audience.list_subscribers(
        deps().store,
        list_name=list_name,
        status=status,
        after_id=after or 0,
        limit=limit + 1,
        search=request.args.get("q") or None,
    )
    return c.page(rows, limit, lambda r: r.subscriber.id, _row_json)


@route(
    "GET",
    "/subscribers/{email}",
    "Show a subscriber",
    tag=TAG,
    action=Action.VIEW,
    returns=obj(("data",), data={"type": "object"}),
    description="Data, subscriptions with their consent evidence, suppression (the "
    "delivery history is in the export).",
)
def show(email: str) -> Response:
    d = deps()
    if audience.subscriber_id(d.store, email) is None:
        raise not_found("no subscriber with this address")
    data = audience.export_person(d.settings, d.store, email, clock=d.clock)
    data.pop("deliveries", None)
    data.pop("bounces", None)
    data.pop("system_mail", None)
    return jsonify(data=data)


@route(
    "POST",
    "/subscribers/import",
    "Import subscribers from a CSV file",
    tag=TAG,
    action=Action.IMPORT,
    query=(
        Param("list", STRING, "Into this list (else the file's `lists` column)."),
        Param("dry_run", BOOLEAN, "Check only, change nothing."),
        Param("filename", STRING, "The file's name for the report and the audit log."),
        Param("welcome", BOOLEAN, "The people it subscribes are new: send the welcome mail."),
    ),
    body={"type": "string"},
    body_type="text/csv",
    returns=obj(("data",), data={"type": "object"}),
    description="The body is the CSV file (UTF-8, as `rundbrief subscribers import` "
    "reads it; at most 2 MB, larger files with the CLI). Bad rows are reported with "
    "line and reason (the first 100), good rows imported.",
)
def import_csv() -> Response:
    raw = request.get_data(cache=False)
    if not raw:
        raise invalid("the body must be the CSV file", "body")
    dry_run = request.args.get("dry_run", "").lower() in ("1", "true", "yes")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", request.args.get("filename") or "import.csv")
    name = name.lstrip(".") or "import.csv"
    with tempfile.TemporaryDirectory(prefix="rundbrief-api-") as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        report = c.people().import_csv(
            path,
            by=actor(),
            list_name=request.args.get("list") or None,
            dry_run=dry_run,
            welcome=request.args.get("welcome", "").lower() in ("1", "true", "yes"),
        )
        try:
            out = report.as_dict(lines=False)
            for key, rows in report.lines():
                shown = []
                for n, row in enumerate(rows):
                    if n >= ROWS_SHOWN:
                        break
                    shown.append(row)
                out[key] = shown
        finally:
            report.close()
    return jsonify(data=c.plain(out))


@route(
    "POST",
    "/subscribers/{email}/unsubscribe",
    "Unsubscribe a subscriber",
    tag=TAG,
    action=Action.UNSUBSCRIBE,
    body=obj(lists=array(STRING)),
    returns=obj(("data",), data={"type": "object"}),
    description="From `lists` (default: all); pending deliveries to them are cancelled.",
)
def unsubscribe(email: str) -> Response:
    lists = c.strings(c.body(), "lists")
    outcome = c.people().unsubscribe(email, lists, by=actor())
    return jsonify(data=c.plain(outcome))


@route(
    "POST",
    "/subscribers/{email}/suppress",
    "Suppress an address",
    tag=TAG,
    action=Action.SUPPRESS,
    body=obj(reason=STRING, detail=STRING),
    returns=obj(("added",), added=BOOLEAN),
    description="Nothing is sent to it any more; `added` is false when it was suppressed already.",
)
def suppress(email: str) -> Response:
    data = c.body()
    reason = c.text(data, "reason") or "manual"
    added = c.people().suppress(email, reason, by=actor(), detail=c.text(data, "detail"))
    return jsonify(added=added)


@route(
    "GET",
    "/subscribers/{email}/export",
    "Export everything held on a person",
    tag=TAG,
    action=Action.EXPORT,
    returns=obj(("data",), data={"type": "object"}),
    description="GDPR Art. 15: data, subscriptions, consent evidence, suppression, "
    "deliveries and bounces. The export is recorded in the audit log.",
)
def export(email: str) -> Response:
    return jsonify(data=c.people().export(email, by=actor()))


@route(
    "DELETE",
    "/subscribers/{email}",
    "Erase a person",
    tag=TAG,
    action=Action.ERASE,
    returns=obj(("data",), data={"type": "object"}),
    description="GDPR Art. 17: the person's data goes (from the audit log too); the "
    "address stays suppressed by its hash only.",
)
def erase(email: str) -> Response:
    return jsonify(data=c.plain(c.people().erase(email, by=actor())))


@route(
    "POST",
    "/subscribers/{email}/resend-confirmation",
    "Send a pending sign-up's confirmation again",
    tag=TAG,
    action=Action.MANAGE_LISTS,
    body=obj(("list",), list=STRING),
    status=202,
    returns=obj(("data",), data={"type": "object"}),
    description="A fresh confirmation link to the pending sign-up on `list`, through the "
    "system mail outbox. At most once per `audience.resend_confirmation_minutes` "
    "(429 with Retry-After); 422 when there is no pending sign-up.",
)
def resend_confirmation(email: str) -> tuple[Response, int]:
    d = deps()
    list_name = c.text(c.body(), "list", required=True) or ""
    try:
        secret = audience.signing_secret(d.settings)
    except ConfigError:
        raise ApiError(503, "unavailable", "no signing secret configured") from None
    mail_id = signup.resend_confirmation(
        d.settings, d.store, email, list_name, by=actor(), clock=d.clock, secret=secret
    )
    if d.mail_worker is not None:
        d.mail_worker.wake()  # the confirmation goes out after the answer
    return jsonify(data={"email": email, "list": list_name, "system_mail": mail_id}), 202
