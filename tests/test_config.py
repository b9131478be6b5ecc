from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import HTTP_PROVIDERS, load_settings
from pipeline.deliver.providers import check, provider_settings
from pipeline.errors import ConfigError
from tests.conftest import REPO
from tests.support.settings import write_config

MINIMAL = """
[organisation]
name = "Netzwerk"
website = "https://example.org"
postal_address = "Straße 1, 10115 Berlin"
imprint_url = "https://example.org/impressum"

[sender]
from_name = "Netzwerk"
from_address = "news@example.org"

[[lists]]
name = "members"
title = "Mitglieder"
reason = "Sie sind Mitglied."

[[lists]]
name = "press"
title = "Presse"
reason = "Sie sind im Presseverteiler."
"""


def test_default_config_is_valid() -> None:
    settings = load_settings(REPO / "config.toml")
    assert settings.organisation.time_zone == "Europe/Berlin"
    assert {f.kind for f in settings.feeds} == {"article", "event_report", "press_release"}
    assert settings.database_url() == f"sqlite:///{REPO / 'var' / 'rundbrief.db'}"


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, MINIMAL))
    assert settings.collect.backfill_days == 14
    assert settings.delivery.transport == "maildir"
    assert settings.sender.message_domain == "example.org"
    assert settings.path("var/x") == tmp_path / "var/x"


def test_unknown_key_names_file_key_and_suggestion(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + "\n[collect]\ntimout = 5\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value) == f"{path}: unknown key collect.timout (did you mean 'timeout'?)"


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + '\n[collect]\ntimeout = "soon"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value).startswith(f"{path}: collect.timeout: ")
    assert "'soon'" in str(err.value)


def test_feed_error_names_the_feed(tmp_path: Path) -> None:
    text = MINIMAL + '\n[[feeds]]\nname = "a"\nurl = "x.xml"\nkind = "blog"\n'
    with pytest.raises(ConfigError) as err:
        load_settings(write_config(tmp_path, text))
    assert "feeds[1] (a).kind" in str(err.value)
    assert "'blog'" in str(err.value)


def test_missing_required_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing required key sender"):
        load_settings(write_config(tmp_path, MINIMAL.split("[sender]")[0]))


def test_invalid_toml_reports_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"invalid TOML: .*line 3"):
        load_settings(write_config(tmp_path, '[organisation]\nname = "x"\nname2 = \n'))


def test_unknown_time_zone(tmp_path: Path) -> None:
    text = MINIMAL.replace("[organisation]\n", '[organisation]\ntime_zone = "Europe/Bonn"\n')
    with pytest.raises(ConfigError, match=r"organisation.time_zone: unknown time zone"):
        load_settings(write_config(tmp_path, text))


def test_list_named_in_compose_must_exist(tmp_path: Path) -> None:
    text = MINIMAL + '\n[compose]\nnewsletter_lists = ["mitglieder"]\n'
    with pytest.raises(ConfigError, match=r"compose.newsletter_lists names list 'mitglieder'"):
        load_settings(write_config(tmp_path, text))


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings("/nonexistent/rundbrief.toml")


def test_secrets_are_read_once_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNDBRIEF_SMTP_PASSWORD", raising=False)
    settings = load_settings(write_config(tmp_path, MINIMAL))
    with pytest.raises(
        ConfigError,
        match=r"smtp\.password_env names the environment variable RUNDBRIEF_SMTP_PASSWORD, "
        "which is not set",
    ):
        settings.secrets.require("smtp.password_env")
    monkeypatch.setenv("RUNDBRIEF_SMTP_PASSWORD", "geheim")
    started = load_settings(write_config(tmp_path, MINIMAL))
    monkeypatch.setenv("RUNDBRIEF_SMTP_PASSWORD", "später-geändert")
    assert started.secrets.require("smtp.password_env") == "geheim"
    assert started.secret(started.smtp.password_env, key="smtp.password_env") == "geheim"
    assert "geheim" not in repr(started.secrets)
    assert not settings.secrets.has("smtp.password_env")


def test_cli_config_error_is_one_line_exit_2(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + '\n[delivery]\ntransport = "pigeon"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "--config", str(path), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"rundbrief: error: {path}: delivery.transport:")


# --- provider tables: validated by each provider's own settings ---------------------------


def test_provider_tables_get_their_own_defaults(tmp_path: Path) -> None:
    from pipeline.deliver.providers import PROVIDERS

    settings = load_settings(write_config(tmp_path, MINIMAL + "\n[sendgrid]\ntimeout = 5\n"))
    assert set(PROVIDERS) == set(HTTP_PROVIDERS)  # the tables config keeps are theirs
    sendgrid = provider_settings(settings, "sendgrid")
    assert (sendgrid.timeout, sendgrid.base_url) == (5.0, "https://api.sendgrid.com")
    assert provider_settings(settings, "postmark").api_key_env == "RUNDBRIEF_POSTMARK_TOKEN"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "[brevo]\nwebhook_tokn_env = 'X'",
            "unknown key brevo.webhook_tokn_env (did you mean 'webhook_token_env'?)",
        ),
        ("[mailgun]\nconnections = 0", "mailgun.connections: expected at least 1, got 0"),
        ("[postmark]\ntimeout = 'soon'", "postmark.timeout: expected a number, got 'soon'"),
        (
            "[sendgrid]\nbase_url = 'api.sendgrid.com'",
            "sendgrid.base_url: expected an http:// or https:// URL",
        ),
        ("[postmark]\ndomain = 'x'", "unknown key postmark.domain"),  # Mailgun's, not Postmark's
        ("brevo = 3", "brevo: expected a table [brevo]"),
        (
            "[bounces]\npostmark_webhook_user_env = 'X'",
            "unknown key bounces.postmark_webhook_user_env (moved: it is now postmark.webhook_user_env)",
        ),
        (
            "[delivery]\ntransport = 'sendmail'",
            "delivery.transport: expected one of 'smtp', 'maildir', 'postmark'",
        ),
    ],
)
def test_provider_table_errors_name_file_and_key(tmp_path: Path, table: str, message: str) -> None:
    path = write_config(tmp_path, table + "\n" + MINIMAL)
    with pytest.raises(ConfigError) as err:
        check(load_settings(path))  # what the CLI does at start
    assert str(err.value).startswith(f"{path}: {message}")


def test_cli_refuses_a_bad_provider_table_at_start(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + "\n[sendgrid]\nwebhook_public_kee = 'x'\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "--config", str(path), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        f"rundbrief: error: {path}: unknown key sendgrid.webhook_public_kee"
        " (did you mean 'webhook_public_key'?)"
    )


def test_configuration_imports_no_provider_code() -> None:
    """config sits below deliver: the providers validate their own tables, so loading
    the configuration imports nothing of ``pipeline.deliver`` (no cycle between them)."""
    code = (
        "import sys, pipeline.config; "
        "print(sorted(m for m in sys.modules if m.startswith('pipeline.deliver')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
