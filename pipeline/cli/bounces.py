"""``rundbrief bounces process``: read bounce and complaint reports, suppress addresses."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from pipeline.bounces import process_source
from pipeline.cli.context import app_context
from pipeline.cli.output import console, emit_json

bounces_app = typer.Typer(
    help="Bounces and complaints: read delivery status notifications, suppress addresses.",
    no_args_is_help=True,
)


@bounces_app.command("process")
def process(
    ctx: typer.Context,
    source: str = typer.Argument(
        None,
        help="maildir:PATH, mbox:PATH or imaps://user@host/INBOX (default: [bounces] source).",
        show_default=False,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Read new bounce reports (RFC 3464 DSNs, ARF complaints, common plain-text bounces)
    from a mailbox, match them to deliveries and suppress hard bounces and complaints;
    soft bounces are counted and suppress after [bounces] soft_bounces_before_suppress.
    Processed messages are marked (seen/read), so a second run skips them.

    Example: rundbrief bounces process maildir:/var/mail/bounces --json
    """
    state = app_context(ctx)
    started = time.monotonic()
    report = process_source(state.settings, state.store, clock=state.clock, source=source)
    seconds = round(time.monotonic() - started, 3)
    if as_json:
        emit_json({**report.as_dict(), "seconds": seconds})
        return
    table = Table(title=f"Bounces from {report.source}", show_header=False)
    for label, value in (
        ("messages read", report.messages),
        ("hard bounces", report.hard),
        ("soft bounces", report.soft),
        ("complaints", report.complaints),
        ("addresses suppressed", report.suppressed),
        ("already processed", report.duplicates),
        ("about no delivery of ours", report.unmatched),
        ("not a bounce", report.ignored),
    ):
        table.add_row(label, str(value))
    console.print(table)
    for error in report.errors:
        console.print(f"[yellow]warning:[/] {error}")


def register(app: typer.Typer) -> None:
    """Add the ``bounces`` command group."""
    app.add_typer(bounces_app, name="bounces")
