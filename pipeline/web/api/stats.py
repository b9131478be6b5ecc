"""/stats: what the store can tell about mailings, deliveries and subscribers."""

from __future__ import annotations

from collections import Counter

from flask import Response, jsonify

from pipeline.access import Action
from pipeline.models import MailingStatus
from pipeline.store import audience as store_audience
from pipeline.store import bounces as store_bounces
from pipeline.store import outbox as store_outbox
from pipeline.web.api import common as c
from pipeline.web.api.spec import INTEGER, obj, route
from pipeline.web.context import deps

TAG = "stats"
COUNTS = {"type": "object", "additionalProperties": INTEGER}


@route(
    "GET",
    "/stats",
    "Counts of mailings, deliveries and subscribers",
    tag=TAG,
    action=Action.VIEW,
    returns=obj(
        ("mailings", "deliveries", "bounces", "subscribers"),
        mailings=COUNTS,
        deliveries=COUNTS,
        bounces=COUNTS,
        subscribers=obj(
            lists={"type": "object", "additionalProperties": COUNTS},
            total=INTEGER,
            suppressed=INTEGER,
        ),
    ),
    description="Mailings by status; deliveries of every mailing by status (sent, "
    "failed, queued, retry, suppressed …); bounces (hard, soft) and complaints "
    "reported; subscriptions per list by status.",
)
def stats() -> Response:
    d = deps()
    mailings = c.flow().list_mailings()
    by_status = Counter(str(m.status) for m in mailings)
    deliveries: Counter[str] = Counter()
    bounces: Counter[str] = Counter()
    for m in mailings:
        deliveries.update(store_outbox.counts(d.store, m.id))
        bounces.update(store_bounces.events_for_mailing(d.store, m.id))
    counts = store_audience.count_subscriptions(d.store)
    return jsonify(
        mailings={str(s): by_status.get(str(s), 0) for s in MailingStatus},
        deliveries=dict(deliveries),
        bounces=dict(bounces),
        subscribers={
            "lists": {m.name: counts.get(m.name, {}) for m in d.settings.lists},
            "total": store_audience.count_subscribers(d.store),
            "suppressed": store_audience.count_suppressions(d.store),
        },
    )
