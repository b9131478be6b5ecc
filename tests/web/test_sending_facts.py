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
