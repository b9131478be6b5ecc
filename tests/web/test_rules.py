"""Issue 12 in the editor pages: the web acts as the logged-in editor (from the client's
address), every action goes through the workflow's role check and four-eyes rule, and
the mailing page shows its audit log."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient

from pipeline import audit
from pipeline.access import LEAST_ROLE, Action, Actor, Role, allowed
from pipeline.accounts import Accounts
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.models import MailingKind, MailingStatus
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from pipeline.web.refusals import ROLE_NAMES
from tests.support.web import EDITOR, csrf_from, login, seed_mailing

S = MailingStatus
OTHER = "vorstand@junge-buergermeister.example"


@pytest.fixture
def editor(client: FlaskClient) -> FlaskClient:
    assert login(client).status_code == 303
    return client


def _post(client: FlaskClient, mailing_id: int, action: str, **data: str) -> Any:
    page = client.get(f"/editor/mailings/{mailing_id}").get_data(as_text=True)
    return client.post(
        f"/editor/mailings/{mailing_id}/{action}",
        data={"csrf_token": csrf_from(page), **data},
        follow_redirects=True,
    )


def _version(store: Store, mailing_id: int) -> str:
    return store_mailings.get_mailing(store, mailing_id).updated_at.isoformat()


# What each editor form does: (action the workflow checks, form data, audit name).
FORMS: dict[str, tuple[Action, Callable[[Store, int], dict[str, str]], str]] = {
    "content": (Action.EDIT, lambda s, m: {"subject": "Neu", "intro": "Hallo"}, "edit"),
    "items": (
        Action.EDIT,
        lambda s, m: {f"drop-{store_mailings.get_mailing(s, m).item_ids[0]}": "1"},
        "edit",
    ),
    "test": (
        Action.TEST_COPY,
        lambda s, m: {"to": "redaktion@junge-buergermeister.example"},
        "test_copy",
    ),
    "approve": (Action.APPROVE, lambda s, m: {"version": _version(s, m)}, "approve"),
    "cancel": (Action.CANCEL, lambda s, m: {"confirm": "yes"}, "cancel"),
}


ROLE_PASSWORD = "ein-langes-passwort-fuer-jede-rolle"


def _account_of(role: Role, settings: Settings, store: Store, clock: FakeClock) -> str:
    """A real account of ``role`` (added by the admin the env log-in became)."""
    email = f"{role}@junge-buergermeister.example"
    service = Accounts(store, settings, clock)
    service.add(service.actor_for(EDITOR), email, role, ROLE_PASSWORD)
    return email


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("form", list(FORMS))
def test_each_role_through_the_editor_pages(
    client: FlaskClient,
    settings: Settings,
    store: Store,
    clock: FakeClock,
    form: str,
    role: Role,
) -> None:
    action, data, logged = FORMS[form]
    email = _account_of(role, settings, store, clock)
    assert login(client, email, ROLE_PASSWORD).status_code == 303
    mailing = seed_mailing(store, clock)
    before = store_mailings.get_mailing(store, mailing.id)
    page = unescape(_post(client, mailing.id, form, **data(store, mailing.id)).get_data(True))
    entries = audit.entries(store, mailing=mailing.id)
    if allowed(Actor(email, role), action):
        assert [(e.action, e.actor_email, e.actor_role, e.channel) for e in entries] == [
            (logged, email, str(role), "web")
        ]
        assert entries[0].address == "127.0.0.1"
    else:
        # said in the page's language, with her role and the one needed
        assert f"Ihre Rolle ({ROLE_NAMES[role]}) erlaubt das nicht" in page
        assert f"braucht die Rolle {ROLE_NAMES[LEAST_ROLE[action]]}" in page
        assert entries == []
        assert store_mailings.get_mailing(store, mailing.id) == before


def test_the_web_editor_cannot_approve_the_press_release_they_edited(
    editor: FlaskClient, settings: Settings, store: Store, clock: FakeClock
) -> None:
    press = seed_mailing(store, clock, kind=MailingKind.PRESS, lists=["press"], items=1)
    _post(editor, press.id, "content", subject="Pressemitteilung: Investitionen", intro="")
    assert store_mailings.get_mailing(store, press.id).last_edited_by == EDITOR
    page = unescape(
        _post(editor, press.id, "approve", version=_version(store, press.id)).get_data(True)
    )
    assert f"{EDITOR} edited this press release last; another approver must approve it" in page
    assert store_mailings.get_mailing(store, press.id).status == S.DRAFT
    # another approver (here: on the command line) may
    from pipeline.mailings import Workflow

    flow = Workflow(settings, store, clock)
    assert flow.approve(press.id, by=Actor(OTHER, Role.APPROVER)).status == S.APPROVED


def test_the_mailing_page_shows_its_audit_log(
    editor: FlaskClient, store: Store, clock: FakeClock
) -> None:
    mailing = seed_mailing(store, clock)
    page = editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True)
    assert "Verlauf" in page and "Noch keine Einträge." in page
    _post(editor, mailing.id, "content", subject="Sommerausgabe", intro="")
    _post(editor, mailing.id, "approve", version=_version(store, mailing.id))
    page = unescape(editor.get(f"/editor/mailings/{mailing.id}").get_data(as_text=True))
    assert page.count('class="audit-entry"') == 2
    assert f"{EDITOR} <small>(admin, web 127.0.0.1)</small>" in page
    assert "edited newsletter" in page and "approved newsletter" in page
    assert f'Zuletzt bearbeitet von</dt><dd id="last-edited-by">{EDITOR}' in page


def test_the_subscriber_page_shows_its_history_and_keeps_it_without_data_after_erasure(
    editor: FlaskClient,
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.subscribers import Subscribers

    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")
    people = Subscribers(settings, store, clock)
    csv = tmp_path / "people.csv"
    csv.write_text("email,first_name\nerika@example.org,Erika\n", encoding="utf-8")
    admin = Actor(OTHER, Role.ADMIN)
    people.import_csv(csv, list_name="members", by=admin)
    people.unsubscribe("erika@example.org", ["members"], by=admin)
    ident = int(audit.entries(store, user=OTHER)[-1].target_id)

    page = unescape(editor.get(f"/editor/subscribers/{ident}").get_data(as_text=True))
    assert "erika@example.org" in page and "Mitglieder-Newsletter: unsubscribed" in page
    assert f"unsubscribed subscriber #{ident} from members" in page

    people.erase("erika@example.org", by=admin)
    response = editor.get(f"/editor/subscribers/{ident}")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "erika" not in page.lower()
    assert "Diese Person wurde gelöscht" in page
    assert page.count('class="audit-entry"') == 2  # the unsubscribe and the erasure
    assert editor.get("/editor/subscribers/999999").status_code == 404
