"""``rundbrief init DIR``: write a new site that works at once, offline.

The site's files come from ``pipeline/cli/skeleton/`` (package data), with a few
placeholders filled in: ``{{site}}`` and ``{{config}}`` (absolute paths, for the systemd
units), ``{{rundbrief}}`` (this installation's command), ``{{bundled}}`` (the bundled
templates) and ``{{rfc822:N}}`` (N days before today, 10:00 in the organisation's time
zone, so the sample feed's items are inside the newsletter's window). The environment
file is made from the written config: one line per variable an ``*_env`` key names.

Nothing is overwritten: when any file of the site exists already, nothing is written.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import format_datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from pipeline.cli.context import app_context
from pipeline.cli.output import console
from pipeline.errors import RundbriefError

ENV_FILE = "deploy/rundbrief.env"
_PLACEHOLDER = re.compile(r"\{\{(site|config|rundbrief|bundled|rfc822:(\d+))\}\}")
# What each secret is for, by the configuration key that names its variable.
_SECRET_NOTES = {
    "web.secret_env": "signs unsubscribe links and sessions: long and random; changing it "
    "invalidates every link already sent",
    "web.editor_user_env": "not needed: editors log in with accounts (`rundbrief users add`)",
    "web.editor_password_env": "not needed: editors log in with accounts",
    "smtp.password_env": 'the SMTP password (when [delivery] transport = "smtp")',
    "bounces.password_env": "the IMAP password (when [bounces] source is an imaps:// mailbox)",
}


@dataclass(frozen=True)
class SiteFile:
    path: str  # relative to the site folder, with "/"
    text: str
    mode: int = 0o644


def register(app: typer.Typer) -> None:
    """Add ``init`` to the app."""
    app.command("init")(init_cmd)


def init_cmd(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., metavar="DIR", help="Folder of the new site."),
) -> None:
    """Write a new site: config.toml, a sample feed and subscribers, templates, systemd units.

    The site runs at once and offline: its sample feed is a local file and its transport
    writes every message into a Maildir (var/outbox). Nothing is overwritten: when any
    file of the site exists already, nothing is written and the exit status is 1.

    Example: rundbrief init /srv/rundbrief && rundbrief --config /srv/rundbrief/config.toml check
    """
    site = folder.expanduser().absolute()
    written = write_site(site, today=app_context(ctx).clock.now().date())
    console.print(f"Wrote a new site in {site}:")
    for item in written:
        console.print(f"  {item.path}")
    config = site / "config.toml"
    rb = f"rundbrief --config {config}"
    console.print(
        "\nNext steps (replace the placeholders in config.toml first):\n"
        f"  set -a; . {site / ENV_FILE}; set +a   # the secrets\n"
        f"  {rb} check\n"
        f"  {rb} collect\n"
        f"  {rb} subscribers import {site / 'subscribers/members.csv'} --list members\n"
        f"  {rb} compose newsletter\n"
        f"  {rb} preview ID --out {site / 'var/preview'}\n"
        f"  {rb} approve ID && {rb} send ID   # into the Maildir {site / 'var/outbox'}"
    )


def write_site(site: Path, *, today: date, executable: str | None = None) -> list[SiteFile]:
    """Write the site's files under ``site``; refuse if any of them exists."""
    if site.exists() and not site.is_dir():
        raise RundbriefError(f"{site} exists and is not a folder; nothing was written")
    plan = site_files(site, today=today, executable=executable or _executable())
    existing = [f.path for f in plan if (site / f.path).exists()]
    if existing:
        shown = ", ".join(existing[:3]) + (" …" if len(existing) > 3 else "")
        raise RundbriefError(
            f"{site} already holds a site ({shown}); nothing was written. "
            "Choose an empty folder, or move the files away first."
        )
    for item in plan:
        target = site / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        # "x": never clobber a file that appeared since the check
        with open(target, "x", encoding="utf-8") as out:
            out.write(item.text)
        os.chmod(target, item.mode)
    # The systemd units allow writes only here, and it must exist for them to start.
    (site / "var").mkdir(exist_ok=True)
    return plan


def site_files(site: Path, *, today: date, executable: str) -> list[SiteFile]:
    """The site's files with their placeholders filled (no I/O beyond the skeleton)."""
    from pipeline.render import BUNDLED_TEMPLATES

    values = {
        "site": str(site),
        "config": str(site / "config.toml"),
        "rundbrief": executable,
        "bundled": str(BUNDLED_TEMPLATES),
    }
    skeleton = files("pipeline.cli") / "skeleton"
    out = [
        SiteFile(path, _fill(path, entry.read_text(encoding="utf-8"), values, today))
        for path, entry in sorted(_walk(skeleton, ""))
    ]
    config = next(f for f in out if f.path == "config.toml")
    out.append(SiteFile(ENV_FILE, env_file(config.text, site), mode=0o600))
    return out


def env_file(config_text: str, site: Path) -> str:
    """The environment file: every variable the config names, the signing secret set."""
    from pipeline.config import resolve_secrets, settings_from_dict

    settings = settings_from_dict(
        tomllib.loads(config_text), source=str(site / "config.toml"), base_dir=str(site)
    )
    names = resolve_secrets(settings, {}).names
    lines = [
        "# Secrets of this site, one VARIABLE=value a line (systemd EnvironmentFile, or",
        "# `set -a; . deploy/rundbrief.env; set +a` in a shell). Keep it readable by the",
        "# service's user only (chmod 600). config.toml names each variable in a *_env key.",
    ]
    for key, env in names.items():
        lines += ["", f"# {key}: {_SECRET_NOTES.get(key, 'named in config.toml')}"]
        if key == "web.secret_env":
            lines.append(f"{env}={secrets.token_urlsafe(32)}")
        else:
            lines.append(f"#{env}=")
    return "\n".join(lines) + "\n"


def _walk(folder: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
    for entry in folder.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        else:
            yield f"{prefix}{entry.name}", entry


def _fill(path: str, text: str, values: Mapping[str, str], today: date) -> str:
    zone = ZoneInfo("Europe/Berlin")  # the skeleton config's [organisation] time_zone

    def one(match: re.Match[str]) -> str:
        if match.group(2) is not None:
            day = today - timedelta(days=int(match.group(2)))
            return format_datetime(datetime.combine(day, time(10, 0), tzinfo=zone))
        return values[match.group(1)]

    filled = _PLACEHOLDER.sub(one, text)
    if "{{" in filled:  # a placeholder the skeleton has and this code does not fill
        raise AssertionError(f"skeleton {path}: unfilled placeholder")
    return filled


def _executable() -> str:
    """This installation's ``rundbrief`` command, for the systemd units' ExecStart."""
    beside = Path(sys.executable).parent / "rundbrief"  # the venv's (or pipx's) bin folder
    if beside.is_file():
        return str(beside)
    return shutil.which("rundbrief") or "/usr/local/bin/rundbrief"
