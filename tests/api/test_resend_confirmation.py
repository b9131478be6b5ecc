"""POST /api/v1/subscribers/{email}/resend-confirmation: an admin's, rate limited."""

from __future__ import annotations

from pipeline.audience import Signup
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.signup import sign_up
from pipeline.store import Store
from pipeline.store import system_mail as db
from tests.api.conftest import ANNA, BERT, DORA, Call

PERSON = "k.brandt@stadtanzeiger.example"
PATH = f"/subscribers/{PERSON}/resend-confirmation"


def _pending(settings: Settings, store: Store, clock: FakeClock) -> None:
    sign_up(
        settings,
        store,
        Signup(email=PERSON, list_name="press", ip="192.0.2.7", source="test"),
        clock=clock,
        secret="test-secret-for-signing-links-0123456789",
    )


def test_resend_confirmation_through_the_api(
    call: Call, settings: Settings, store: Store, clock: FakeClock
) -> None:
    _pending(settings, store, clock)
    too_soon = call("POST", PATH, as_=DORA, json={"list": "press"})
    assert too_soon.status_code == 429
    assert too_soon.get_json()["error"]["code"] == "rate_limited"
    assert too_soon.headers["Retry-After"] == "3600"
    clock.advance(hours=1)
    for who in (ANNA, BERT):
        refused = call("POST", PATH, as_=who, json={"list": "press"})
        assert refused.status_code == 403, refused.get_json()
    done = call("POST", PATH, as_=DORA, json={"list": "press"})
    assert done.status_code == 202, done.get_json()
    mail_id = done.get_json()["data"]["system_mail"]
    found = db.get(store, mail_id)
    assert found is not None and (found.kind, found.recipient) == ("confirmation", PERSON)
    missing = call("POST", PATH, as_=DORA, json={})
    assert missing.status_code == 422 and missing.get_json()["error"]["field"] == "list"
    unknown = call(
        "POST",
        "/subscribers/x@zeitung.example/resend-confirmation",
        as_=DORA,
        json={"list": "press"},
    )
    assert unknown.status_code == 422
    assert "no subscriber" in unknown.get_json()["error"]["message"]
