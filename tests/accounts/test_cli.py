"""``rundbrief users …`` as an operator runs it (in-process entry point, real SQLite)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.audience.test_cli import CONFIG
from tests.support.cli import Run, run_cli
from tests.support.settings import write_config

PASSWORD = "richtig-langes-passwort"


@pytest.fixture
def rundbrief(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Run]:
    config = write_config(tmp_path, CONFIG)
    monkeypatch.delenv("RUNDBRIEF_AS", raising=False)
    monkeypatch.delenv("RUNDBRIEF_EDITOR_USER", raising=False)
    monkeypatch.delenv("RUNDBRIEF_EDITOR_PASSWORD", raising=False)

    def invoke(*args: str, stdin: str = "") -> Run:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return run_cli(capsys, config, *args)

    return invoke


@pytest.fixture
def team(rundbrief: Callable[..., Run]) -> Callable[..., Run]:
    """An admin (the first account, added without --as), an approver and an editor."""
    first = rundbrief(
        "users",
        "add",
        "admin@verein.example",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert first.returncode == 0, first.stderr
    for role in ("approver", "editor"):
        run = rundbrief(
            "--as",
            "admin@verein.example",
            "users",
            "add",
            f"{role}@verein.example",
            "--role",
            role,
            "--name",
            role.title(),
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert run.returncode == 0, run.stderr
    return rundbrief


def test_the_first_account_needs_no_as_and_later_ones_do(team: Callable[..., Run]) -> None:
    run = team(
        "users",
        "add",
        "x@verein.example",
        "--role",
        "editor",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert run.returncode == 1
    assert "--as EMAIL" in run.stderr


def test_list_shows_roles(team: Callable[..., Run]) -> None:
    run = team("--as", "admin@verein.example", "users", "list", "--json")
    assert run.returncode == 0, run.stderr
    assert [(a["email"], a["role"], a["active"]) for a in run.json()] == [
        ("admin@verein.example", "admin", True),
        ("approver@verein.example", "approver", True),
        ("editor@verein.example", "editor", True),
    ]


@pytest.mark.parametrize("role", ["editor", "approver"])
@pytest.mark.parametrize(
    "args",
    [
        ("users", "list"),
        ("users", "set-role", "editor@verein.example", "admin"),
        ("users", "disable", "admin@verein.example"),
        ("users", "add", "neu@verein.example", "--role", "admin", "--password-stdin"),
        ("users", "passwd", "admin@verein.example", "--password-stdin"),
        ("users", "token", "admin@verein.example"),
        ("users", "sessions", "admin@verein.example"),
    ],
)
def test_only_admins_manage_others(
    team: Callable[..., Run], role: str, args: tuple[str, ...]
) -> None:
    run = team("--as", f"{role}@verein.example", *args, stdin=PASSWORD + "\n")
    assert run.returncode == 1
    assert "may not manage accounts" in run.stderr


def test_set_role_disable_and_passwd(team: Callable[..., Run]) -> None:
    admin = ("--as", "admin@verein.example", "users")
    assert team(*admin, "set-role", "editor@verein.example", "approver").returncode == 0
    assert team(*admin, "disable", "editor@verein.example").returncode == 0
    listed = {a["email"]: a for a in team(*admin, "list", "--json").json()}
    assert listed["editor@verein.example"]["role"] == "approver"
    assert not listed["editor@verein.example"]["active"]
    run = team("--as", "editor@verein.example", "users", "list")
    assert run.returncode == 1 and "disabled" in run.stderr
    short = team(*admin, "passwd", "approver@verein.example", "--password-stdin", stdin="kurz\n")
    assert short.returncode == 1 and "too short" in short.stderr
    own = team(
        "--as",
        "approver@verein.example",
        "users",
        "passwd",
        "approver@verein.example",
        "--password-stdin",
        stdin="ein-ganz-neues-passwort\n",
    )
    assert own.returncode == 0, own.stderr


def test_password_is_never_an_argument(team: Callable[..., Run]) -> None:
    run = team(
        "--as",
        "admin@verein.example",
        "users",
        "add",
        "p@verein.example",
        "--role",
        "editor",
        "--password",
        PASSWORD,
    )
    assert run.returncode == 2  # no such option


def test_tokens_are_printed_once_listed_and_revoked(team: Callable[..., Run]) -> None:
    editor = ("--as", "editor@verein.example", "users")
    made = team(
        *editor, "token", "editor@verein.example", "--name", "website", "--expires", "2099-12-31"
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("rb_") and "not shown again" in made.stderr
    listed = team(*editor, "tokens", "editor@verein.example", "--json").json()
    assert [(t["name"], t["state"]) for t in listed] == [("website", "active")]
    assert token not in team(*editor, "tokens", "editor@verein.example").stdout
    revoked = team(*editor, "revoke-token", str(listed[0]["id"]))
    assert revoked.returncode == 0, revoked.stderr
    listed = team(*editor, "tokens", "editor@verein.example", "--json").json()
    assert listed[0]["state"] == "revoked"
    bad = team(*editor, "token", "editor@verein.example", "--expires", "morgen")
    assert bad.returncode == 1 and "YYYY" not in bad.stderr and "2026-12-31" in bad.stderr


def test_totp_prints_the_otpauth_uri(team: Callable[..., Run]) -> None:
    run = team("--as", "editor@verein.example", "users", "totp", "editor@verein.example")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("otpauth://totp/")
    listed = {
        a["email"]: a
        for a in team("--as", "admin@verein.example", "users", "list", "--json").json()
    }
    assert listed["editor@verein.example"]["totp"] is True
    # removing it: not by its owner, by an admin
    own = team("--as", "editor@verein.example", "users", "totp", "editor@verein.example", "--off")
    assert own.returncode == 1 and "may not manage accounts" in own.stderr
    off = team("--as", "admin@verein.example", "users", "totp", "editor@verein.example", "--off")
    assert off.returncode == 0, off.stderr
    assert "Second factor removed for editor@verein.example" in off.stdout
    listed = {
        a["email"]: a
        for a in team("--as", "admin@verein.example", "users", "list", "--json").json()
    }
    assert listed["editor@verein.example"]["totp"] is False


def test_the_env_account_becomes_the_first_admin(
    rundbrief: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNDBRIEF_EDITOR_USER", "redaktion")
    monkeypatch.setenv("RUNDBRIEF_EDITOR_PASSWORD", "das-alte-gemeinsame-passwort")
    run = rundbrief("--as", "redaktion@junge-buergermeister.example", "users", "list", "--json")
    assert run.returncode == 0, run.stderr
    assert [(a["email"], a["role"]) for a in run.json()] == [
        ("redaktion@junge-buergermeister.example", "admin")
    ]
    assert "no longer needed" in run.stderr
    check = rundbrief("check", "--json")
    assert "no longer used" in check.json()["accounts_warning"]
