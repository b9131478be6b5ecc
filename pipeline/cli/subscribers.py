"""``rundbrief subscribers …``: import lists, look people up, unsubscribe, suppress, GDPR."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pipeline.cli.context import AppContext, actor, app_context
from pipeline.cli.output import console, emit_json, err_console
from pipeline.errors import AudienceError

if TYPE_CHECKING:
    from pipeline.audience import ImportReport
    from pipeline.subscribers import Subscribers

subscribers_app = typer.Typer(
    help="Subscribers and lists: import CSV, list, show, unsubscribe, suppress, export, erase.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

JSON = typer.Option(False, "--json", help="Print one JSON document instead of a summary.")
LIST = typer.Option(None, "--list", "-l", help="Only this list (a [[lists]] name).")


@subscribers_app.command("import")
def import_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV file (UTF-8, with a header line)."),
    list_name: str = typer.Option(
        None, "--list", "-l", help="Subscribe every row to this list (else the 'lists' column)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report, change nothing."),
    welcome: bool = typer.Option(
        False,
        "--welcome",
        help="The people this import subscribes are new: each gets the list's welcome "
        "mail (once per person and list).",
    ),
    as_json: bool = JSON,
) -> None:
    """Import subscribers from a CSV file; exit status 1 when any row was bad.

    Every bad row is reported with its line number and reason; all good rows are
    imported in one transaction. Re-importing updates, never duplicates; suppressed and
    unsubscribed addresses are not subscribed again. With --welcome, everyone the import
    subscribes gets the list's welcome mail ([[lists]] welcome) through the system mail
    outbox, never twice.

    Example: rundbrief subscribers import subscribers/press.csv --list press --dry-run
    """
    state = app_context(ctx)
    report = _ops(state).import_csv(
        file, list_name=list_name, dry_run=dry_run, welcome=welcome, by=actor(state)
    )
    try:
        if as_json:
            _emit_report_json(report)
        else:
            _print_report(report)
    finally:
        report.close()
    if not report.ok:
        raise typer.Exit(1)


def _emit_report_json(report: ImportReport) -> None:
    """``report.as_dict()`` as JSON, written line by line: a file of 1,000,000 bad rows
    reports 1,000,000 lines, which are never all in memory at once."""
    summary = report.as_dict(lines=False)
    out = sys.stdout
    out.write(json.dumps(summary, ensure_ascii=False, indent=2)[:-2])
    for key, items in report.lines():
        out.write(f',\n  "{key}": [')
        n = -1
        for n, item in enumerate(items):
            out.write(("," if n else "") + "\n    " + json.dumps(item, ensure_ascii=False))
        out.write("\n  ]" if n >= 0 else "]")
    out.write("\n}\n")
    out.flush()


def _print_report(report: ImportReport) -> None:
    prefix = "dry run, nothing changed: " if report.dry_run else ""
    lists = ", ".join(report.lists) or "-"
    console.print(
        f"{prefix}{report.file}: {report.rows} rows, {report.created} new, "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"{report.subscribed} subscriptions to {lists}; "
        f"{len(report.errors)} bad, {len(report.skipped)} skipped"
        + (f"; {report.welcomed} welcome mails queued" if report.joined is not None else "")
    )
    for error in report.errors:
        err_console.print(f"  line {error.line}: {error.reason}" + _who(error.email))
    for skipped in report.skipped:
        console.print(f"  line {skipped.line}: {skipped.email}: {skipped.message}")
    for notice in report.notices:
        console.print(f"  line {notice.line}: note: {notice.message}")


def _who(email: str) -> str:
    return f" ({email})" if email else ""


@subscribers_app.command("list")
def list_cmd(
    ctx: typer.Context,
    list_name: str = LIST,
    status: str = typer.Option(None, "--status", help="pending, active or unsubscribed."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many."),
    after: int = typer.Option(0, "--after", min=0, help="Start after this subscriber id."),
    as_json: bool = JSON,
) -> None:
    """List subscribers with their lists (in id order; page with --after).

    Example: rundbrief subscribers list --list press --status active
    """
    from rich.table import Table

    from pipeline.store import audience as q

    state = app_context(ctx)
    if list_name:
        state.settings.list_named(list_name)
    rows = q.list_subscribers(
        state.store, list_name=list_name, status=status, after_id=after, limit=limit
    )
    if as_json:
        emit_json(
            [
                {
                    "id": r.subscriber.id,
                    "email": r.subscriber.email,
                    "first_name": r.subscriber.first_name,
                    "last_name": r.subscriber.last_name,
                    "language": r.subscriber.language,
                    "lists": r.lists,
                }
                for r in rows
            ]
        )
        return
    table = Table("id", "email", "name", "lang", "lists")
    for r in rows:
        s = r.subscriber
        name = " ".join(p for p in (s.title, s.first_name, s.last_name) if p)
        lists = ", ".join(f"{k} ({v})" if v != "active" else k for k, v in r.lists.items())
        table.add_row(str(s.id), s.email, name, s.language, lists)
    console.print(table)
    if len(rows) == limit:
        console.print(f"more: --after {rows[-1].subscriber.id}")


@subscribers_app.command("show")
def show_cmd(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The address."),
    list_name: str = typer.Option(None, "--list", "-l", help="Only the subscription to this list."),
    as_json: bool = JSON,
) -> None:
    """Show one subscriber: data, subscriptions with consent evidence, suppression.

    Example: rundbrief subscribers show anna.mueller@example.org --list press
    """
    from pipeline.audience import export_person

    state = app_context(ctx)
    data = export_person(state.settings, state.store, email, clock=state.clock)
    if list_name:
        state.settings.list_named(list_name)
        data["subscriptions"] = [s for s in data["subscriptions"] if s["list"] == list_name]
    if as_json:
        data.pop("deliveries", None)
        data.pop("bounces", None)
        emit_json(data)
        return
    person = data["subscriber"]
    console.print(f"[bold]{data['email']}[/bold]")
    if person:
        name = " ".join(
            p for p in (person["title"], person["first_name"], person["last_name"]) if p
        )
        console.print(f"  name: {name or '-'}  salutation: {person['salutation'] or '-'}")
        console.print(f"  language: {person['language']}  since: {person['created_at']}")
        for key, value in person["attributes"].items():
            console.print(f"  {key}: {value}")
    for sub in data["subscriptions"]:
        consent = sub["consent"]
        console.print(
            f"  list {sub['list']}: {sub['status']} (source {consent['source'] or '-'}, "
            f"signed up {consent['signup_at'] or '-'}, confirmed {consent['confirmed_at'] or '-'})"
        )
    if data["suppression"]:
        sup = data["suppression"]
        console.print(f"  suppressed: {sup['reason']} since {sup['since']}")
    console.print(f"  deliveries: {len(data['deliveries'])}")


@subscribers_app.command("count")
def count_cmd(ctx: typer.Context, list_name: str = LIST, as_json: bool = JSON) -> None:
    """Count subscriptions per list and status, subscribers and suppressions.

    Example: rundbrief subscribers count --list members
    """
    from rich.table import Table

    from pipeline.store import audience as q

    state = app_context(ctx)
    if list_name:
        state.settings.list_named(list_name)
    counts = q.count_subscriptions(state.store)
    names = [list_name] if list_name else sorted({*counts, *(m.name for m in state.settings.lists)})
    per_list = {name: counts.get(name, {}) for name in names}
    total = q.count_subscribers(state.store)
    suppressed = q.count_suppressions(state.store)
    if as_json:
        emit_json({"lists": per_list, "subscribers": total, "suppressions": suppressed})
        return
    table = Table("list", "active", "pending", "unsubscribed")
    for name, by_status in per_list.items():
        table.add_row(
            name,
            *(str(by_status.get(k, 0)) for k in ("active", "pending", "unsubscribed")),
        )
    console.print(table)
    console.print(f"{total} subscribers, {suppressed} suppressed addresses")


@subscribers_app.command("export")
def export_cmd(ctx: typer.Context, email: str = typer.Argument(..., help="The address.")) -> None:
    """Print everything held on one person as JSON (GDPR Art. 15): data, subscriptions,
    consent evidence, suppression, delivery history.

    Example: rundbrief subscribers export anna.mueller@example.org > auskunft.json
    """
    state = app_context(ctx)
    emit_json(_ops(state).export(email, by=actor(state)))


@subscribers_app.command("erase")
def erase_cmd(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The address."),
    as_json: bool = JSON,
) -> None:
    """Erase a person (GDPR Art. 17): data removed, a hashed suppression kept.

    Example: rundbrief subscribers erase anna.mueller@example.org
    """
    state = app_context(ctx)
    report = _ops(state).erase(email, by=actor(state))
    if as_json:
        emit_json(
            {
                "email_hash": report.email_hash,
                "subscriber_erased": report.subscriber_erased,
                "subscriptions": report.subscriptions,
                "deliveries_scrubbed": report.deliveries_scrubbed,
            }
        )
        return
    console.print(
        f"erased: {'subscriber and ' if report.subscriber_erased else ''}"
        f"{report.subscriptions} subscriptions, address removed from "
        f"{report.deliveries_scrubbed} deliveries; suppressed by hash {report.email_hash[:12]}…"
    )


@subscribers_app.command("suppress")
def suppress_cmd(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The address."),
    reason: str = typer.Option(
        "manual", "--reason", "-r", help="unsubscribed, hard_bounce, complaint, manual or erased."
    ),
    detail: str = typer.Option(None, "--detail", help="A note kept with the entry."),
    as_json: bool = JSON,
) -> None:
    """Put an address on the suppression list: it is never mailed again.

    Example: rundbrief subscribers suppress max@example.org --reason complaint
    """
    state = app_context(ctx)
    added = _ops(state).suppress(email, reason, detail=detail, by=actor(state))
    if as_json:
        emit_json({"email": email, "reason": reason, "added": added})
        return
    console.print(f"{email}: {'suppressed' if added else 'already suppressed'} ({reason})")


@subscribers_app.command("unsubscribe")
def unsubscribe_cmd(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The address."),
    list_name: str = typer.Option(None, "--list", "-l", help="Only this list (else all)."),
    as_json: bool = JSON,
) -> None:
    """Unsubscribe an address from one list or from all (then it is also suppressed).

    Example: rundbrief subscribers unsubscribe max@example.org --list press
    """
    state = app_context(ctx)
    outcome = _ops(state).unsubscribe(email, [list_name] if list_name else None, by=actor(state))
    if as_json:
        emit_json(
            {
                "email": outcome.email,
                "lists": list(outcome.lists),
                "suppressed": outcome.suppressed,
                "cancelled_deliveries": outcome.cancelled_deliveries,
            }
        )
        return
    if not outcome.lists and not outcome.suppressed:
        raise AudienceError(f"{outcome.email} was not subscribed to {list_name or 'any list'}")
    ended = ", ".join(outcome.lists) or "no list"
    suffix = "; address suppressed" if outcome.suppressed else ""
    console.print(f"{outcome.email}: unsubscribed from {ended}{suffix}")


@subscribers_app.command("resend-confirmation")
def resend_confirmation_cmd(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The address of the pending sign-up."),
    list_name: str = typer.Option(..., "--list", "-l", help="The list signed up for."),
    as_json: bool = JSON,
) -> None:
    """Send the confirmation mail of a pending sign-up again, with a fresh link (admin).

    At most once per [audience] resend_confirmation_minutes (counted from the last
    confirmation mail); the mail goes through the system mail outbox.

    Example: rundbrief subscribers resend-confirmation k.brandt@stadtanzeiger.example --list press
    """
    from pipeline.audience import signing_secret
    from pipeline.signup import resend_confirmation

    state = app_context(ctx)
    mail_id = resend_confirmation(
        state.settings,
        state.store,
        email,
        list_name,
        by=actor(state),
        clock=state.clock,
        secret=signing_secret(state.settings),
    )
    if as_json:
        emit_json({"email": email, "list": list_name, "system_mail": mail_id})
        return
    console.print(
        f"{email}: confirmation for {list_name} queued (system mail {mail_id}); "
        "it goes out with the next drain (rundbrief mail drain, or the daemon)",
        markup=False,
        highlight=False,
    )


def _ops(state: AppContext) -> Subscribers:
    """The audience operations (imported here: ``--help`` stays light)."""
    from pipeline.subscribers import Subscribers

    return Subscribers(state.settings, state.store, state.clock)


def register(app: typer.Typer) -> None:
    """Add the ``subscribers`` command group."""
    app.add_typer(subscribers_app, name="subscribers")
