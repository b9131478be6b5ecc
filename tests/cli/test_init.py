"""``rundbrief init DIR``: a new site that works at once, and never over an existing one."""

from __future__ import annotations

import email
import json
import mailbox
import os
from datetime import date
from pathlib import Path

import pytest

from pipeline.cli.init import ENV_FILE, site_files
from pipeline.config import load_settings, resolve_secrets
from tests.support.cli import run_cli

SITE_FILES = {
    "config.toml",
    "feeds/aktuelles.xml",
    "subscribers/members.csv",
    "subscribers/press.csv",
    "templates/README.md",
    "deploy/rundbrief.service",
    "deploy/rundbrief-web.service",
    "deploy/rundbrief.env",
}


def env_values(site: Path) -> dict[str, str]:
    """The variables the site's environment file sets (commented ones are not set)."""
    lines = (site / ENV_FILE).read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {name: value for name, value in pairs}


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_init_writes_every_file_of_a_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    run = run_cli(capsys, tmp_path / "unused.toml", "init", str(site))
    assert run.returncode == 0, run.stderr
    assert files_under(site) == SITE_FILES
    assert (site / "var").is_dir()  # the units' ReadWritePaths must exist
    assert (site / ENV_FILE).stat().st_mode & 0o777 == 0o600
    assert f"rundbrief --config {site / 'config.toml'} check" in run.stdout
    unit = (site / "deploy/rundbrief.service").read_text(encoding="utf-8")
    assert f"WorkingDirectory={site}\n" in unit
    assert f"EnvironmentFile={site / ENV_FILE}\n" in unit
    assert " -v run\n" in unit and "{{" not in unit
    assert " serve\n" in (site / "deploy/rundbrief-web.service").read_text(encoding="utf-8")


def test_the_config_resolves_its_paths_against_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    assert run_cli(capsys, tmp_path / "unused.toml", "init", str(site)).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(site / "config.toml")
    assert settings.path(settings.feeds[0].url) == site / "feeds/aktuelles.xml"
    assert settings.path(settings.delivery.maildir) == site / "var/outbox"
    assert settings.path(settings.compose.templates_dir) == site / "templates"
    assert settings.database_url() == f"sqlite:///{(site / 'var/rundbrief.db').resolve()}"
    assert {lst.name for lst in settings.lists} == {"members", "press"}
    assert all(lst.reason for lst in settings.lists)
    assert settings.delivery.transport == "maildir"


def test_the_env_file_names_every_secret_the_config_names(tmp_path: Path) -> None:
    def plan() -> dict[str, str]:
        made = site_files(tmp_path, today=date(2026, 6, 19), executable="rb")
        return {f.path: f.text for f in made}

    files = plan()
    (tmp_path / "config.toml").write_text(files["config.toml"], encoding="utf-8")
    settings = load_settings(tmp_path / "config.toml")
    named = set(resolve_secrets(settings, {}).names.values())
    variables = [
        line.lstrip("#").split("=", 1)
        for line in files[ENV_FILE].splitlines()
        if "=" in line and not line.startswith("# ")
    ]
    assert {name for name, _ in variables} == named
    # only the signing secret has a value: a long random one, new for every site
    values = {name: value for name, value in variables if value}
    assert list(values) == [settings.web.secret_env]
    assert len(values[settings.web.secret_env]) >= 40
    assert plan()[ENV_FILE] != files[ENV_FILE]


@pytest.mark.parametrize("existing", ["config.toml", "deploy/rundbrief.env", "feeds/aktuelles.xml"])
def test_init_refuses_an_existing_site_and_writes_nothing(
    tmp_path: Path, existing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    (site / existing).parent.mkdir(parents=True)
    (site / existing).write_text("mine\n", encoding="utf-8")
    before = files_under(site)
    run = run_cli(capsys, tmp_path / "unused.toml", "init", str(site))
    assert run.returncode == 1
    assert run.stderr.startswith("rundbrief: error: ")
    assert "already holds a site" in run.stderr and existing in run.stderr
    assert "nothing was written" in run.stderr
    assert files_under(site) == before
    assert (site / existing).read_text(encoding="utf-8") == "mine\n"
    assert not (site / "var").exists()


def test_init_refuses_a_file_in_place_of_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "site").write_text("", encoding="utf-8")
    run = run_cli(capsys, tmp_path / "unused.toml", "init", str(tmp_path / "site"))
    assert run.returncode == 1
    assert "is not a folder" in run.stderr


def test_init_in_an_empty_existing_folder_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "site").mkdir()
    assert run_cli(capsys, tmp_path / "unused.toml", "init", str(tmp_path / "site")).returncode == 0


def test_a_new_site_collects_composes_previews_and_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole first run in this process (the wheel test does it from an install)."""
    site = tmp_path / "site"
    assert run_cli(capsys, tmp_path / "unused.toml", "init", str(site)).returncode == 0
    for name, value in env_values(site).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    config = site / "config.toml"

    def ok(*args: str) -> str:
        run = run_cli(capsys, config, *args)
        assert run.returncode == 0, f"{args}: {run.stdout}{run.stderr}"
        return run.stdout

    assert "configuration valid (1 feeds, 2 lists, transport maildir" in ok("check")
    assert json.loads(ok("collect", "--json"))["new"] == 3
    ok("subscribers", "import", str(site / "subscribers/members.csv"), "--list", "members")
    ok("compose", "newsletter")
    ok("preview", "1", "--out", str(site / "var/preview"))
    ok("approve", "1")
    ok("send", "1")
    messages = [
        email.message_from_bytes(m.as_bytes()) for m in mailbox.Maildir(site / "var/outbox")
    ]
    assert len(messages) == 3
    assert os.listdir(site / "var/preview")
