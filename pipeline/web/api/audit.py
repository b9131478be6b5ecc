"""/audit: the audit log, filtered as ``rundbrief audit`` filters it, in cursor pages."""

from __future__ import annotations

from flask import Response, request

from pipeline import audit
from pipeline.access import Action
from pipeline.web.api import common as c
from pipeline.web.api.errors import invalid
from pipeline.web.api.spec import CURSOR, INTEGER, LIMIT, STRING, Param, page_of, route
from pipeline.web.context import deps

TAG = "audit"


def _id(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise invalid(f"{name} must be an id (a whole number)", name)
    return int(raw)


@route(
    "GET",
    "/audit",
    "The audit log, oldest first",
    tag=TAG,
    action=Action.VIEW,
    query=(
        Param("mailing", INTEGER, "About this mailing."),
        Param("subscriber", INTEGER, "About this subscriber (by id)."),
        Param("user", STRING, "Done by this account (e-mail address)."),
        Param("since", {"type": "string", "format": "date-time"}, "At or after this time."),
        CURSOR,
        LIMIT,
    ),
    returns=page_of("AuditEntry"),
    description="Who did what, when, from where (channel `web`, `cli`, `api`, `daemon` "
    "and the client address), to which mailing, subscriber or account. Entries about a "
    "subscriber name them by id; an erased person's data is gone from every entry.",
)
def entries() -> Response:
    after, limit = c.page_args()
    # a "+" of an offset arrives as a space when the caller did not encode it
    raw_since = request.args.get("since", "").strip().replace(" ", "+")
    since = c.instant({"since": raw_since}, "since") if raw_since else None
    found = audit.entries(
        deps().store,
        mailing=_id("mailing"),
        subscriber=_id("subscriber"),
        user=request.args.get("user", "").strip() or None,
        since=since,
        after=after,
        limit=limit + 1,
    )
    return c.page(found, limit, lambda e: e.id, audit.as_json)
