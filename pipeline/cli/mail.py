"""``rundbrief mail drain`` / ``mail list``: the system mail outbox by hand.

Confirmations, operator notifications and test copies are recorded before they are
sent; the daemon's ``mail`` job drains them every minute. These commands do it now and
show what is waiting.
"""

from __future__ import annotations

import typer

from pipeline.cli.context import app_context
from pipeline.cli.output import console, emit_json

mail_app = typer.Typer(
    help="System mail (confirmations, notifications, test copies): drain and list.",
    no_args_is_help=True,
)


@mail_app.command("drain")
def drain(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Send the system mail that is due now (queued, or a retry whose time came); what
    fails again waits for its next attempt. Exits 1 if some of it could not be sent.

    Example: rundbrief mail drain --json
    """
    from pipeline.deliver import drain_system_mail

    state = app_context(ctx)
    report = drain_system_mail(state.store, state.settings, None, state.clock)
    if as_json:
        emit_json(report.as_json())
    elif not report.claimed:
        console.print("No system mail due.")
    else:
        console.print(
            f"{report.sent} sent, {report.retrying} waiting for a retry, {report.failed} failed."
        )
        for error in report.errors:
            console.print(f"not sent: {error}", markup=False, highlight=False)
    if report.retrying or report.failed:
        raise typer.Exit(1)


@mail_app.command("list")
def list_mail(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", min=1, help="Show at most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Show the newest system mail with its status, attempts and last error.

    Example: rundbrief mail list --limit 5
    """
    from pipeline.store import system_mail as db

    state = app_context(ctx)
    found = db.list_mail(state.store, limit=limit)
    rows = [
        {
            "id": m.id,
            "kind": m.kind,
            "to": m.recipient,
            "status": m.status,
            "attempts": m.attempts,
            "created": m.created_at.isoformat(timespec="seconds"),
            "next_attempt": m.next_attempt_at.isoformat(timespec="seconds")
            if m.next_attempt_at
            else None,
            "error": m.last_error,
        }
        for m in found
    ]
    if as_json:
        emit_json({"counts": db.counts(state.store), "mail": rows})
        return
    if not rows:
        console.print("No system mail recorded.")
        return
    for row in rows:
        line = f"{row['id']} {row['created']} {row['kind']} to {row['to']}: {row['status']}"
        if row["next_attempt"]:
            line += f" (next try {row['next_attempt']})"
        if row["error"]:
            line += f" – {row['error']}"
        console.print(line, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``mail`` command group."""
    app.add_typer(mail_app, name="mail")
