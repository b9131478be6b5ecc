"""/items: the collected items (articles, event reports, press releases), newest first."""

from __future__ import annotations

from flask import Response, jsonify, request

from pipeline.access import Action
from pipeline.store import items as store_items
from pipeline.web.api import common as c
from pipeline.web.api.errors import invalid, not_found
from pipeline.web.api.spec import CURSOR, LIMIT, STRING, Param, obj, page_of, ref, route
from pipeline.web.context import deps

TAG = "items"
KINDS = ("article", "event_report", "press_release")


@route(
    "GET",
    "/items",
    "List or search items, newest first",
    tag=TAG,
    action=Action.VIEW,
    query=(
        Param("q", STRING, "Words that must all appear in the title or the summary."),
        Param("kind", {"type": "string", "enum": list(KINDS)}),
        CURSOR,
        LIMIT,
    ),
    returns=page_of("Item"),
)
def list_items() -> Response:
    before, limit = c.page_args()
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise invalid(f"kind must be one of {', '.join(KINDS)}", "kind")
    rows = store_items.page_items(
        deps().store,
        before_id=before,
        limit=limit + 1,
        query=request.args.get("q") or None,
        kind=kind,
    )
    return c.page(rows, limit, lambda i: i.id, c.item_json)


@route(
    "GET",
    "/items/{item_id}",
    "Show an item",
    tag=TAG,
    action=Action.VIEW,
    returns=obj(("data",), data=ref("Item")),
)
def show(item_id: int) -> Response:
    found = store_items.get_item(deps().store, item_id)
    if found is None:
        raise not_found(f"no item {item_id}")
    out = c.item_json(found)
    out["content_html"] = found.content_html
    return jsonify(data=out)
