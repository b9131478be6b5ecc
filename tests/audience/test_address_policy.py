"""One address policy for import, sign-up and sender: no SMTPUTF8 addresses.

An address with characters outside ASCII before the @ (``jörg@münchen.de``) is refused
where it comes in, with the line of the CSV or a clear message at sign-up; one already
in the store (from an older release) fails alone at send time and never pauses a
healthy mailing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from pipeline.audience import AddressError, NonAsciiLocalPart, accept_address, wire_address
from pipeline.audience.csv_import import import_file
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.headers import check_address
from pipeline.deliver.outbox import send_mailing
from pipeline.errors import PermanentDeliveryError
from pipeline.store import Store
from pipeline.store import outbox as db
from pipeline.store.schema import subscribers, subscriptions
from tests.deliver.support import add_mailing
from tests.support.smtp import SmtpServer
from tests.support.web import make_app, set_editor_env

CSV = (
    "email,first_name,last_name\n"
    "anna@verein.example,Anna,Alt\n"  # 2
    "jörg@xn--mnchen-3ya.de,Jörg,Süß\n"  # 3: SMTPUTF8
    "bjoern@münchen.example,Björn,Bär\n"  # 4: IDN domain only: fine
)


def _smtp(settings_factory: Callable[..., Settings], server: SmtpServer, **delivery: object):
    return settings_factory(
        delivery={"transport": "smtp", "per_second": 10_000, "batch_size": 50, **delivery},
        smtp={"host": server.host, "port": server.port, "connections": 1, "timeout": 5},
    )


def test_import_refuses_smtputf8_addresses_with_the_line_and_the_rest_is_sent(
    settings_factory: Callable[..., Settings],
    store: Store,
    clock: FakeClock,
    write_csv: Callable[..., Path],
    smtp_server: SmtpServer,
) -> None:
    settings = _smtp(settings_factory, smtp_server)
    report = import_file(settings, store, write_csv(CSV), clock=clock, list_name="members")
    errors = list(report.errors)
    assert [(e.line, e.email) for e in errors] == [(3, "jörg@xn--mnchen-3ya.de")]
    assert "outside ASCII before the @" in errors[0].reason
    assert report.created == 2

    mailing_id = add_mailing(store, clock)
    sent = send_mailing(settings, store, mailing_id, clock=clock)
    assert (sent.status, sent.sent, sent.failed) == ("sent", 2, 0)
    assert sorted(smtp_server.sink.recipients()) == [
        "anna@verein.example",
        "bjoern@xn--mnchen-3ya.example",
    ]


def _legacy_rows(store: Store, clock: FakeClock, emails: list[str]) -> None:
    """Rows as an older release imported them (before the policy refused them)."""
    now = clock.now()
    with store.begin() as conn:
        for email in emails:
            sid = conn.execute(
                insert(subscribers).values(
                    email=email,
                    email_hash=hashlib.sha256(email.encode()).hexdigest(),
                    first_name="",
                    last_name="",
                    salutation="",
                    language="de",
                    attributes={},
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]
            conn.execute(
                insert(subscriptions).values(
                    subscriber_id=sid,
                    list_name="members",
                    status="active",
                    source="import:old",
                    created_at=now,
                    updated_at=now,
                )
            )


def test_stored_smtputf8_addresses_fail_alone_and_never_pause_the_mailing(
    settings_factory: Callable[..., Settings],
    store: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,
) -> None:
    settings = _smtp(settings_factory, smtp_server, pause_after_failures=2, batch_size=2)
    legacy = [f"jörg{n}@xn--mnchen-3ya.de" for n in range(6)]
    _legacy_rows(store, clock, [*legacy, "anna@verein.example", "otto@verein.example"])
    mailing_id = add_mailing(store, clock)
    report = send_mailing(settings, store, mailing_id, clock=clock)
    assert report.status == "sent", report.paused_reason
    assert (report.sent, report.failed) == (2, 6)
    counts = db.counts(store, mailing_id)
    assert (counts["sent"], counts["failed"]) == (2, 6)
    assert sorted(smtp_server.sink.recipients()) == ["anna@verein.example", "otto@verein.example"]
    assert all("outside ASCII" in error for error in report.errors)


@pytest.fixture
def client(
    settings: Settings, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> FlaskClient:
    set_editor_env(monkeypatch, settings)
    return make_app(settings, store, clock).test_client()


def test_signup_refuses_smtputf8_addresses_in_german_and_english(client: FlaskClient) -> None:
    def post(**extra: object) -> tuple[int, str]:
        payload = {"email": "jörg@münchen.de", "list": "press", "consent": True, **extra}
        answer = client.post("/signup", json=payload)
        return answer.status_code, answer.get_json()["error"]

    status, german = post()
    assert status == 400 and "Zeichen außerhalb von ASCII vor dem @" in german
    status, english = post(language="en")
    assert status == 400 and "characters outside ASCII before the @" in english


def test_the_sender_accepts_whatever_the_policy_accepts() -> None:
    assert accept_address("Anna@MÜNCHEN.de") == "anna@xn--mnchen-3ya.de"
    with pytest.raises(NonAsciiLocalPart):
        accept_address("Jörg@münchen.de")
    with pytest.raises(PermanentDeliveryError, match="outside ASCII"):
        check_address("jörg@xn--mnchen-3ya.de")


ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"


@settings(max_examples=300, deadline=None, database=None)
@given(
    local=st.text(alphabet=ATEXT + '.öé"() ', min_size=0, max_size=20),
    domain=st.one_of(
        st.text(alphabet="abcäöü-.", min_size=0, max_size=20).map(lambda d: d + ".example"),
        st.sampled_from(["localhost", "x.test", "münchen.de", "xn--mnchen-3ya.de", "[1.2.3.4]"]),
    ),
)
def test_nothing_is_accepted_that_the_sender_refuses(local: str, domain: str) -> None:
    try:
        accepted = accept_address(f"{local}@{domain}")
    except AddressError:
        return
    assert wire_address(accepted) == accepted
    assert check_address(accepted) == accepted
