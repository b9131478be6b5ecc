"""``rundbrief bounces process``: read bounce and complaint reports, suppress addresses."""

from __future__ import annotations

import time
from dataclasses import asdict

import typer

from pipeline.cli.context import app_context
from pipeline.cli.output import console, emit_json

bounces_app = typer.Typer(
    help="Bounces and complaints: read delivery status notifications, suppress addresses.",
    no_args_is_help=True,
    rich_markup_mode=None,
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
    from rich.markup import escape
    from rich.table import Table

    from pipeline.bounces import process_source

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
    # one line each, not a table: an address must never be cut to fit a column
    for claim in report.unmatched_reports:
        console.print(
            "[yellow]not acted on:[/] "
            + escape(
                f"{claim.kind} ({claim.source}) for {claim.recipient or 'no address'}: {claim.why}"
            )
        )
    if report.unmatched > len(report.unmatched_reports):
        console.print(f"… {report.unmatched - len(report.unmatched_reports)} more unmatched")
    if report.unmatched:
        console.print("List them again with: rundbrief bounces unmatched")
    for error in report.errors:
        console.print(f"[yellow]warning:[/] {error}")


@bounces_app.command("unmatched")
def unmatched(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", min=1, help="Show at most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """List recorded bounces and complaints that were tied to no delivery of ours (no
    valid VERP token, no Message-ID of ours, or naming another recipient than that
    delivery's): nobody was suppressed for them. Each shows what the report claimed.

    Example: rundbrief bounces unmatched --limit 20
    """
    from pipeline.store.bounces import unmatched_events

    state = app_context(ctx)
    events = unmatched_events(state.store, limit=limit)
    if as_json:
        emit_json([asdict(e) for e in events])
        return
    if not events:
        console.print("No unmatched bounces or complaints.")
        return
    for event in events:
        console.print(
            f"{event.received_at:%Y-%m-%d %H:%M} {event.kind} ({event.source}, "
            f"{event.status_code or '-'}): {event.detail or '(erased)'}",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    """Add the ``bounces`` command group."""
    app.add_typer(bounces_app, name="bounces")
