"""Where a test copy may go: one rule in the workflow for the web, the API and the CLI
(the actor's own address, ``[sender] editors``, active accounts), so an editor's password
or token cannot turn Rundbrief into a relay."""

from __future__ import annotations

import pytest

from pipeline import audit
from pipeline.access import Role
from pipeline.accounts import Accounts
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import PermissionDenied
from pipeline.mailings import Workflow
from pipeline.models import Mailing
from pipeline.store import Store
from tests.audit.conftest import ANNA, DORA, of_role, person

COLLEAGUE = "clara.kollegin@junge-buergermeister.example"
GONE = "gerd.ehemalig@junge-buergermeister.example"
PASSWORD = "ein-langes-passwort-fuer-tests"


@pytest.fixture
def newsletter(flow: Workflow) -> Mailing:
    made = flow.compose_newsletter(by=of_role(Role.EDITOR))
    assert made is not None
    return made


@pytest.fixture
def team(settings: Settings, store: Store, clock: FakeClock) -> Accounts:
    accounts = Accounts(store, settings, clock)
    admin = person(DORA, Role.ADMIN)
    accounts.add(admin, DORA, "admin", PASSWORD)
    accounts.add(admin, COLLEAGUE, "editor", PASSWORD)
    accounts.add(admin, GONE, "editor", PASSWORD)
    accounts.disable(admin, GONE)
    return accounts


def test_own_address_editors_and_active_colleagues_are_allowed(
    flow: Workflow, team: Accounts, settings: Settings
) -> None:
    anna = person(ANNA, Role.EDITOR)
    allowed = flow.test_recipients(anna)
    assert allowed[0] == ANNA
    assert set(allowed) == {ANNA, *settings.sender.editors, DORA, COLLEAGUE}
    assert GONE not in allowed  # a disabled account is no colleague any more


@pytest.mark.parametrize("to", ["fremd@example.org", GONE, "anna@junge-buergermeister.example.org"])
def test_any_other_address_is_refused_and_nothing_is_logged(
    flow: Workflow, team: Accounts, newsletter: Mailing, store: Store, to: str
) -> None:
    with pytest.raises(PermissionDenied, match="test copies go only to the organisation"):
        flow.send_test_copy(newsletter.id, to, by=person(ANNA, Role.EDITOR))
    assert [e.action for e in audit.entries(store, mailing=newsletter.id)] == ["compose"]


def test_the_address_is_matched_without_case_and_sent_as_the_account_spells_it(
    flow: Workflow, team: Accounts, newsletter: Mailing, store: Store
) -> None:
    result = flow.send_test_copy(newsletter.id, f" {COLLEAGUE.upper()} ", by=of_role(Role.EDITOR))
    assert result.ok, result.error
    assert result.recipient == COLLEAGUE
    entry = audit.entries(store, mailing=newsletter.id)[-1]
    assert (entry.action, entry.details["to"]) == ("test_copy", COLLEAGUE)
