"""``rundbrief mailing log ID``: the distribution record ("Versandprotokoll") of a mailing
as a table, as CSV (safe to open in a spreadsheet) or as JSON; times in the
organisation's zone. CSV and JSON are streamed, so a large mailing never sits in memory."""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import TYPE_CHECKING

import typer

from pipeline.cli.context import app_context, viewer
from pipeline.errors import ComposeError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import tzinfo

    from pipeline.mailings import RecordEntry


def register(mailing_app: typer.Typer) -> None:
    mailing_app.command("log")(log_cmd)


def log_cmd(
    ctx: typer.Context,
    mailing_id: int = typer.Argument(..., metavar="ID"),
    as_csv: bool = typer.Option(
        False, "--csv", help="Print CSV (one line per recipient) for a spreadsheet."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Show the distribution record of a mailing: each recipient with outlet and beat,
    when it was delivered, the provider's message id, bounce or complaint.

    Erased people keep their line without personal data. Cells of the CSV that a
    spreadsheet would take for a formula start with an apostrophe.

    Example: rundbrief mailing log 3 --csv > versandprotokoll.csv
    """
    from pipeline.cli.mailings import workflow

    if as_csv and as_json:
        raise ComposeError("mailing log: choose --csv or --json, not both")
    state = app_context(ctx)
    flow = workflow(state)
    lines = flow.distribution_record(mailing_id, by=viewer(state))
    mailing = flow.get(mailing_id)
    tz = state.settings.organisation.tz
    if as_csv:
        from pipeline.mailings import record

        record.write_csv(lines, sys.stdout, tz)
    elif as_json:
        _write_json(mailing_id, mailing.subject, str(mailing.status), lines, tz)
    else:
        _print_table(mailing_id, mailing.subject, list(lines), tz)
    sys.stdout.flush()


def _write_json(
    mailing_id: int, subject: str, status: str, lines: Iterator[RecordEntry], tz: tzinfo
) -> None:
    """One JSON document, written a line at a time."""
    from pipeline.mailings import record

    head = {
        "mailing": {"id": mailing_id, "subject": subject, "status": status},
        "time_zone": str(tz),
    }
    out = sys.stdout
    out.write(json.dumps(head, ensure_ascii=False, indent=2)[:-2] + ',\n  "entries": [')
    first = True
    for entry in lines:
        out.write(
            ("\n    " if first else ",\n    ")
            + json.dumps(record.as_json(entry, tz), ensure_ascii=False)
        )
        first = False
    out.write("\n  ]\n}\n")


def summary(entries: list[RecordEntry]) -> str:
    """ "6 recipients: 6 delivered, 1 hard bounce, 1 complaint" (what is there)."""
    bounces = Counter(e.bounce for e in entries if e.bounce)
    parts = [f"{sum(1 for e in entries if e.delivered_at)} delivered"]
    parts += [
        f"{bounces[k]} {k} bounce{'s' if bounces[k] > 1 else ''}"
        for k in ("hard", "soft")
        if bounces[k]
    ]
    complaints = sum(1 for e in entries if e.complained_at)
    if complaints:
        parts.append(f"{complaints} complaint{'s' if complaints > 1 else ''}")
    return f"{len(entries)} recipients: " + ", ".join(parts)


def _recipient(e: RecordEntry) -> str:
    from pipeline.mailings import record

    if e.email is None:
        return record.ERASED
    return f"{e.name} <{e.email}>" if e.name else e.email


def _print_table(mailing_id: int, subject: str, entries: list[RecordEntry], tz: tzinfo) -> None:
    """Two lines per recipient (who, outlet and beat; what happened): readable in a
    terminal of 80 columns, where a table of seven columns would cut the values."""
    from pipeline.cli.output import console

    console.print(f"Distribution record of mailing {mailing_id}: {subject}", markup=False)
    if not entries:
        console.print("No deliveries yet (the record fills once sending starts).")
        return
    console.print(summary(entries) + f" (times {tz})", markup=False)
    for e in entries:
        where = " · ".join(x for x in (e.outlet, e.beat) if x)
        console.print(f"{_recipient(e)}" + (f"  {where}" if where else ""), markup=False)
        done = [e.status]
        if e.delivered_at:
            done = [f"delivered {e.delivered_at.astimezone(tz).strftime('%Y-%m-%d %H:%M')}"]
        if e.provider_message_id:
            done.append(f"provider id {e.provider_message_id}")
        if e.bounce:
            done.append(f"{e.bounce} bounce {e.bounce_status or ''}".strip())
        if e.complained_at:
            done.append(f"complaint {e.complained_at.astimezone(tz).strftime('%Y-%m-%d %H:%M')}")
        if e.error:
            done.append(f"error: {e.error}")
        if e.follow_ups:
            done.append("follow-ups " + ", ".join(str(i) for i in e.follow_ups))
        console.print("    " + " · ".join(done), markup=False)
