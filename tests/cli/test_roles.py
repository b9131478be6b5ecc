"""Issue 12 on the command line: each role allowed and refused each action, acting
``--as`` a real account (the accounts are in the store, the role comes from there).

A refused command exits 1 with the reason on stderr, changes nothing and writes no audit
entry; an allowed one exits 0 and writes its entry naming the account and the channel
``cli``. Account management by role is in ``tests/accounts/test_cli.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline import audit
from pipeline.access import LEAST_ROLE, Action, Actor, Role
from pipeline.accounts import Accounts
from pipeline.clock import SystemClock
from pipeline.config import Settings, load_settings
from pipeline.mailings import Workflow
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from pipeline.subscribers import Subscribers
from tests.compose.test_cli import CONFIG
from tests.support.cli import Run, run_cli
from tests.support.mail_items import add_items
from tests.support.settings import write_config

PASSWORD = "ein-langes-passwort-fuer-die-rollen"
EMAIL = {
    Role.EDITOR: "anna@junge-buergermeister.example",
    Role.APPROVER: "bert@junge-buergermeister.example",
    Role.ADMIN: "dora@junge-buergermeister.example",
}
SETUP = Actor("setup@junge-buergermeister.example", Role.ADMIN)
SUBSCRIBER = "max.muster@example.org"


@dataclass
class Site:
    config: Path
    settings: Settings
    store: Store
    flow: Workflow
    people: Subscribers
    csv: Path
    run: Callable[..., Run]


@pytest.fixture
def site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Site]:
    monkeypatch.setenv("RUNDBRIEF_TEST_SECRET", "ein-langes-geheimnis-fuer-die-links")
    monkeypatch.delenv("RUNDBRIEF_AS", raising=False)
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, CONFIG)
    settings = load_settings(config)
    store = Store.open(settings.database_url())
    clock = SystemClock()
    add_items(store, datetime.now(UTC), 4, kinds=("article", "event_report", "press_release"))
    accounts = Accounts(store, settings, clock)
    for role, email in EMAIL.items():
        accounts.add(SETUP, email, role, PASSWORD)
    csv = tmp_path / "mitglieder.csv"
    csv.write_text(f"email,first_name\n{SUBSCRIBER},Max\n", encoding="utf-8")

    def run(*args: str) -> Run:
        return run_cli(capsys, config, *args)

    yield Site(
        config,
        settings,
        store,
        Workflow(settings, store, clock),
        Subscribers(settings, store, clock),
        csv,
        run,
    )
    store.close()


def _draft(site: Site) -> str:
    mailing = site.flow.compose_newsletter(by=SETUP)
    assert mailing is not None
    return str(mailing.id)


def _approved(site: Site) -> str:
    mailing_id = _draft(site)
    site.flow.approve(int(mailing_id), by=SETUP)
    return mailing_id


def _subscribed(site: Site) -> str:
    site.people.import_csv(site.csv, list_name="members", by=SETUP)
    return SUBSCRIBER


def _nothing(site: Site) -> str:
    return ""


# command -> (action the workflow checks, prepare -> an argument, the arguments, audit name)
Prepare = Callable[[Site], str]
Args = Callable[[Site, str, str], list[str]]
COMMANDS: dict[str, tuple[Action, Prepare, Args, str]] = {
    "compose newsletter": (
        Action.COMPOSE,
        _nothing,
        lambda s, _, me: ["compose", "newsletter"],
        "compose",
    ),
    "compose press": (
        Action.COMPOSE,
        _nothing,
        lambda s, _, me: ["compose", "press", "3"],
        "compose",
    ),
    "edit": (Action.EDIT, _draft, lambda s, mid, me: ["edit", mid, "--subject", "Neu"], "edit"),
    "test copy": (
        Action.TEST_COPY,
        _draft,
        lambda s, mid, me: ["send", mid, "--test-to", me],
        "test_copy",
    ),
    "approve": (Action.APPROVE, _draft, lambda s, mid, me: ["approve", mid], "approve"),
    "send": (Action.SEND, _approved, lambda s, mid, me: ["send", mid], "send"),
    "cancel": (Action.CANCEL, _draft, lambda s, mid, me: ["cancel", mid], "cancel"),
    "import": (
        Action.IMPORT,
        _nothing,
        lambda s, _, me: ["subscribers", "import", str(s.csv), "--list", "members"],
        "import",
    ),
    "unsubscribe": (
        Action.UNSUBSCRIBE,
        _subscribed,
        lambda s, who, me: ["subscribers", "unsubscribe", who, "--list", "members"],
        "unsubscribe",
    ),
    "suppress": (
        Action.SUPPRESS,
        _subscribed,
        lambda s, who, me: ["subscribers", "suppress", who],
        "suppress",
    ),
    "export": (
        Action.EXPORT,
        _subscribed,
        lambda s, who, me: ["subscribers", "export", who],
        "export",
    ),
    "erase": (Action.ERASE, _subscribed, lambda s, who, me: ["subscribers", "erase", who], "erase"),
}


def test_every_action_a_command_does_is_in_the_matrix() -> None:
    covered = {action for action, *_ in COMMANDS.values()}
    assert covered == set(LEAST_ROLE) - {
        Action.VIEW,  # every role: test_every_role_may_look
        Action.PREVIEW,  # a look, every role (rundbrief preview)
        Action.SCHEDULE,  # approve of a draft with a send time ahead: tests/audit/test_cli.py
        Action.MANAGE_ACCOUNTS,  # tests/accounts/test_cli.py
        Action.MANAGE_LISTS,  # lists live in config.toml; no command changes them
    }


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_role_is_allowed_or_refused_each_command(site: Site, name: str, role: Role) -> None:
    action, prepare, args, audit_name = COMMANDS[name]
    target = prepare(site)
    before = audit.entries(site.store)
    statuses = [m.status for m in store_mailings.list_mailings(site.store)]
    me = EMAIL[role]
    run = site.run("--as", me, *args(site, target, me))
    new = audit.entries(site.store)[len(before) :]
    if role.rank >= LEAST_ROLE[action].rank:
        assert run.returncode == 0, run.stderr
        assert [(e.action, e.actor_email, e.actor_role, e.channel) for e in new] == [
            (audit_name, me, role.value, "cli")
        ]
    else:
        assert run.returncode == 1
        assert f"{me} ({role}) may not {action.value.replace('_', ' ')}" in run.stderr
        assert new == []
        assert [m.status for m in store_mailings.list_mailings(site.store)] == statuses


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_role_may_look(site: Site, role: Role, tmp_path: Path) -> None:
    mailing_id = _draft(site)
    _subscribed(site)
    me = EMAIL[role]
    for args in (
        ["mailings"],
        ["mailing", "show", mailing_id],
        ["preview", mailing_id, "--out", str(tmp_path / "vorschau")],
        ["subscribers", "list"],
        ["subscribers", "show", SUBSCRIBER],
        ["audit", "--mailing", mailing_id],
    ):
        run = site.run("--as", me, *args)
        assert run.returncode == 0, (args, run.stderr)


def test_an_unknown_or_disabled_account_cannot_act(site: Site) -> None:
    mailing_id = _draft(site)
    unknown = site.run("--as", "niemand@junge-buergermeister.example", "approve", mailing_id)
    assert unknown.returncode == 1
    assert "niemand@junge-buergermeister.example" in unknown.stderr
    Accounts(site.store, site.settings, SystemClock()).disable(SETUP, EMAIL[Role.APPROVER])
    disabled = site.run("--as", EMAIL[Role.APPROVER], "approve", mailing_id)
    assert disabled.returncode == 1
    assert "disabled" in disabled.stderr
    assert site.flow.get(int(mailing_id)).status == "draft"
