"""One summary of a mailing, for ``mailing show`` and the editor's page alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pipeline.models import Item, Mailing, MailingStatus, RenderedMailing
from pipeline.segments import fields_of, parse_optional
from pipeline.store import Store
from pipeline.store import audience as store_audience
from pipeline.store import bounces as store_bounces
from pipeline.store import followups as store_followups
from pipeline.store import mailings as store_mailings
from pipeline.store import outbox as store_outbox
from pipeline.store import renders as store_renders
from pipeline.store import segments as store_segments

# Once sending has started the recipients are the delivery rows, not the lists' members now.
STARTED = frozenset({MailingStatus.SENDING, MailingStatus.PAUSED, MailingStatus.SENT})


@dataclass(frozen=True)
class MailingOverview:
    """What happened to a mailing and what it holds, as plain values."""

    mailing: Mailing
    status: MailingStatus
    lists: tuple[str, ...]
    recipients: int  # the deliveries once sending started, else who would get it now
    deliveries: Mapping[str, int]  # by delivery status, every status present
    bounces: Mapping[str, int]  # hard and soft bounces reported for its deliveries
    complaints: int
    unsubscribes: int  # recipients who left the list after this mailing reached them
    top_errors: tuple[tuple[str, int], ...]
    possible_duplicates: int
    paused_reason: str | None
    resume_at: datetime | None
    approved_by: str | None
    items: tuple[tuple[int, Item | None], ...]  # in order; None: deleted since
    renders: Mapping[str, RenderedMailing | None]  # by language; None: not rendered yet
    # attribute names the segment tests that no subscriber has (a typo?), before sending
    unknown_attributes: tuple[str, ...] = ()

    @property
    def started(self) -> bool:
        return self.status in STARTED

    @property
    def delivered(self) -> int:
        return self.deliveries.get("sent", 0)


def overview(
    store: Store, mailing: Mailing, *, languages: tuple[str, ...], items: Mapping[int, Item]
) -> MailingOverview:
    """Read everything the summary shows (no rendering: a missing render is None)."""
    counts = store_outbox.counts(store, mailing.id)
    events = store_bounces.events_for_mailing(store, mailing.id)
    state = store_outbox.mailing_state(store, mailing.id)
    segment = parse_optional(mailing.segment_where)
    unknown: list[str] = []
    with store.connect() as conn:
        unsubscribes = store_audience.unsubscribed_after(conn, mailing.id)
        if mailing.status in STARTED:
            recipients = sum(counts.values())
        elif mailing.follows_id is not None:
            # a follow-up: the original's delivered copies, less who left since
            recipients = store_followups.reachable_count(store, mailing.follows_id, mailing.lists)
        else:
            recipients = store_audience.count_recipients(conn, mailing.lists, segment)
            if segment is not None:
                names = [f.name for f in fields_of(segment) if f.attribute]
                unknown = store_segments.unknown_attributes(conn, names)
    return MailingOverview(
        mailing=mailing,
        status=mailing.status,
        lists=mailing.lists,
        recipients=recipients,
        deliveries=counts,
        bounces={k: n for k, n in events.items() if k != "complaint"},
        complaints=events.get("complaint", 0),
        unsubscribes=unsubscribes,
        top_errors=tuple(store_outbox.top_errors(store, mailing.id)),
        possible_duplicates=store_outbox.possible_duplicates(store, mailing.id),
        paused_reason=state.paused_reason if state else None,
        resume_at=state.resume_at if state else None,
        approved_by=store_mailings.approved_by(store, mailing.id),
        items=tuple((iid, items.get(iid)) for iid in mailing.item_ids),
        renders=store_renders.load_renders(store, mailing.id, languages),
        unknown_attributes=tuple(unknown),
    )
