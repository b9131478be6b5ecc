"""The numbers of a mailing: per recipient, a report repeated counts once."""

from __future__ import annotations

from sqlalchemy import insert

from pipeline.clock import FakeClock
from pipeline.mailings.numbers import numbers
from pipeline.store import Store
from pipeline.store.schema import bounce_events, deliveries
from tests.support.web import seed_mailing


def test_numbers_count_recipients_not_reports(store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock)
    now = clock.now()
    with store.begin() as conn:
        ids = []
        for n, status in enumerate(["sent", "sent", "sent", "failed"]):
            row = conn.execute(
                insert(deliveries).values(
                    mailing_id=mailing.id,
                    email=f"person{n}@example.org",
                    list_name="members",
                    status=status,
                    sent_at=now if status == "sent" else None,
                    created_at=now,
                )
            )
            ids.append(int(row.inserted_primary_key[0]))
        events = [(ids[0], "hard"), (ids[1], "soft"), (ids[1], "soft"), (ids[2], "complaint")]
        events.append((ids[2], "unsubscribe"))
        for n, (delivery_id, kind) in enumerate(events):
            conn.execute(
                insert(bounce_events).values(
                    delivery_id=delivery_id,
                    email_hash=f"{n:064d}",
                    kind=kind,
                    source="test",
                    source_id=f"event-{n}",
                    received_at=now,
                )
            )
    found = numbers(store, mailing.id)
    assert (found.total, found.delivered, found.failed) == (4, 3, 1)
    assert (found.bounced_hard, found.bounced_soft, found.complaints) == (1, 1, 1)
    assert found.unsubscribes == 1


def test_numbers_of_an_unsent_mailing_are_zero(store: Store, clock: FakeClock) -> None:
    found = numbers(store, seed_mailing(store, clock).id)
    assert found.total == found.delivered == found.unsubscribes == 0
