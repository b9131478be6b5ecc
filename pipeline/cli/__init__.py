"""The ``rundbrief`` command: one sub-command per stage, all sharing ``--config``.

Each module here registers the commands of one stage and only calls that stage's public
API. Expected failures (``RundbriefError``) become one line on stderr and a non-zero exit
status (2 for configuration errors); a traceback means a bug.

Start-up is kept short: a command's module is imported only when that command runs or
its ``--help`` is asked for (``COMMANDS`` says which module registers which command and
keeps the one-line help that ``rundbrief --help`` lists), and the modules import their
stage's libraries (SQLAlchemy, feedparser, MJML, Flask …) inside the command functions.
So ``rundbrief --version`` and every ``--help`` load none of them.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from pipeline import __version__
from pipeline.cli.context import AppContext, app_context
from pipeline.errors import RundbriefError
from pipeline.logs import setup_logging


class Lazy(NamedTuple):
    module: str  # in pipeline.cli; its register(app) adds the command
    help: str  # the first sentence of the command's docstring, as ``--help`` lists it


# In the order ``rundbrief --help`` lists them (commands, then command groups).
COMMANDS: dict[str, Lazy] = {
    "init": Lazy(
        "init",
        "Write a new site: config.toml, a sample feed and subscribers, templates, systemd units.",
    ),
    "collect": Lazy("collect", "Fetch the configured feeds and store new and changed items."),
    "feeds": Lazy(
        "collect",
        "List the feeds with their fetch state: last success, failures, flags, errors.",
    ),
    "items": Lazy("collect", "List collected items, newest first."),
    "mailings": Lazy("mailings", "List mailings, newest first."),
    "edit": Lazy(
        "mailings",
        "Change a draft: subject, intro (Markdown), preheader, items, send time, embargo, segment.",
    ),
    "approve": Lazy(
        "mailings",
        "Render, check and approve a draft: from now on its stored render is what is sent.",
    ),
    "cancel": Lazy(
        "mailings", "Cancel a mailing that has not started sending (its week is free again)."
    ),
    "preview": Lazy(
        "preview", "Write preview.html, preview.txt and preview.eml of a mailing into a folder."
    ),
    "serve": Lazy(
        "serve", "Start the web app: editors' preview and approval, public archive, unsubscribe."
    ),
    "send": Lazy(
        "send", "Send an approved mailing to every eligible recipient (resumes after a crash)."
    ),
    "worker": Lazy(
        "send",
        "Help send every mailing in state 'sending' (several workers share a PostgreSQL outbox).",
    ),
    "run": Lazy(
        "run",
        "Run the daemon: collect, compose, send the newsletter and release press mailings "
        "on the [schedule] in config.toml, until SIGTERM or Ctrl-C (then it finishes the "
        "batch in flight, records where it stopped and exits 0; the next start resumes).",
    ),
    "jobs": Lazy(
        "run",
        "List the daemon's jobs with their next run in the organisation's local time and "
        "their last run (press mailings appear with their send time).",
    ),
    "status": Lazy(
        "run",
        "Show failing feeds, mailings by state, the last sends with their delivery counts, "
        "the last run of every job and the latest operator notifications.",
    ),
    "compose": Lazy(
        "compose",
        "Make a draft: the newsletter of this week, or a press release from one item.",
    ),
    "mailing": Lazy("mailings", "Look at one mailing."),
    "press": Lazy("press", "Press work: the files of a press release's press kit."),
    "subscribers": Lazy(
        "subscribers",
        "Subscribers and lists: import CSV, list, show, unsubscribe, suppress, export, erase.",
    ),
    "segments": Lazy(
        "segments",
        "Named segments: list them with their counts, count a condition, save, delete.",
    ),
    "bounces": Lazy(
        "bounces",
        "Bounces and complaints: read delivery status notifications, suppress addresses.",
    ),
    "users": Lazy(
        "users",
        "Accounts of the web app, the CLI and the API: add, roles, disable, passwords, "
        "sessions, TOTP, API tokens.",
    ),
    "mail": Lazy(
        "mail", "System mail (confirmations, notifications, test copies): drain and list."
    ),
    "audit": Lazy(
        "audit", "Show the audit log, oldest first: who did what to which mailing or subscriber."
    ),
}


def load_commands(module: str) -> dict[str, Any]:
    """The click commands that ``pipeline.cli.<module>`` registers, by name."""
    holder = typer.Typer(rich_markup_mode=None, add_completion=False)
    importlib.import_module(f"pipeline.cli.{module}").register(holder)
    return dict(typer.main.get_group(holder).commands)


class LazyGroup(TyperGroup):
    """The top-level group: lists ``COMMANDS`` without importing them and imports a
    command's module when the command is looked up (to run it or show its help)."""

    def list_commands(self, ctx: Any) -> list[str]:
        # the ones defined here (check) first, then the table's order, loaded or not
        return [*(name for name in self.commands if name not in COMMANDS), *COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            lazy = COMMANDS.get(cmd_name)
            # A name not in the table may still be registered by a module (a new command
            # not listed yet): look in all of them before calling it unknown.
            for module in [lazy.module] if lazy else sorted({c.module for c in COMMANDS.values()}):
                for name, command in load_commands(module).items():
                    self.commands.setdefault(name, command)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        names = [
            n for n in self.list_commands(ctx) if not getattr(self.commands.get(n), "hidden", False)
        ]
        limit = formatter.width - 6 - max(map(len, names))
        rows = []
        for name in names:
            # a stand-in carrying the listed help gives the line the real command would
            command = self.commands.get(name) or TyperCommand(name, help=COMMANDS[name].help)
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="rundbrief",
    help="Rundbrief: collect feed items, compose newsletters and press releases, send them.",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rundbrief {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    config: str = typer.Option(
        None,
        "--config",
        "-c",
        envvar="RUNDBRIEF_CONFIG",
        help="Configuration file (default: ./config.toml).",
    ),
    as_email: str = typer.Option(
        None,
        "--as",
        envvar="RUNDBRIEF_AS",
        metavar="EMAIL",
        help="Act as this account (its role decides what is allowed, and the audit log "
        "names it; see `users`).",
    ),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    setup_logging(verbose)
    ctx.obj = AppContext(config_path=config, as_email=as_email)
    ctx.call_on_close(ctx.obj.close)


@app.command("check")
def check(
    ctx: typer.Context,
    strict: bool = typer.Option(False, "--strict", help="Treat every warning as an error."),
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
) -> None:
    """Validate the configuration, open (and migrate) the store, and check that it is
    fit to mail real people.

    With smtp or an HTTP provider as transport, errors (exit status 1): a base_url that
    is not https or not public, no postal address or imprint, a list without a reason,
    the signing secret missing or short. Warnings: DKIM off with smtp, no bounce
    handling, no Feedback-ID. `send`, `worker` and `run` refuse to start on an error,
    with the same words. A Maildir transport is not checked (the demo).

    Example: rundbrief --config /etc/rundbrief/config.toml check --strict
    """
    from pipeline.deliver import check_readiness, readiness_json, readiness_report

    state = app_context(ctx)
    settings = state.settings
    state.store  # noqa: B018 - opening migrates
    from pipeline.accounts import adopt_legacy, legacy_warning

    found = check_readiness(settings, strict=strict)
    adopt_legacy(state.store, settings, state.clock)
    accounts_warning = legacy_warning(state.store, settings)
    if as_json:
        from pipeline.cli.output import emit_json

        emit_json(
            {
                **readiness_json(settings, found, strict=strict),
                "store": state.store.dialect,
                "accounts_warning": accounts_warning,
            }
        )
    else:
        typer.echo(
            f"{settings.source}: configuration valid ({len(settings.feeds)} feeds, "
            f"{len(settings.lists)} lists, transport {settings.delivery.transport}, "
            f"store {state.store.dialect})"
        )
        typer.echo(readiness_report(settings, found))
        if accounts_warning:
            typer.echo(f"warning: {accounts_warning}")
    if any(f.severity == "error" for f in found) or (strict and accounts_warning):
        raise typer.Exit(1)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, turning expected errors into one line."""
    try:
        app(args=argv, prog_name="rundbrief")
    except RundbriefError as exc:
        # One line whatever the message holds (a driver's text may span several), but
        # for a list made to be read in lines (``NotReadyError``: check's findings).
        lines = getattr(exc, "multiline", False)
        message = str(exc) if lines else " ".join(str(exc).split())
        print(f"rundbrief: error: {message}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("rundbrief: interrupted", file=sys.stderr)
        sys.exit(130)


__all__ = ["COMMANDS", "Lazy", "app", "load_commands", "main"]
