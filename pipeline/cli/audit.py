"""``rundbrief audit``: the audit log, filtered by mailing, subscriber, user and date."""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING

import typer

from pipeline.cli.context import AppContext, app_context
from pipeline.cli.output import console, emit_json
from pipeline.errors import ConfigError

if TYPE_CHECKING:
    pass


def register(app: typer.Typer) -> None:
    """Add ``audit`` to the app."""
    app.command("audit")(audit_cmd)


def audit_cmd(
    ctx: typer.Context,
    mailing: int = typer.Option(None, "--mailing", "-m", metavar="ID", help="About this mailing."),
    subscriber: int = typer.Option(
        None, "--subscriber", metavar="ID", help="About this subscriber (by id)."
    ),
    user: str = typer.Option(None, "--user", "-u", metavar="EMAIL", help="Done by this account."),
    since: str = typer.Option(
        None,
        "--since",
        metavar="DATE",
        help="From this date (YYYY-MM-DD, local midnight) or date and time on.",
    ),
    limit: int = typer.Option(None, "--limit", min=1, help="At most this many entries."),
    as_json: bool = typer.Option(False, "--json", help="Print the entries as JSON."),
) -> None:
    """Show the audit log, oldest first: who did what to which mailing or subscriber.

    Example: rundbrief audit --mailing 12 --since 2026-06-01
    """
    from pipeline import audit

    state = app_context(ctx)
    found = audit.entries(
        state.store,
        mailing=mailing,
        subscriber=subscriber,
        user=user,
        since=_since(since, state) if since else None,
        limit=limit,
    )
    if as_json:
        emit_json({"entries": [audit.as_json(e) for e in found]})
        return
    if not found:
        console.print("No audit entries.")
        return
    tz = state.settings.organisation.tz
    for e in found:
        where = e.channel + (f" {e.address}" if e.address else "")
        console.print(
            f"{e.at.astimezone(tz):%Y-%m-%d %H:%M:%S}  {e.actor_email} ({e.actor_role}, "
            f"{where})  {e.action}  {e.summary}",
            markup=False,
            highlight=False,
        )


def _since(value: str, state: AppContext) -> datetime:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ConfigError(
            f"--since {value!r}: expected a date such as 2026-06-01 or 2026-06-01T10:00"
        ) from None
    if len(text) == 10:  # a date: from its local midnight
        parsed = datetime.combine(parsed.date(), time())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=state.settings.organisation.tz)
    return parsed
