"""Issue 13, item 5 in the API: ``GET /api/v1/mailings/{id}/record``, the distribution
record in cursor pages, times in the organisation's zone, erased people without data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store
from tests.api.conftest import ANNA, Call
from tests.support.press_record import (
    BOUNCED_HARD,
    COMPLAINED,
    JOURNALISTS,
    QueueIdSink,
    queue_id,
    report_back,
    send_release,
)
from tests.support.smtp import SmtpServer


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer(QueueIdSink()).start()
    yield server
    server.stop()


@pytest.fixture
def sent(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    call: Call,  # the app and its accounts first: the release is sent from the same store
) -> int:
    mailing_id = send_release(settings, store, clock, tmp_path, server)
    report_back(settings, store, clock, mailing_id)
    return mailing_id


def test_the_record_lists_every_recipient(call: Call, sent: int) -> None:
    answer = call("GET", f"/mailings/{sent}/record", as_=ANNA)  # an editor may read it
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["next_cursor"] is None
    entries = {e["email"]: e for e in body["data"]}
    assert len(body["data"]) == len(JOURNALISTS)
    first = entries[JOURNALISTS[0][0]]
    assert (first["outlet"], first["beat"], first["status"]) == (
        "Tageszeitung Ost",
        "Kommunalpolitik",
        "sent",
    )
    assert first["delivered_at"] == "2026-06-19T10:02:00+02:00"
    assert first["provider_message_id"] == queue_id(JOURNALISTS[0][0])
    assert entries[BOUNCED_HARD]["bounce"] == {
        "kind": "hard",
        "status": "5.1.1",
        "at": "2026-06-19T10:07:00+02:00",
    }
    assert entries[COMPLAINED]["complained_at"] == "2026-06-19T10:07:00+02:00"
    gone = entries[None]
    assert gone["erased"] is True
    assert (gone["name"], gone["outlet"], gone["beat"]) == (None, None, None)


def test_the_record_comes_in_cursor_pages(call: Call, sent: int) -> None:
    seen: list[int] = []
    cursor = ""
    for _ in range(10):
        answer = call(
            "GET", f"/mailings/{sent}/record?limit=2" + (f"&cursor={cursor}" if cursor else "")
        )
        body = answer.get_json()
        seen += [e["delivery_id"] for e in body["data"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(JOURNALISTS) == len(set(seen))
    assert seen == sorted(seen)


def test_an_unknown_mailing_is_404_and_a_token_is_needed(call: Call, sent: int) -> None:
    assert call("GET", "/mailings/999/record").status_code == 404
    assert call("GET", f"/mailings/{sent}/record", as_="").status_code == 401
