"""The lifecycle and overview defects of the workflow, seen through the adapters.

Each test drives the CLI, the web app or the daemon's jobs as a user does, so it runs
against any version of the code: approving with a future send time schedules the
mailing, the daemon sends a scheduled mailing at its time (newsletter and press),
``send`` before the time refuses and names it in local time, and the web page shows
the bounces, complaints and unsubscribes the CLI shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update

from pipeline.access import Actor, Role
from pipeline.clock import FakeClock
from pipeline.config import Settings, load_settings
from pipeline.mailings import Workflow
from pipeline.schedule import jobs
from pipeline.store import Store
from pipeline.store.schema import (
    bounce_events,
    deliveries,
    mailings,
    subscribers,
    subscriptions,
)
from tests.compose.test_cli import CONFIG
from tests.schedule.support import add_subscribers, context, inbox, received_by
from tests.support.cli import run_cli
from tests.support.mail_items import add_items
from tests.support.settings import write_config
from tests.support.web import csrf_from, login, make_app, seed_mailing, set_editor_env

# Friday 19 June 2026, 10:00 in Berlin (CEST): the fixtures' clock.
NOW = datetime(2026, 6, 19, 8, 0, tzinfo=UTC)


def _status(store: Store, mailing_id: int) -> str:
    with store.connect() as conn:
        return str(
            conn.execute(select(mailings.c.status).where(mailings.c.id == mailing_id)).scalar()
        )


def _post(client: FlaskClient, mailing_id: int, action: str, **data: str) -> None:
    page = client.get(f"/editor/mailings/{mailing_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', page)
    form = {"csrf_token": csrf_from(page), **data}
    if version:
        form.setdefault("version", version.group(1))
    response = client.post(f"/editor/mailings/{mailing_id}/{action}", data=form)
    assert response.status_code in (303, 409), response.status_code


@pytest.fixture
def editor(
    settings: Settings, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FlaskClient]:
    set_editor_env(monkeypatch, settings)
    with make_app(settings, store, clock).test_client() as client:
        assert login(client).status_code == 303
        yield client


# --- scheduled is entered, and the daemon keeps the time --------------------------------


@pytest.mark.parametrize("kind", ["newsletter", "press"])
def test_approving_with_a_future_send_time_schedules_and_the_daemon_sends_it_then(
    editor: FlaskClient, settings: Settings, store: Store, clock: FakeClock, kind: str
) -> None:
    lists = ["press"] if kind == "press" else ["members"]
    mailing = seed_mailing(store, clock, items=1 if kind == "press" else 3, kind=kind, lists=lists)
    emails = add_subscribers(store, clock, 3, lists=lists)

    def delivered() -> int:  # the operator's notices go to the same Maildir
        return sum(received_by(inbox(settings))[e] for e in emails)

    # Saturday 20 June, 09:30 in Berlin: before the newsletter's cron time of week 26
    _post(
        editor, mailing.id, "content", subject=mailing.subject, intro="", send_at="2026-06-20T09:30"
    )
    if kind == "press":  # four eyes (issue 12): another approver approves the edited text
        other = Actor("vorstand@junge-buergermeister.example", Role.APPROVER)
        Workflow(settings, store, clock).approve(mailing.id, by=other)
    else:
        _post(editor, mailing.id, "approve")
    assert _status(store, mailing.id) == "scheduled"

    ctx = context(settings, store, clock)
    jobs.sync_job(ctx)
    assert _status(store, mailing.id) == "scheduled"
    assert delivered() == 0

    clock.set(datetime(2026, 6, 20, 7, 30, 5, tzinfo=UTC))  # 09:30:05 in Berlin
    if kind == "press":
        jobs.release_press_job(ctx, mailing.id)
    else:
        jobs.sync_job(ctx)
    assert _status(store, mailing.id) == "sent"
    assert delivered() == 3


# --- send before the time refuses, naming it in local time -----------------------------


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNDBRIEF_TEST_SECRET", "ein-langes-geheimnis-fuer-die-links")
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path, CONFIG)
    store = Store.open(load_settings(path).database_url())
    add_items(store, datetime.now(UTC), 5, kinds=("article", "event_report"))
    store.close()
    return path


def test_send_before_the_send_time_refuses_and_names_it_in_local_time(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    composed = run_cli(capsys, config, "compose", "newsletter", "--json").json()
    mailing_id = composed["mailing"]
    later = (datetime.now(UTC) + timedelta(days=2)).astimezone(
        load_settings(config).organisation.tz
    )
    local = later.strftime("%Y-%m-%dT%H:%M")
    assert run_cli(capsys, config, "edit", str(mailing_id), "--send-at", local).returncode == 0
    approved = run_cli(capsys, config, "approve", str(mailing_id), "--json")
    assert approved.returncode == 0, approved.stderr

    refused = run_cli(capsys, config, "send", str(mailing_id))
    assert refused.returncode != 0
    message = refused.stdout + refused.stderr
    assert later.strftime("%Y-%m-%d %H:%M") in message
    assert "Europe/Berlin" in message
    assert approved.json()["status"] == "scheduled"
    shown = run_cli(capsys, config, "mailing", "show", str(mailing_id), "--json").json()
    assert shown["status"] == "scheduled"


# --- one overview: the web page shows what the CLI shows -------------------------------


def test_the_mailing_page_shows_bounces_complaints_and_unsubscribes(
    editor: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    _post(editor, mailing.id, "approve")
    emails = add_subscribers(store, clock, 4, lists=["members"])
    with store.begin() as conn:
        ids = {}
        for email in emails:
            ids[email] = conn.execute(
                insert(deliveries).values(
                    mailing_id=mailing.id,
                    email=email,
                    list_name="members",
                    status="sent",
                    sent_at=clock.now(),
                    created_at=clock.now(),
                    subscriber_id=conn.execute(
                        select(subscribers.c.id).where(subscribers.c.email == email)
                    ).scalar(),
                )
            ).inserted_primary_key[0]
        for n, (email, kind) in enumerate(zip(emails, ("hard", "hard", "complaint"), strict=False)):
            conn.execute(
                insert(bounce_events).values(
                    delivery_id=ids[email],
                    email_hash=f"{n:064d}",
                    kind=kind,
                    source="test",
                    received_at=clock.now(),
                )
            )
        conn.execute(
            update(subscriptions)
            .where(
                subscriptions.c.subscriber_id
                == select(subscribers.c.id)
                .where(subscribers.c.email == emails[3])
                .scalar_subquery()
            )
            .values(status="unsubscribed", unsubscribed_at=clock.now() + timedelta(hours=1))
        )
        conn.execute(
            update(mailings)
            .where(mailings.c.id == mailing.id)
            .values(status="sent", sending_started_at=clock.now(), sent_at=clock.now())
        )
    html = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert re.search(r"zugestellt</th><td>4<", html)
    assert re.search(r"unzustellbar \(dauerhaft\)</th><td>2<", html)
    assert re.search(r"Beschwerden</th><td>1<", html)
    assert re.search(r"Abmeldungen danach</th><td>1<", html)
