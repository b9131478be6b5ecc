"""The ``rundbrief`` command: one sub-command per stage, all sharing ``--config``.

Each module here registers the commands of one stage and only calls that stage's public
API. Expected failures (``RundbriefError``) become one line on stderr and a non-zero exit
status (2 for configuration errors); a traceback means a bug.
"""

from __future__ import annotations

import sys

import typer

from pipeline import __version__
from pipeline.cli import bounces, collect, mail, mailings, run, send, serve, subscribers
from pipeline.cli.context import AppContext, app_context
from pipeline.errors import RundbriefError
from pipeline.logs import setup_logging

app = typer.Typer(
    name="rundbrief",
    help="Rundbrief: collect feed items, compose newsletters and press releases, send them.",
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
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    setup_logging(verbose)
    ctx.obj = AppContext(config_path=config)
    ctx.call_on_close(ctx.obj.close)


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate the configuration and open (and migrate) the store.

    Example: rundbrief --config /etc/rundbrief/config.toml check
    """
    state = app_context(ctx)
    settings = state.settings
    state.store  # noqa: B018 - opening migrates
    typer.echo(
        f"{settings.source}: ok ({len(settings.feeds)} feeds, {len(settings.lists)} lists, "
        f"transport {settings.delivery.transport}, store {state.store.dialect})"
    )


for module in (collect, mailings, serve, subscribers, send, bounces, run, mail):
    module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, turning expected errors into one line."""
    try:
        app(args=argv, prog_name="rundbrief")
    except RundbriefError as exc:
        # One line whatever the message holds (a driver's text may span several).
        message = " ".join(str(exc).split())
        print(f"rundbrief: error: {message}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("rundbrief: interrupted", file=sys.stderr)
        sys.exit(130)
