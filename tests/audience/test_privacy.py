"""Export (everything held on a person) and erase (data gone, hashed suppression kept)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, select

from pipeline.audience import is_suppressed, iter_recipients
from pipeline.audience.addresses import email_hash
from pipeline.audience.csv_import import import_file
from pipeline.audience.privacy import erase_person, export_person
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store import audience as q
from pipeline.store.schema import bounce_events, deliveries, mailings, suppressions

CSV = (
    "email,first_name,last_name,salutation,lists,outlet\n"
    "lea.strauss@agentur.example,Lea,Strauß,Frau,members press,Nachrichtenagentur Nord\n"
    "tom@verein.example,Tom,Ohm,Herr,members,\n"
)


def _setup(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    assert import_file(settings, store, write_csv(CSV), clock=clock).ok
    now = clock.now()
    with store.begin() as conn:
        mailing_id = conn.execute(
            insert(mailings).values(
                kind="newsletter",
                status="sending",
                subject="Newsletter KW 25/2026",
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        lea = q.find_subscriber(conn, "lea.strauss@agentur.example")
        assert lea is not None
        conn.execute(
            insert(deliveries),
            [
                {
                    "mailing_id": mailing_id,
                    "subscriber_id": lea.id,
                    "email": lea.email,
                    "list_name": "members",
                    "status": "sent",
                    "attempts": 1,
                    "sent_at": now,
                    "message_id": "<1@junge-buergermeister.example>",
                    "created_at": now,
                },
                {
                    "mailing_id": mailing_id,
                    "subscriber_id": None,
                    "email": "tom@verein.example",
                    "list_name": "members",
                    "status": "queued",
                    "attempts": 0,
                    "sent_at": None,
                    "message_id": None,
                    "created_at": now,
                },
            ],
        )
        conn.execute(
            insert(bounce_events).values(
                email_hash=email_hash(lea.email),
                kind="soft",
                status_code="4.2.2",
                detail="mailbox full: lea.strauss@agentur.example",
                source="dsn",
                received_at=now,
            )
        )


def test_export_holds_data_evidence_and_history(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    _setup(settings, store, clock, write_csv)
    data = export_person(settings, store, "Lea.Strauss@Agentur.example", clock=clock)
    json.dumps(data)  # JSON-ready
    assert data["subscriber"]["last_name"] == "Strauß"
    assert data["subscriber"]["attributes"] == {"outlet": "Nachrichtenagentur Nord"}
    lists = {s["list"]: s for s in data["subscriptions"]}
    assert set(lists) == {"members", "press"}
    assert lists["press"]["consent"]["source"].startswith("import:")
    assert lists["press"]["consent"]["signup_at"]
    (delivery,) = data["deliveries"]
    assert delivery["subject"] == "Newsletter KW 25/2026" and delivery["status"] == "sent"
    assert data["bounces"][0]["status_code"] == "4.2.2"
    assert data["controller"]["name"] == settings.organisation.name


def test_erase_removes_personal_data_and_keeps_a_hashed_suppression(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    _setup(settings, store, clock, write_csv)
    report = erase_person(store, "lea.strauss@agentur.example", clock=clock)
    assert (
        report.subscriber_erased and report.subscriptions == 2 and report.deliveries_scrubbed == 1
    )

    with store.connect() as conn:
        assert q.find_subscriber(conn, "lea.strauss@agentur.example") is None
        dump = " ".join(
            str(row)
            for table in (deliveries, bounce_events, suppressions)
            for row in conn.execute(select(table))
        )
        sup = conn.execute(select(suppressions)).one()
    assert "lea" not in dump.lower() and "strauß" not in dump.lower()
    assert sup.email is None and sup.reason == "erased"
    assert sup.email_hash == email_hash("lea.strauss@agentur.example")
    assert is_suppressed(store, "lea.strauss@agentur.example")

    # A later import of the same file never brings her back.
    report2 = import_file(settings, store, write_csv(CSV, "again.csv"), clock=clock)
    assert [s.email for s in report2.skipped] == ["lea.strauss@agentur.example"]
    assert [r.email for r in iter_recipients(store, ["members", "press"])] == ["tom@verein.example"]
    with store.connect() as conn:
        assert q.find_subscriber(conn, "lea.strauss@agentur.example") is None


def test_erase_cancels_queued_deliveries(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    _setup(settings, store, clock, write_csv)
    erase_person(store, "tom@verein.example", clock=clock)
    with store.connect() as conn:
        statuses = [r.status for r in conn.execute(select(deliveries).order_by(deliveries.c.id))]
    assert statuses == ["sent", "suppressed"]
