"""The production rules of ``rundbrief check``: each error and warning, --strict, where
in the file, and the gate in the outbox (``require_ready``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pipeline.clock import FakeClock
from pipeline.config import Settings, load_settings
from pipeline.deliver import check_readiness, readiness_report, require_ready, send_mailing
from pipeline.errors import NotReadyError
from pipeline.store import Store
from pipeline.store.schema import deliveries, mailings
from tests.deliver.support import SECRET, add_mailing, add_subscribers
from tests.support.settings import PUBLIC_BASE_URL, make_settings, merge

# Everything `check` asks for, with smtp: the starting point each test breaks one way.
READY: dict[str, Any] = {
    "organisation": {"imprint_url": "https://www.junge-buergermeister.de/impressum"},
    "web": {"base_url": PUBLIC_BASE_URL},
    "delivery": {"transport": "smtp"},
    "dkim": {
        "enabled": True,
        "selector": "rb2026",
        "domain": "junge-buergermeister.de",
        "key_file": "dkim.key",
    },
    "bounces": {"source": "imaps://bounces@mail.junge-buergermeister.de/INBOX"},
    "sender": {"feedback_id": "njb"},
}
ENV = {"RUNDBRIEF_SECRET": SECRET}


def ready(tmp_path: Path, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    data = merge(READY, overrides)
    return make_settings(tmp_path, **data).with_secrets(ENV if env is None else env)


def codes(settings: Settings, *, strict: bool = False) -> set[tuple[str, str, str]]:
    return {(f.severity, f.code, f.key) for f in check_readiness(settings, strict=strict)}


def test_a_ready_configuration_has_no_findings(tmp_path: Path) -> None:
    settings = ready(tmp_path)
    assert check_readiness(settings) == []
    require_ready(settings)  # does not raise


@pytest.mark.parametrize(
    "base_url",
    ["http://rundbrief.junge-buergermeister.de", "http://127.0.0.1:8000"],
)
def test_a_base_url_without_https_is_an_error(tmp_path: Path, base_url: str) -> None:
    found = codes(ready(tmp_path, web={"base_url": base_url}))
    assert ("error", "base-url-not-https", "web.base_url") in found


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.8.9.10",
        "localhost:8443",
        "app.localhost",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.5",
        "169.254.10.1",
        "100.64.0.1",
        "[::1]",
        "[fd00::1]",
        "[fe80::1]",
        "rundbrief.junge-buergermeister.example",
        "news.test",
        "a.invalid",
        "example.com",
        "news.example.org",
        "www.example.net",
        "printer.local",
        "intranet",
    ],
)
def test_a_base_url_recipients_cannot_reach_is_an_error(tmp_path: Path, host: str) -> None:
    found = codes(ready(tmp_path, web={"base_url": f"https://{host}"}))
    assert found == {("error", "base-url-not-public", "web.base_url")}


@pytest.mark.parametrize(
    "host", ["rundbrief.junge-buergermeister.de", "93.184.216.34", "[2a00:1450:4001::1]"]
)
def test_a_public_https_base_url_is_fine(tmp_path: Path, host: str) -> None:
    assert codes(ready(tmp_path, web={"base_url": f"https://{host}"})) == set()


def test_no_postal_address_is_an_error(tmp_path: Path) -> None:
    found = codes(ready(tmp_path, organisation={"postal_address": "  "}))
    assert found == {("error", "postal-address-missing", "organisation.postal_address")}


def test_no_imprint_is_an_error(tmp_path: Path) -> None:
    found = codes(ready(tmp_path, organisation={"imprint_url": ""}))
    assert found == {("error", "imprint-missing", "organisation.imprint_url")}


def test_an_imprint_that_is_no_link_is_an_error(tmp_path: Path) -> None:
    found = codes(ready(tmp_path, organisation={"imprint_url": "impressum.html"}))
    assert found == {("error", "imprint-not-a-link", "organisation.imprint_url")}


def test_an_imprint_on_an_example_domain_is_a_warning(tmp_path: Path) -> None:
    imprint = "https://www.junge-buergermeister.example/impressum"
    found = codes(ready(tmp_path, organisation={"imprint_url": imprint}))
    assert found == {("warning", "imprint-not-public", "organisation.imprint_url")}


def test_a_list_without_a_reason_is_an_error(tmp_path: Path) -> None:
    settings = ready(tmp_path)
    lists = [m.model_dump() for m in settings.lists]
    lists[1]["reason"] = ""
    found = codes(ready(tmp_path, lists=lists))
    assert found == {("error", "list-reason-missing", "lists[2].reason")}
    (finding,) = check_readiness(ready(tmp_path, lists=lists))
    assert "'press'" in finding.message


@pytest.mark.parametrize(
    ("env", "web", "code"),
    [
        ({}, {}, "secret-missing"),
        ({"RUNDBRIEF_SECRET": "x" * 31}, {}, "secret-short"),
        (ENV, {"secret_env": ""}, "secret-missing"),
        ({"RUNDBRIEF_SECRET": "x" * 32}, {}, None),
    ],
)
def test_the_signing_secret_must_be_set_and_long(
    tmp_path: Path, env: dict[str, str], web: dict[str, str], code: str | None
) -> None:
    found = codes(ready(tmp_path, env=env, web={"base_url": PUBLIC_BASE_URL, **web}))
    assert found == ({("error", code, "web.secret_env")} if code else set())


def test_dkim_off_with_smtp_is_a_warning(tmp_path: Path) -> None:
    found = codes(ready(tmp_path, dkim={"enabled": False}))
    assert found == {("warning", "dkim-off", "dkim.enabled")}


def test_dkim_off_with_a_provider_is_fine(tmp_path: Path) -> None:
    # the provider signs; its webhook takes the bounces
    env = {**ENV, "RUNDBRIEF_MAILGUN_SIGNING_KEY": "key-abc"}
    settings = ready(tmp_path, env=env, delivery={"transport": "mailgun"}, dkim={"enabled": False})
    assert codes(settings) == set()


def test_no_bounce_handling_is_a_warning(tmp_path: Path) -> None:
    found = codes(ready(tmp_path, bounces={"source": ""}))
    assert found == {("warning", "no-bounce-handling", "bounces.source")}


@pytest.mark.parametrize(
    ("provider", "webhook_env"),
    [
        (
            "postmark",
            {
                "RUNDBRIEF_POSTMARK_WEBHOOK_USER": "pm",
                "RUNDBRIEF_POSTMARK_WEBHOOK_PASSWORD": "pw",
            },
        ),
        ("mailgun", {"RUNDBRIEF_MAILGUN_SIGNING_KEY": "key"}),
        ("brevo", {"RUNDBRIEF_BREVO_WEBHOOK_TOKEN": "token"}),
    ],
)
def test_a_provider_webhook_is_bounce_handling(
    tmp_path: Path, provider: str, webhook_env: dict[str, str]
) -> None:
    without = ready(tmp_path, delivery={"transport": provider}, bounces={"source": ""})
    assert codes(without) == {("warning", "no-bounce-handling", "bounces.source")}
    (finding,) = check_readiness(without)
    assert f"the {provider} webhook has no secret" in finding.message
    with_hook = ready(
        tmp_path,
        env={**ENV, **webhook_env},
        delivery={"transport": provider},
        bounces={"source": ""},
    )
    assert codes(with_hook) == set()


def test_no_feedback_id_is_a_warning(tmp_path: Path) -> None:
    found = codes(ready(tmp_path, sender={"feedback_id": ""}))
    assert found == {("warning", "no-feedback-id", "sender.feedback_id")}


def test_strict_makes_every_warning_an_error(tmp_path: Path) -> None:
    settings = ready(tmp_path, dkim={"enabled": False}, sender={"feedback_id": ""})
    assert {s for s, _, _ in codes(settings)} == {"warning"}
    require_ready(settings)  # warnings never stop a send
    assert codes(settings, strict=True) == {
        ("error", "dkim-off", "dkim.enabled"),
        ("error", "no-feedback-id", "sender.feedback_id"),
    }


def test_a_maildir_is_never_held_up(tmp_path: Path) -> None:
    # the demo's settings: loopback base_url, no secret, no DKIM, no bounce source
    settings = make_settings(
        tmp_path, web={"base_url": "http://127.0.0.1:8000"}, organisation={"imprint_url": ""}
    ).with_secrets({})
    assert settings.delivery.transport == "maildir"
    assert check_readiness(settings, strict=True) == []
    require_ready(settings)
    assert "keeps every message on this machine" in readiness_report(settings, [])


CONFIG = """\
[organisation]
name = "Netzwerk"
website = "https://www.junge-buergermeister.de"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "https://www.junge-buergermeister.de/impressum"

[[lists]]
name = "members"
title = "Mitglieder"
reason = "Sie sind Mitglied."

[[lists]]
name = "press"
title = "Presse"
reason = ""

[sender]
from_name = "Netzwerk"
from_address = "newsletter@junge-buergermeister.de"

[web]
base_url = "http://127.0.0.1:8000"

[delivery]
transport = "smtp"
"""


def test_findings_name_the_line_of_their_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", SECRET)
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    lines = {f.key: f.line for f in check_readiness(load_settings(path))}
    assert lines == {
        "web.base_url": 22,  # the key's own line
        "lists[2].reason": 15,  # in the second [[lists]] table, not the first
        "sender.feedback_id": 17,  # left out: its table's header
        "dkim.enabled": None,  # no [dkim] table at all
        "bounces.source": None,
    }
    text = readiness_report(load_settings(path), check_readiness(load_settings(path)))
    assert f"{path}:22: error: web.base_url: http://127.0.0.1:8000 is not https" in text
    assert "    hint: " in text


def test_the_outbox_refuses_a_send_and_touches_nothing(
    tmp_path: Path, store: Store, clock: FakeClock
) -> None:
    settings = ready(tmp_path, web={"base_url": "http://127.0.0.1:8000"}, dkim={"enabled": False})
    mailing_id = add_mailing(store, clock)
    add_subscribers(store, clock, 3)
    with pytest.raises(NotReadyError) as caught:
        send_mailing(settings, store, mailing_id, clock=clock)
    assert str(caught.value) == readiness_report(settings, check_readiness(settings))
    assert {getattr(f, "code", "") for f in caught.value.findings} == {
        "base-url-not-https",
        "base-url-not-public",
        "dkim-off",
    }
    with store.begin() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 0
        status = conn.execute(select(mailings.c.status)).scalar()
    assert status == "approved"
    # a dry run sends nothing, so it is not held up
    report = send_mailing(settings, store, mailing_id, clock=clock, dry_run=True)
    assert report.built == 3
