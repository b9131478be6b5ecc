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


def test_a_welcome_template_that_does_not_exist_is_refused_at_load_with_list_and_key(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    lists = [WELCOME_LISTS[0], dict(WELCOME_LISTS[1], welcome="gibt-es-nicht")]
    with pytest.raises(ConfigError, match=r"\[\[lists\]\] 'press': welcome = 'gibt-es-nicht'"):
        settings_factory(lists=lists)
    folder = tmp_path / "vorlagen"
    folder.mkdir()
    (folder / "gibt-es-nicht.mjml.j2").write_text("<mjml></mjml>", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"gibt-es-nicht\.txt\.j2"):
        settings_factory(lists=lists, compose={"templates_dir": str(folder)})


def test_a_broken_welcome_template_does_not_undo_the_confirmation(
    settings_factory: Callable[..., Settings],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """The confirmation stands (the person did everything right); the log and a direct
    call name the list and the template."""
    from pipeline.audience import is_receiving
    from pipeline.errors import RenderError
    from pipeline.welcome import queue_welcome

    folder = tmp_path / "vorlagen"
    folder.mkdir()
    (folder / "kaputt.mjml.j2").write_text("<mjml>{% if %}</mjml>", encoding="utf-8")
    (folder / "kaputt.txt.j2").write_text("Hallo", encoding="utf-8")
    lists = [WELCOME_LISTS[0], dict(WELCOME_LISTS[1], welcome="kaputt")]
    settings = settings_factory(lists=lists, compose={"templates_dir": str(folder)})
    store = Store.open(settings.database_url())
    try:
        token = _sign_up_and_confirm(settings, store, clock, "vier@zeitung.example")
        confirmed = confirm_signup(
            settings, store, token, ip="192.0.2.8", clock=clock, secret=SECRET
        )
        assert not confirmed.already and confirmed.welcome_id is None
        assert is_receiving(store, "vier@zeitung.example", "press")
        assert "welcome mail not recorded" in caplog.text
        assert "kaputt" in caplog.text
        with pytest.raises(RenderError, match=r"'kaputt' of list 'press'"):
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


PRESS_CSV = (
    "email,salutation,title,first_name,last_name,language,outlet,beat,region\n"
    "j.koehler@tageszeitung-ost.example,Frau,,Jana,Köhler,de,Tageszeitung Ost,"
    "Kommunalpolitik,Berlin\n"
    "redaktion.gruen@landesfunk.example,Herr,Dr.,Björn,Grün,en,Landesfunk,"
    "Landespolitik,Brandenburg\n"
)


def _ops(settings: Settings, store: Store, clock: FakeClock) -> Any:
    from pipeline.subscribers import Subscribers

    return Subscribers(settings, store, clock)


def test_an_import_flagged_as_new_welcomes_each_person_once_in_their_language(
    welcome_settings: Settings, wstore: Store, clock: FakeClock, tmp_path: Path
) -> None:
    from tests.api.conftest import ROOT

    path = tmp_path / "presse.csv"
    path.write_text(PRESS_CSV, encoding="utf-8")
    ops = _ops(welcome_settings, wstore, clock)
    first = ops.import_csv(path, list_name="press", welcome=True, by=ROOT)
    assert (first.subscribed, first.welcomed) == (2, 2)
    clock.advance(days=1)
    again = ops.import_csv(path, list_name="press", welcome=True, by=ROOT)
    assert (again.subscribed, again.welcomed) == (0, 0)
    mails = {m.recipient: _parts(m) for m in _welcomes(wstore)}
    assert sorted(mails) == [
        "j.koehler@tageszeitung-ost.example",
        "redaktion.gruen@landesfunk.example",
    ]
    subject, _, text = mails["j.koehler@tageszeitung-ost.example"]
    assert subject == "Willkommen: Presseverteiler" and "Sehr geehrte Frau Köhler" in text
    subject, _, text = mails["redaktion.gruen@landesfunk.example"]
    assert subject == "Welcome to Press list" and "Dear Dr. Grün" in text


def test_an_import_without_the_flag_welcomes_nobody_and_later_flags_do_not_either(
    welcome_settings: Settings, wstore: Store, clock: FakeClock, tmp_path: Path
) -> None:
    from tests.api.conftest import ROOT

    path = tmp_path / "presse.csv"
    path.write_text(PRESS_CSV, encoding="utf-8")
    ops = _ops(welcome_settings, wstore, clock)
    report = ops.import_csv(path, list_name="press", by=ROOT)
    assert report.subscribed == 2 and report.joined is None
    assert ops.import_csv(path, list_name="press", welcome=True, by=ROOT).welcomed == 0
    assert (
        ops.import_csv(path, list_name="press", dry_run=True, welcome=True, by=ROOT).welcomed == 0
    )
    assert _welcomes(wstore) == []


def test_an_import_with_welcome_to_a_list_without_one_or_a_broken_template_stops_first(
    settings_factory: Callable[..., Settings], clock: FakeClock, tmp_path: Path
) -> None:
    from pipeline.errors import AudienceError, RenderError
    from tests.api.conftest import ROOT

    path = tmp_path / "presse.csv"
    path.write_text(PRESS_CSV, encoding="utf-8")
    folder = tmp_path / "vorlagen"
    folder.mkdir()
    (folder / "fehlt.mjml.j2").write_text("<mjml>{{ nicht.da() }}</mjml>", encoding="utf-8")
    (folder / "fehlt.txt.j2").write_text("Hallo", encoding="utf-8")
    lists = [dict(WELCOME_LISTS[0], welcome=""), dict(WELCOME_LISTS[1], welcome="fehlt")]
    settings = settings_factory(lists=lists, compose={"templates_dir": str(folder)})
    store = Store.open(settings.database_url())
    try:
        ops = _ops(settings, store, clock)
        with pytest.raises(AudienceError, match=r"'members' names no welcome template"):
            ops.import_csv(path, list_name="members", welcome=True, by=ROOT)
        with pytest.raises(RenderError, match=r"fehlt"):
            ops.import_csv(path, list_name="press", welcome=True, by=ROOT)
        from pipeline.audience import is_receiving

        assert not is_receiving(store, "j.koehler@tageszeitung-ost.example", "press")
    finally:
        store.close()


def test_cli_import_welcome_prints_the_count(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.support.cli import run_cli
    from tests.support.settings import write_config

    config = write_config(tmp_path, CLI_CONFIG)
    path = tmp_path / "presse.csv"
    path.write_text(PRESS_CSV, encoding="utf-8")
    run = run_cli(
        capsys, config, "subscribers", "import", str(path), "--list", "press", "--welcome"
    )
    assert run.returncode == 0, run.stderr
    assert "2 welcome mails queued" in run.stdout
    run = run_cli(
        capsys, config, "subscribers", "import", str(path), "--list", "press", "--welcome", "--json"
    )
    assert run.json()["welcomed"] == 0
    listed = run_cli(capsys, config, "mail", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [m["kind"] for m in listed.json()["mail"]].count("welcome") == 2


CLI_CONFIG = """
[organisation]
name = "Netzwerk Junge Bürgermeister*innen"
website = "https://www.junge-buergermeister.example"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "https://www.junge-buergermeister.example/impressum"

[storage]
url = "sqlite:///var/test.db"

[sender]
from_name = "Netzwerk"
from_address = "newsletter@junge-buergermeister.example"

[[lists]]
name = "members"
title = "Mitglieder"
reason = "Sie sind Mitglied."
double_opt_in = false

[[lists]]
name = "press"
title = "Presseverteiler"
reason = "Sie sind im Presseverteiler."
salutation = "formal"
welcome = "welcome"
"""


def _active_press_person(settings: Settings, store: Store, clock: FakeClock, tmp_path: Path) -> int:
    from pipeline.audience import subscriber_id
    from tests.api.conftest import ROOT

    path = tmp_path / "eine.csv"
    path.write_text(
        "email,first_name,last_name,salutation,language\n"
        "t.wagner@rundfunk.example,Tobias,Wagner,Herr,de\n",
        encoding="utf-8",
    )
    _ops(settings, store, clock).import_csv(path, list_name="press", by=ROOT)
    found = subscriber_id(store, "t.wagner@rundfunk.example")
    assert found is not None
    return found


def _record_at_once(settings: Settings, store: Store, clock: FakeClock, person: int) -> list[Any]:
    """Eight threads record the same welcome at the same moment."""
    import threading

    from pipeline.welcome import queue_welcome

    start = threading.Barrier(8)
    results: list[Any] = []

    def one() -> None:
        start.wait()
        results.append(queue_welcome(settings, store, person, "press", clock=clock, secret=SECRET))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_eight_at_once_record_one_welcome_on_sqlite(
    welcome_settings: Settings, wstore: Store, clock: FakeClock, tmp_path: Path
) -> None:
    person = _active_press_person(welcome_settings, wstore, clock, tmp_path)
    results = _record_at_once(welcome_settings, wstore, clock, person)
    assert len(results) == 8 and len([r for r in results if r is not None]) == 1
    (mail,) = _welcomes(wstore)
    assert mail.once_key == f"welcome:{person}:press"
    assert "Sehr geehrter Herr Wagner" in _parts(mail)[2]


def test_eight_at_once_record_one_welcome_on_postgresql(
    settings_factory: Callable[..., Settings], pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    settings = settings_factory(lists=WELCOME_LISTS, storage={"url": pg_url})
    store = Store.open(pg_url)
    try:
        person = _active_press_person(settings, store, clock, tmp_path)
        results = _record_at_once(settings, store, clock, person)
        assert len([r for r in results if r is not None]) == 1
        assert len(_welcomes(store)) == 1
    finally:
        store.close()


def test_erasing_a_person_scrubs_and_stops_their_waiting_welcome_and_confirmation(
    welcome_settings: Settings, wstore: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """The system mail outbox holds whole messages (address, name): erasure (DSGVO
    Art. 17) removes them there too, and what has not gone out yet never goes."""
    from pipeline.deliver import drain_system_mail
    from tests.api.conftest import ROOT

    address = "lena.schulz@zeitung.example"
    token = _sign_up_and_confirm(
        welcome_settings, wstore, clock, address, first_name="Lena", last_name="Schulz"
    )
    confirm_signup(welcome_settings, wstore, token, ip="192.0.2.8", clock=clock, secret=SECRET)
    assert len(db.list_mail(wstore)) == 2  # confirmation and welcome, both still queued
    report = _ops(welcome_settings, wstore, clock).erase(address, by=ROOT)
    assert report.subscriber_erased
    assert drain_system_mail(wstore, welcome_settings, None, clock).claimed == 0
    for mail in db.list_mail(wstore):
        assert mail.status == "failed" and mail.last_error == "erased on request"
        assert address not in mail.recipient and b"Schulz" not in mail.data
        assert mail.data == b"" and mail.parts is None and mail.subscriber_id is None


def test_a_confirmation_that_went_out_while_its_person_was_erased_changes_nothing(
    welcome_settings: Settings, wstore: Store, clock: FakeClock
) -> None:
    """A drainer had claimed it before the erasure and sent it after: noting it sent
    must not bring back a subscription (it used to fail on the missing row)."""
    from pipeline.audience import note_confirmation_sent
    from pipeline.store import audience as q

    _sign_up_and_confirm(welcome_settings, wstore, clock, "weg@zeitung.example")
    _ops(welcome_settings, wstore, clock).erase("weg@zeitung.example", by=_root())
    note_confirmation_sent(wstore, 1, "press", at=clock.now())
    with wstore.connect() as conn:
        assert q.get_subscription(conn, 1, "press") is None


def _root() -> Any:
    from tests.api.conftest import ROOT

    return ROOT


def test_a_link_used_again_after_the_list_got_its_welcome_sends_none(
    settings: Settings,
    settings_factory: Callable[..., Settings],
    store: Store,
    clock: FakeClock,
) -> None:
    """Confirmed before the list named a welcome mail, clicked again a day later: the
    person is not new, nothing is sent."""
    token = _sign_up_and_confirm(settings, store, clock, "frueh@zeitung.example")
    confirm_signup(settings, store, token, ip="192.0.2.8", clock=clock, secret=SECRET)
    clock.advance(days=1)
    later = settings_factory(lists=WELCOME_LISTS)
    again = confirm_signup(later, store, token, ip="192.0.2.8", clock=clock, secret=SECRET)
    assert again.already and again.welcome_id is None
    assert _welcomes(store) == []


def test_the_export_lists_the_system_mail_sent_to_the_person(
    welcome_settings: Settings, wstore: Store, clock: FakeClock
) -> None:
    """DSGVO Art. 15: the confirmation and the welcome are data held on the person."""
    from pipeline.deliver import drain_system_mail
    from tests.api.conftest import ROOT

    address = "lena.schulz@zeitung.example"
    token = _sign_up_and_confirm(welcome_settings, wstore, clock, address)
    confirm_signup(welcome_settings, wstore, token, ip="192.0.2.8", clock=clock, secret=SECRET)
    drain_system_mail(wstore, welcome_settings, None, clock)
    data = _ops(welcome_settings, wstore, clock).export(address, by=ROOT)
    assert [(m["kind"], m["list"], m["status"]) for m in data["system_mail"]] == [
        ("confirmation", "press", "sent"),
        ("welcome", "press", "sent"),
    ]
    assert data["system_mail"][1]["subject"] == "Willkommen: Presseverteiler"
    assert data["system_mail"][1]["sent_at"] == clock.now().isoformat()


def test_ticking_a_list_on_the_preferences_page_asks_for_confirmation_once(
    welcome_settings: Settings, wstore: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """Ticking a double opt-in list there sends its confirmation mail, once (saving the
    page again sends nothing); the welcome waits for the confirmation."""
    from pipeline.signup import save_preferences_and_welcome
    from tests.api.conftest import ROOT

    path = tmp_path / "mitglieder.csv"
    path.write_text("email,first_name,language\nanna@gemeinde.example,Anna,de\n", encoding="utf-8")
    _ops(welcome_settings, wstore, clock).import_csv(path, list_name="members", by=ROOT)
    for _ in range(2):
        save_preferences_and_welcome(
            welcome_settings,
            wstore,
            1,
            lists=["members", "press"],
            language="de",
            ip="192.0.2.5",
            source="https://rundbrief.example/p/x",
            clock=clock,
            secret=SECRET,
        )
    assert _welcomes(wstore) == []
    (mail,) = [m for m in db.list_mail(wstore) if m.kind == "confirmation"]
    assert (mail.recipient, mail.list_name) == ("anna@gemeinde.example", "press")
