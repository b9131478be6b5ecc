"""/mailings/{id}/record: the distribution record ("Versandprotokoll") in cursor pages."""

from __future__ import annotations

from flask import Response

from pipeline.access import Action
from pipeline.mailings import record as mailing_record
from pipeline.web.api import common as c
from pipeline.web.api.auth import actor
from pipeline.web.api.spec import CURSOR, LIMIT, page_of, route
from pipeline.web.context import deps


@route(
    "GET",
    "/mailings/{mailing_id}/record",
    "The distribution record of a mailing: who got it and what came back",
    tag="mailings",
    action=Action.VIEW,
    query=(CURSOR, LIMIT),
    returns=page_of("RecordEntry"),
    description="One entry per delivery, in the order they were queued: the recipient "
    "with outlet and beat (from the imported attributes), the delivery's status, when it "
    "was delivered, our Message-ID and the provider's id, the worst bounce (hard outweighs "
    "soft) and the first complaint. Times are in the organisation's time zone. An erased "
    "person keeps the entry with `erased: true` and no address, name, outlet or beat.",
)
def record(mailing_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    after, limit = c.page_args()
    lines = list(c.flow().distribution_record(mailing_id, by=actor(), after=after, limit=limit + 1))
    tz = deps().settings.organisation.tz
    return c.page(lines, limit, lambda e: e.delivery_id, lambda e: mailing_record.as_json(e, tz))
