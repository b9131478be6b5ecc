"""/lists: the configured lists with their subscriptions counted by status."""

from __future__ import annotations

from flask import Response, jsonify

from pipeline.access import Action
from pipeline.store import audience as store_audience
from pipeline.web.api.spec import BOOLEAN, INTEGER, STRING, array, obj, route
from pipeline.web.context import deps

TAG = "lists"
LIST = obj(
    ("name", "counts"),
    name=STRING,
    title=STRING,
    double_opt_in=BOOLEAN,
    counts=obj(active=INTEGER, pending=INTEGER, unsubscribed=INTEGER),
)


@route(
    "GET",
    "/lists",
    "The lists with their counts",
    tag=TAG,
    action=Action.VIEW,
    returns=obj(("data",), data=array(LIST)),
)
def list_lists() -> Response:
    d = deps()
    counts = store_audience.count_subscriptions(d.store)
    language = d.settings.organisation.language
    return jsonify(
        data=[
            {
                "name": m.name,
                "title": m.title_in(language),
                "double_opt_in": m.double_opt_in,
                "counts": {
                    status: counts.get(m.name, {}).get(status, 0)
                    for status in ("active", "pending", "unsubscribed")
                },
            }
            for m in d.settings.lists
        ]
    )
