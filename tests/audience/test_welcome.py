"""The welcome mail of a list: once per person and list, after a double opt-in
confirmation or an import flagged as new, in the person's language, through the
system mail outbox."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.audience import Signup
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.signup import confirm_signup, sign_up
from pipeline.store import Store
from pipeline.store import system_mail as db
from tests.audience.conftest import SECRET
from tests.support.mail_items import seed_paragraphs

WELCOME_LISTS = [
    {
        "name": "members",
        "title": "Mitglieder-Newsletter",
        "reason": "Sie erhalten diese E-Mail als Mitglied des Netzwerks.",
        "double_opt_in": False,
        "welcome": "welcome",
    },
    {
        "name": "press",
        "title": "Presseverteiler",
        "reason": "Sie erhalten diese E-Mail, weil Sie sich für den Presseverteiler angemeldet haben.",
        "double_opt_in": True,
        "salutation": "formal",
        "welcome": "welcome",
        "en": {"title": "Press list"},
    },
]


@pytest.fixture
def welcome_settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(lists=WELCOME_LISTS)


@pytest.fixture
def wstore(welcome_settings: Settings) -> Any:
    store = Store.open(welcome_settings.database_url())
    yield store
    store.close()


def _welcomes(store: Store) -> list[db.SystemMail]:
    return [m for m in db.list_mail(store) if m.kind == "welcome"]


def _parts(mail: db.SystemMail) -> tuple[str, str, str]:
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    return str(message["Subject"]), html.get_content(), text.get_content()


def _sign_up_and_confirm(
    settings: Settings, store: Store, clock: FakeClock, address: str, **fields: str
) -> Any:
    outcome = sign_up(
        settings,
        store,
        Signup(email=address, list_name="press", ip="192.0.2.7", source="test", **fields),
        clock=clock,
        secret=SECRET,
    )
    assert outcome.action == "queued"
    (confirmation,) = [
        m for m in db.list_mail(store) if m.kind == "confirmation" and m.recipient == address
    ]
    found = re.search(rb"/confirm/([A-Za-z0-9._=-]+)", confirmation.data.replace(b"=\r\n", b""))
    assert found is not None
    return found.group(1).decode()


def test_a_list_names_its_welcome_template_and_a_bad_name_is_refused_with_its_key(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(lists=WELCOME_LISTS)
    assert settings.list_named("press").welcome == "welcome"
    plain = settings_factory()
    assert plain.list_named("press").welcome == ""
    bad = [dict(WELCOME_LISTS[0], welcome="../etc/passwd")]
    with pytest.raises(ConfigError, match=r"lists.*welcome"):
        settings_factory(lists=bad)


def test_confirming_twice_queues_one_welcome_in_the_persons_language(
    welcome_settings: Settings, wstore: Store, clock: FakeClock
) -> None:
    token = _sign_up_and_confirm(
        welcome_settings,
        wstore,
        clock,
        "lena.schulz@zeitung.example",
        first_name="Lena",
        last_name="Schulz",
        language="en",
    )
    first = confirm_signup(
        welcome_settings, wstore, token, ip="192.0.2.8", clock=clock, secret=SECRET
    )
    assert (first.already, first.welcome_id is not None) == (False, True)
    again = confirm_signup(
        welcome_settings, wstore, token, ip="192.0.2.8", clock=clock, secret=SECRET
    )
    assert again.already and again.welcome_id is None
    (mail,) = _welcomes(wstore)
    assert mail.recipient == "lena.schulz@zeitung.example"
    assert mail.list_name == "press"
    subject, html, text = _parts(mail)
    assert subject == "Welcome to Press list"
    assert 'lang="en"' in html
    assert "Dear Lena Schulz" in text  # formal list, no gender: first and last name
    assert "/u/" in text  # the person may leave at once
    assert "⟦" not in html + text


def test_the_german_welcome_greets_formally_and_names_the_list(
    welcome_settings: Settings, wstore: Store, clock: FakeClock
) -> None:
    token = _sign_up_and_confirm(
        welcome_settings, wstore, clock, "redaktion@lokalblatt.example", first_name="Jonas"
    )
    confirm_signup(welcome_settings, wstore, token, ip="192.0.2.8", clock=clock, secret=SECRET)
    (mail,) = _welcomes(wstore)
    subject, html, text = _parts(mail)
    assert subject == "Willkommen: Presseverteiler"
    assert 'lang="de"' in html
    assert "Guten Tag Jonas" in text
    assert "Presseverteiler" in text
    assert "Netzwerk Junge Bürgermeister*innen" in text
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert message["List-Unsubscribe"]  # a mail of the list: one-click unsubscribe works


def test_a_list_without_a_welcome_template_sends_none(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    token = _sign_up_and_confirm(settings, store, clock, "ohne@zeitung.example")
    confirmed = confirm_signup(settings, store, token, ip="192.0.2.8", clock=clock, secret=SECRET)
    assert not confirmed.already and confirmed.welcome_id is None
    assert _welcomes(store) == []


def test_a_welcome_template_that_does_not_exist_is_named_with_its_list(
    settings_factory: Callable[..., Settings], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The confirmation stands (the person did everything right); the log and a direct
    call name the list and the template."""
    from pipeline.errors import RenderError
    from pipeline.welcome import queue_welcome

    lists = [WELCOME_LISTS[0], dict(WELCOME_LISTS[1], welcome="gibt-es-nicht")]
    settings = settings_factory(lists=lists)
    store = Store.open(settings.database_url())
    try:
        token = _sign_up_and_confirm(settings, store, clock, "vier@zeitung.example")
        confirmed = confirm_signup(
            settings, store, token, ip="192.0.2.8", clock=clock, secret=SECRET
        )
        assert not confirmed.already and confirmed.welcome_id is None
        assert "welcome mail not recorded" in caplog.text
        assert "gibt-es-nicht" in caplog.text
        with pytest.raises(RenderError, match=r"gibt-es-nicht.*press"):
            queue_welcome(settings, store, 1, "press", clock=clock, secret=SECRET)
    finally:
        store.close()


def test_the_welcome_goes_out_through_the_outbox_once(
    welcome_settings: Settings, wstore: Store, clock: FakeClock, tmp_path: Path
) -> None:
    from pipeline.deliver import drain_system_mail

    token = _sign_up_and_confirm(welcome_settings, wstore, clock, "eins@zeitung.example")
    confirm_signup(welcome_settings, wstore, token, ip="192.0.2.8", clock=clock, secret=SECRET)
    report = drain_system_mail(wstore, welcome_settings, None, clock)
    assert report.sent == 2  # the confirmation and the welcome
    assert drain_system_mail(wstore, welcome_settings, None, clock).claimed == 0
    (mail,) = _welcomes(wstore)
    assert mail.status == "sent"


def test_seed_text_in_an_operators_welcome_template(
    settings_factory: Callable[..., Settings], tmp_path: Path, clock: FakeClock
) -> None:
    """An operator's own template (``compose.templates_dir``) is used by its name."""
    from pipeline.welcome import queue_welcome

    folder = tmp_path / "vorlagen"
    folder.mkdir()
    paragraph = seed_paragraphs()[0]
    bundled = Path(__file__).resolve().parents[2] / "templates"
    (folder / "willkommen-presse.mjml.j2").write_text(
        (bundled / "welcome.mjml.j2")
        .read_text(encoding="utf-8")
        .replace("{{ t('welcome.body'", f"{paragraph}{{{{ t('welcome.body'", 1),
        encoding="utf-8",
    )
    (folder / "willkommen-presse.txt.j2").write_text(
        f"{paragraph}\n\n{{% include 'welcome.txt.j2' %}}", encoding="utf-8"
    )
    lists = [WELCOME_LISTS[0], dict(WELCOME_LISTS[1], welcome="willkommen-presse")]
    settings = settings_factory(lists=lists, compose={"templates_dir": str(folder)})
    store = Store.open(settings.database_url())
    try:
        token = _sign_up_and_confirm(settings, store, clock, "drei@zeitung.example")
        confirmed = confirm_signup(
            settings, store, token, ip="192.0.2.8", clock=clock, secret=SECRET
        )
        assert confirmed.welcome_id is not None
        assert queue_welcome(settings, store, 1, "press", clock=clock, secret=SECRET) is None
        (mail,) = _welcomes(store)
        _, html, text = _parts(mail)
        assert paragraph.split()[0] in text and paragraph.split()[0] in html
    finally:
        store.close()


def test_confirming_on_the_page_twice_delivers_one_welcome_over_smtp(
    settings_factory: Callable[..., Settings],
    smtp_server: Any,
    clock: FakeClock,
    live_app: Callable[..., Any],
) -> None:
    import requests

    from pipeline.deliver import drain_system_mail

    settings = settings_factory(
        lists=WELCOME_LISTS,
        web={"base_url": "http://rundbrief.junge-buergermeister.example"},
        delivery={"transport": "smtp"},
        smtp={"host": "127.0.0.1", "port": smtp_server.port, "security": "none"},
    )
    store = Store.open(settings.database_url())
    try:
        site = live_app(settings, store, clock)
        answer = requests.post(
            f"{site.url}/signup",
            json={"email": "Fuenf@Zeitung.example", "list": "press", "consent": True},
            timeout=10,
        )
        assert answer.status_code == 202
        drain_system_mail(store, settings, None, clock)
        (confirmation,) = smtp_server.messages
        text = confirmation.message.get_body(("plain",)).get_content()
        path = re.search(r"/confirm/[A-Za-z0-9._-]+", text)
        assert path is not None
        for _ in range(2):
            done = requests.post(site.url + path.group(), timeout=10)
            assert done.status_code == 200
        assert drain_system_mail(store, settings, None, clock).sent == 1
        welcomes = [m for m in smtp_server.messages if "Willkommen" in str(m.message["Subject"])]
        assert [m.rcpt_tos for m in welcomes] == [["fuenf@zeitung.example"]]
        assert (
            "Sehr geehrte Damen und Herren"
            in welcomes[0].message.get_body(("plain",)).get_content()
        )
    finally:
        store.close()
