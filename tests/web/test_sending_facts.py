"""The mailing page names its lists by their configured title, not the internal name."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.store import Store
from tests.support.web import login, seed_mailing


def test_facts_name_the_lists_by_title(client: FlaskClient, store: Store, clock: FakeClock) -> None:
    mailing = seed_mailing(store, clock)
    login(client)
    page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    found = re.search(r'<dd id="lists">([^<]*)</dd>', page)
    assert found is not None
    assert found.group(1) == "Mitglieder-Newsletter"
    assert "members" not in found.group(1)


def test_a_sent_mailing_shows_its_numbers(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    from sqlalchemy import insert, update

    from pipeline.store.schema import deliveries, mailings

    mailing = seed_mailing(store, clock)
    now = clock.now()
    with store.begin() as conn:
        conn.execute(update(mailings).where(mailings.c.id == mailing.id).values(status="sent"))
        for n, status in enumerate(["sent", "sent", "failed"]):
            conn.execute(
                insert(deliveries).values(
                    mailing_id=mailing.id,
                    email=f"person{n}@example.org",
                    list_name="members",
                    status=status,
                    created_at=now,
                )
            )
    login(client)
    page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert '<dd id="n-delivered">2 von 3</dd>' in page
    assert '<dd id="n-failed">1</dd>' in page


def test_a_sending_mailing_shows_progress_and_refreshes(
    client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    from sqlalchemy import update

    from pipeline.store.schema import mailings

    mailing = seed_mailing(store, clock)
    login(client)
    page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page
    with store.begin() as conn:
        conn.execute(update(mailings).where(mailings.c.id == mailing.id).values(status="sending"))
    answer = client.get(f"/editor/mailings/{mailing.id}")
    page = answer.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="5">' in page
    assert '<progress id="progress"' in page
    assert "script-src" not in answer.headers["Content-Security-Policy"]


def test_facts_say_what_happens_next(client: FlaskClient, store: Store, clock: FakeClock) -> None:
    from sqlalchemy import update

    from pipeline.store.schema import mailings

    mailing = seed_mailing(store, clock)
    login(client)
    page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert '<span id="next-step">Geht erst nach der Freigabe raus.</span>' in page
    with store.begin() as conn:
        conn.execute(update(mailings).where(mailings.c.id == mailing.id).values(status="approved"))
    page = client.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert "Geht zum regulären Newsletter-Termin raus." in page
