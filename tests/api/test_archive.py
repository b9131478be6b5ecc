"""The public archive in the API (issue 13): ``/api/v1/archive`` lists and shows what
the archive pages show, by the same rule: a press release under embargo is neither
listed nor shown (404) before its embargo second, and is as sent from then on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.store import Store
from tests.deliver.support import add_subscribers
from tests.support.mail_items import add_item, add_items
from tests.web.test_embargo import ANNA, BERND, TITLE, _release_sent

EMBARGO = datetime(2026, 6, 19, 12, 0, 0, tzinfo=UTC)  # 14:00 in Berlin, 4 h ahead


def test_a_release_under_embargo_is_public_from_its_embargo_second(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    flow = Workflow(settings, store, clock)
    mailing_id = _release_sent(settings, store, flow, EMBARGO)
    assert flow.get(mailing_id).status == "sent"

    # no token: the archive is public; before the embargo it says nothing of the release
    listed = client.get("/api/v1/archive")
    assert listed.status_code == 200 and listed.get_json() == {"data": []}
    hidden = client.get(f"/api/v1/archive/{mailing_id}")
    assert hidden.status_code == 404
    assert hidden.get_json()["error"]["code"] == "not_found"
    assert hidden.headers["Cache-Control"] == "no-store"
    unknown = client.get("/api/v1/archive/9999")
    assert (
        unknown.get_json()["error"]["message"].replace("9999", str(mailing_id))
        == (hidden.get_json()["error"]["message"])
    )  # the same answer as for an id that does not exist

    clock.set(EMBARGO - timedelta(seconds=1))
    assert client.get(f"/api/v1/archive/{mailing_id}").status_code == 404
    assert client.get(f"/archive/{mailing_id}").status_code == 404

    clock.set(EMBARGO)
    (entry,) = client.get("/api/v1/archive").get_json()["data"]
    assert entry["id"] == mailing_id and entry["kind"] == "press"
    assert entry["embargo"] == "2026-06-19T14:00:00+02:00"  # the organisation's zone
    assert entry["url"].endswith(f"/archive/{mailing_id}")
    shown = client.get(f"/api/v1/archive/{mailing_id}")
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"].startswith("public")
    data = shown.get_json()["data"]
    (version,) = data["versions"]
    assert version["language"] == "de" and TITLE in version["subject"]
    # exactly the archive page's copy: the render as sent, without personal data
    page = client.get(f"/archive/{mailing_id}")
    assert page.status_code == 200
    own = f"{settings.web.base_url}/archive/{mailing_id}"
    assert _framed_copy_of(version["html"], page.get_data(as_text=True), own)
    assert "redaktion" not in version["html"] and "redaktion" not in version["text"]


def test_drafts_and_approved_mailings_are_not_public(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    flow = Workflow(settings, store, clock)
    item = add_item(store, title=TITLE, kind="press_release", published_at=clock.now())
    draft = flow.compose_press(item, by=ANNA, send_at=clock.now() + timedelta(hours=2))
    assert client.get(f"/api/v1/archive/{draft.id}").status_code == 404
    scheduled = flow.approve(draft.id, by=BERND)
    assert scheduled.status == "scheduled"
    assert client.get(f"/api/v1/archive/{draft.id}").status_code == 404
    assert client.get("/api/v1/archive").get_json()["data"] == []


def test_a_newsletter_is_public_once_sent(
    client: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    flow = Workflow(settings, store, clock)
    add_items(store, clock.now(), 3)
    add_subscribers(store, clock, 2, lists=("members",), prefix="mitglied")
    letter = flow.compose_newsletter(by=ANNA)
    assert letter is not None
    flow.approve(letter.id, by=BERND)
    assert flow.send_now(letter.id, by=BERND).sent == 2
    (entry,) = client.get("/api/v1/archive").get_json()["data"]
    assert (entry["id"], entry["kind"], entry["embargo"]) == (letter.id, "newsletter", None)
    assert client.get(f"/api/v1/archive/{letter.id}").status_code == 200


def _framed_copy_of(html: str, page: str, own_url: str) -> bool:
    """Whether ``page`` holds the mail ``html`` (its body, byte for byte) in the site's
    frame, without the mail's link to its own archive copy."""
    import re

    from pipeline.web.archive_frame import without_links_to

    found = re.search(r"<body[^>]*>(.*)</body>", without_links_to(html, [own_url]), re.S)
    return found is not None and found.group(1) in page and '<main id="inhalt"' in page
