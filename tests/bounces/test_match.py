"""The matching rules one by one, on a real store: what ties a report to a delivery."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from pipeline.bounces import verp
from pipeline.bounces.match import match_event
from pipeline.bounces.status import BounceEvent, BounceKind
from pipeline.store import Store
from pipeline.store import bounces as q
from tests.bounces.conftest import BOUNCE_DOMAIN, PEOPLE, SECRET, add_mailing


def hard(recipient: str | None, **fields: Any) -> BounceEvent:
    return BounceEvent(
        kind=BounceKind.HARD,
        recipient=recipient,
        status="5.1.1",
        diagnostic="550 5.1.1 user unknown",
        source_id=f"test:{recipient}",
        **fields,
    )


def verp_to(delivery_id: int) -> tuple[str, ...]:
    return (verp.return_path(SECRET, delivery_id, BOUNCE_DOMAIN),)


def how(store: Store, event: BounceEvent) -> tuple[int | None, str]:
    found = match_event(store, event, secret=SECRET, bounce_domain=BOUNCE_DOMAIN)
    return (found.delivery.id if found.delivery else None), found.how


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, sent_store: Store) -> Iterator[Store]:
    if request.param == "sqlite":
        yield sent_store
        return
    pg: Store = request.getfixturevalue("pg_store")
    add_mailing(pg, 7, PEOPLE)
    yield pg


def test_evidence_that_ties_a_report_to_a_delivery(any_store: Store) -> None:
    mid = "<rb-7-103@junge-buergermeister.example>"
    assert how(any_store, hard(PEOPLE[101], report_addresses=verp_to(101))) == (101, "verp")
    assert how(any_store, hard(PEOPLE[103], original_message_id=mid)) == (103, "message_id")
    # without the angle brackets, and in another spelling of the recipient
    assert how(any_store, hard(PEOPLE[103].upper(), original_message_id=mid.strip("<>"))) == (
        103,
        "message_id",
    )
    # forwarded: the final recipient is the forwarder's target, the original one ours
    forwarded = hard(
        "ben@weitergeleitet.example", original_recipient=PEOPLE[103], original_message_id=mid
    )
    assert how(any_store, forwarded) == (103, "message_id")
    # a complaint that hides the recipient (RFC 6590 redaction) still has its VERP token
    hidden = BounceEvent(
        kind=BounceKind.COMPLAINT,
        recipient=None,
        status=None,
        diagnostic="feedback-type abuse",
        source_id="test:hidden",
        report_addresses=verp_to(105),
        source="arf",
    )
    assert how(any_store, hidden) == (105, "verp")


def test_no_evidence_or_conflicting_evidence_ties_nothing(any_store: Store) -> None:
    # only the failed recipient: what any stranger can write
    assert how(any_store, hard(PEOPLE[101])) == (None, "none")
    # a token we did not sign
    garbled = (f"bounces+101-0000000000@{BOUNCE_DOMAIN}",)
    assert how(any_store, hard(PEOPLE[101], report_addresses=garbled)) == (None, "none")
    # a valid token or our Message-ID, but naming another person than that delivery's
    assert how(any_store, hard(PEOPLE[102], report_addresses=verp_to(101))) == (None, "none")
    mid = "<rb-7-103@junge-buergermeister.example>"
    assert how(any_store, hard(PEOPLE[102], original_message_id=mid)) == (None, "none")
    # a webhook delivery id whose message ids are not that delivery's
    unconfirmed = hard(PEOPLE[101], delivery_id=101, provider_message_id="someone-else")
    assert how(any_store, unconfirmed) == (None, "none")


def test_why_names_the_claims_but_never_the_delivery_address(sent_store: Store) -> None:
    mid = "<rb-7-103@junge-buergermeister.example>"
    found = match_event(
        sent_store,
        hard(PEOPLE[102], original_message_id=mid),
        secret=SECRET,
        bounce_domain=BOUNCE_DOMAIN,
    )
    assert PEOPLE[102] in found.why and "delivery 103" in found.why
    assert PEOPLE[103] not in found.why  # it is stored under the hash of Jörg's address
    bare = match_event(sent_store, hard(PEOPLE[101]), secret=SECRET, bounce_domain=BOUNCE_DOMAIN)
    assert bare.why == "no VERP token; no Message-ID of the original"


def test_the_message_id_lookup_uses_the_index(sent_store: Store) -> None:
    """A report costs an index lookup, not a scan of every delivery ever made."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    engine = sent_store.engine
    sa_event.listen(engine, "before_cursor_execute", capture)
    try:
        assert q.delivery_by_message_id(sent_store, "<rb-7-101@junge-buergermeister.example>")
    finally:
        sa_event.remove(engine, "before_cursor_execute", capture)
    (statement, params), *_ = [s for s in statements if "deliveries" in s[0]]
    with engine.connect() as conn:
        plan = " ".join(
            str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        )
    assert "ix_deliveries_message_id" in plan, plan
