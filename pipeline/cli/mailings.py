"""``rundbrief mailings``, ``mailing show``, ``edit``, ``approve`` and ``cancel``: drafts
looked at, edited and approved on the command line (``compose`` and ``preview`` live in
their own modules and are registered from here)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pipeline.cli.context import AppContext, actor, app_context
from pipeline.cli.output import console, emit_json
from pipeline.errors import ComposeError
from pipeline.models import Mailing, MailingKind, MailingStatus

if TYPE_CHECKING:
    from pipeline.mailings import MailingOverview, Workflow

JSON = typer.Option(False, "--json", help="Print one JSON document instead of a summary.")
STATUS_STYLE = {
    "draft": "yellow",
    "approved": "green",
    "scheduled": "cyan",
    "sending": "bold cyan",
    "paused": "bold red",
    "sent": "dim",
    "cancelled": "dim",
}

mailing_app = typer.Typer(help="Look at one mailing.", no_args_is_help=True, rich_markup_mode=None)


def register(app: typer.Typer) -> None:
    """Add the compose and render commands to the app."""
    from pipeline.cli import compose, preview, record

    compose.register(app)
    record.register(mailing_app)
    app.add_typer(mailing_app, name="mailing")
    app.command("mailings")(mailings_cmd)
    app.command("edit")(edit_cmd)
    app.command("approve")(approve_cmd)
    app.command("cancel")(cancel_cmd)
    preview.register(app)


# --- helpers ---------------------------------------------------------------------------


def workflow(state: AppContext) -> Workflow:
    """The workflow layer for this command (imported here: ``--help`` stays light)."""
    from pipeline.mailings import Workflow

    return Workflow(state.settings, state.store, state.clock)


def parse_when(value: str, state: AppContext, *, option: str = "--embargo") -> datetime:
    """ISO date and time; without an offset it is the organisation's local time."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError:
        raise ComposeError(
            f"{option} {value!r}: expected a date and time such as 2026-06-25T10:00 "
            f"or 2026-06-25T10:00+02:00",
            field=option.removeprefix("--").replace("-", "_"),
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=state.settings.organisation.tz)
    return parsed


def parse_send_at(value: str, state: AppContext) -> datetime | None:
    """``--send-at``: a time as ``parse_when`` reads it, or ``now`` (None: on approval)."""
    if value.strip().lower() == "now":
        return None
    return parse_when(value, state, option="--send-at")


def local_time(value: datetime | None, state: AppContext) -> str:
    if value is None:
        return ""
    return value.astimezone(state.settings.organisation.tz).strftime("%Y-%m-%d %H:%M")


def mailing_json(mailing: Mailing, state: AppContext) -> dict[str, Any]:
    """A mailing for ``--json``; its times carry the organisation's offset
    (``2026-06-25T10:00:00+02:00``), the same instants people read in the summaries."""
    data = {
        "id": mailing.id,
        "kind": str(mailing.kind),
        "status": str(mailing.status),
        "subject": mailing.subject,
        "preheader": mailing.preheader,
        "intro_md": mailing.intro_md,
        "languages": list(mailing.languages),
        "lists": list(mailing.lists),
        "items": list(mailing.item_ids),
        "period_key": mailing.period_key,
        "send_at": mailing.send_at,
        "embargo": mailing.embargo_at,
        "created_at": mailing.created_at,
        "updated_at": mailing.updated_at,
        "approved_at": mailing.approved_at,
        "approved_by": mailing.approved_by,
        "composed_by": mailing.composed_by,
        "last_edited_by": mailing.last_edited_by,
        "sent_at": mailing.sent_at,
        "segment": mailing.segment_name,
        "where": mailing.segment_where,
    }
    tz = state.settings.organisation.tz
    return {k: v.astimezone(tz) if isinstance(v, datetime) else v for k, v in data.items()}


def print_unknown_attributes(view: MailingOverview) -> None:
    """A segment testing an attribute nobody has matches nobody by it: say so."""
    for name in view.unknown_attributes:
        console.print(
            f"Note: no subscriber has the attribute {name!r} (a typo? see the CSV's columns)",
            markup=False,
        )


def segment_line(mailing: Mailing) -> str:
    """``Segment: …`` for ``mailing show`` and a new draft: whom of the lists it reaches."""
    if mailing.segment_where is None:
        return "Segment:   none (everyone on the lists)"
    if mailing.segment_name:
        return f"Segment:   {mailing.segment_name}: {mailing.segment_where}"
    return f"Segment:   {mailing.segment_where}"


def status_markup(status: MailingStatus | str) -> str:
    style = STATUS_STYLE.get(str(status), "")
    return f"[{style}]{status}[/{style}]" if style else str(status)


# --- listing and showing ---------------------------------------------------------------


def mailings_cmd(
    ctx: typer.Context,
    status: str = typer.Option(None, "--status", help="Only mailings in this state."),
    kind: str = typer.Option(None, "--kind", help="newsletter or press."),
    as_json: bool = JSON,
) -> None:
    """List mailings, newest first.

    Example: rundbrief mailings --status draft
    """
    from rich.table import Table

    state = app_context(ctx)
    if status and status not in {s.value for s in MailingStatus}:
        raise ComposeError(
            f"--status {status!r}: expected one of {', '.join(s.value for s in MailingStatus)}"
        )
    if kind and kind not in {k.value for k in MailingKind}:
        raise ComposeError(f"--kind {kind!r}: expected newsletter or press")
    found = workflow(state).list_mailings(status=status, kind=kind)
    if as_json:
        emit_json({"mailings": [mailing_json(m, state) for m in found]})
        return
    if not found:
        console.print("No mailings yet. Make one: rundbrief compose newsletter")
        return

    table = Table(title="Mailings", title_justify="left")
    for column in ("id", "kind", "status", "items", "subject", "send at", "embargo", "created"):
        table.add_column(column, justify="right" if column in ("id", "items") else "left")
    for m in found:
        table.add_row(
            str(m.id),
            str(m.kind),
            status_markup(m.status),
            str(len(m.item_ids)),
            m.subject,
            local_time(m.send_at, state),
            local_time(m.embargo_at, state),
            local_time(m.created_at, state),
        )
    console.print(table)


@mailing_app.command("show")
def show_cmd(
    ctx: typer.Context,
    mailing_id: int = typer.Argument(..., metavar="ID"),
    as_json: bool = JSON,
) -> None:
    """Show one mailing: state, subject, intro, items in order, stored renders.

    Example: rundbrief mailing show 3
    """
    from rich.table import Table

    from pipeline.render import html_size

    state = app_context(ctx)
    view = workflow(state).overview(mailing_id)
    mailing = view.mailing
    if as_json:
        data = mailing_json(mailing, state)
        data["items"] = [
            {
                "id": iid,
                "kind": item.kind if item else None,
                "title": item.title if item else None,
                "published_at": item.published_at if item else None,
            }
            for iid, item in view.items
        ]
        data["renders"] = {
            lang: ({"html_bytes": html_size(r.html), "text_chars": len(r.text)} if r else None)
            for lang, r in view.renders.items()
        }
        data.update(overview_json(view, state))
        emit_json(data)
        return
    console.print(
        f"[bold]Mailing {mailing.id}[/bold] · {mailing.kind} · {status_markup(mailing.status)}"
        + (f" · {mailing.period_key}" if mailing.period_key else "")
    )
    console.print(f"Subject:   {mailing.subject}")
    console.print(f"Preheader: {mailing.preheader}")
    console.print(
        f"Lists:     {', '.join(mailing.lists)}   Languages: {', '.join(mailing.languages)}"
    )
    console.print(segment_line(mailing), markup=False)
    if mailing.send_at:
        console.print(f"Send at:   {local_time(mailing.send_at, state)}")
    if mailing.embargo_at:
        console.print(f"Embargo:   {local_time(mailing.embargo_at, state)} (Sperrfrist)")
    if mailing.follows_id is not None:
        console.print(
            f"Follows:   press release {mailing.follows_id} ({mailing.follow_kind}; to those "
            "it was delivered to)",
            markup=False,
        )
    if mailing.composed_by or mailing.last_edited_by:
        console.print(
            f"Composed:  by {mailing.composed_by or '?'}, last edited by "
            f"{mailing.last_edited_by or '?'}",
            markup=False,
        )
    if mailing.approved_at:
        by = view.approved_by or "?"
        console.print(f"Approved:  {local_time(mailing.approved_at, state)} by {by}")
    if mailing.intro_md.strip():
        console.print("Intro:", markup=False)
        console.print(mailing.intro_md.strip(), markup=False)
    table = Table(title="Items", title_justify="left")
    for column in ("pos", "item", "kind", "published", "title"):
        table.add_column(column)
    for pos, (iid, item) in enumerate(view.items, start=1):
        table.add_row(
            str(pos),
            str(iid),
            item.kind if item else "?",
            local_time(item.published_at, state) if item else "",
            item.title if item else "(item no longer exists)",
        )
    console.print(table)
    for lang, rendered in view.renders.items():
        if rendered is None:
            console.print(f"Render {lang}: not rendered yet (rundbrief preview {mailing.id})")
        else:
            console.print(
                f"Render {lang}: {html_size(rendered.html) / 1000:.1f} KB HTML, "
                f"{len(rendered.text)} characters of text"
            )
    print_overview(view, state)


def overview_json(view: MailingOverview, state: AppContext) -> dict[str, Any]:
    """The delivery part of ``mailing show --json`` (times in the organisation's zone)."""
    tz = state.settings.organisation.tz
    return {
        "recipients": view.recipients,
        "unknown_attributes": list(view.unknown_attributes),
        "paused_reason": view.paused_reason,
        "resume_at": view.resume_at.astimezone(tz).isoformat() if view.resume_at else None,
        "possible_duplicates": view.possible_duplicates,
        "deliveries": dict(view.deliveries),
        "top_errors": [{"error": e, "count": n} for e, n in view.top_errors],
        "bounces": dict(view.bounces),
        "complaints": view.complaints,
        "unsubscribes": view.unsubscribes,
    }


def print_overview(view: MailingOverview, state: AppContext) -> None:
    """The delivery part of ``mailing show``: one line of counts, then the top errors."""
    from rich.table import Table
    from rich.text import Text

    if view.paused_reason:
        console.print(f"Paused:    {view.paused_reason}", markup=False)
        if view.resume_at:
            when = local_time(view.resume_at, state)
            console.print(f"           the daemon tries again at {when}")
    console.print(f"Recipients: {view.recipients}" + ("" if view.started else " (now)"))
    print_unknown_attributes(view)
    if not any(view.deliveries.values()):
        console.print("Deliveries: none yet")
        return
    console.print(
        "Deliveries: " + ", ".join(f"{status} {n}" for status, n in view.deliveries.items() if n)
    )
    if view.possible_duplicates:
        console.print(
            f"Possible duplicates: {view.possible_duplicates} (sent again after an "
            "attempt that went unanswered and could not be confirmed)"
        )
    reported = {**view.bounces, "complaint": view.complaints, "unsubscribed": view.unsubscribes}
    if any(reported.values()):
        console.print(
            "Reported:   " + ", ".join(f"{kind} {n}" for kind, n in reported.items() if n)
        )
    if view.top_errors:
        table = Table("errors", "count", title=None, show_edge=False)
        for error, count in view.top_errors:
            table.add_row(Text(error), str(count))
        console.print(table)


# --- editing and the lifecycle ---------------------------------------------------------


def edit_cmd(
    ctx: typer.Context,
    mailing_id: int = typer.Argument(..., metavar="ID"),
    subject: str = typer.Option(None, "--subject", help="A new subject line."),
    intro_file: Path = typer.Option(
        None, "--intro-file", help="The intro as a Markdown file ('-' reads stdin)."
    ),
    preheader: str = typer.Option(None, "--preheader", help="The line shown after the subject."),
    drop: list[int] = typer.Option(None, "--drop", help="Remove this item; repeatable."),
    move: int = typer.Option(None, "--move", help="Move this item (with --to)."),
    to: int = typer.Option(None, "--to", help="The position to move it to (1 is first)."),
    send_at: str = typer.Option(
        None, "--send-at", help="Send at this time (local), or 'now': when approved."
    ),
    embargo: str = typer.Option(
        None, "--embargo", help="Press: may be published from this time on (local)."
    ),
    no_embargo: bool = typer.Option(False, "--no-embargo", help="Remove the embargo."),
    segment: str = typer.Option(None, "--segment", help="Send to this segment ([segments])."),
    where: str = typer.Option(None, "--where", help="Send to those for whom this holds."),
    no_segment: bool = typer.Option(False, "--no-segment", help="Send to the whole lists."),
    as_json: bool = JSON,
) -> None:
    """Change a draft: subject, intro (Markdown), preheader, items, send time, embargo,
    segment.

    Editing an approved (or scheduled) mailing returns it to draft: it needs a new
    approval, because what is approved is exactly what is sent.

    Example: rundbrief edit 3 --intro-file intro.md --drop 17 --move 21 --to 1
    """

    state = app_context(ctx)
    if (move is None) != (to is None):
        raise ComposeError("--move ITEM and --to POSITION go together")
    if embargo and no_embargo:
        raise ComposeError("--embargo and --no-embargo contradict each other")
    from pipeline.mailings import reorder

    flow = workflow(state)
    before = flow.get(mailing_id)
    changes: dict[str, Any] = {}
    if subject is not None:
        changes["subject"] = subject
    if preheader is not None:
        changes["preheader"] = preheader
    if intro_file is not None:
        changes["intro_md"] = _read_intro(intro_file)
    if send_at:
        changes["send_at"] = parse_send_at(send_at, state)
    if embargo:
        changes["embargo_at"] = parse_when(embargo, state)
    elif no_embargo:
        changes["embargo_at"] = None
    if no_segment and (segment or where):
        raise ComposeError("--no-segment and --segment/--where contradict each other")
    if segment is not None or where is not None or no_segment:
        changes.update(segment=segment, where=where)
    ids = reorder(before.item_ids, drop=set(drop or []))
    if move is not None:
        if move not in ids:
            raise ComposeError(f"mailing {mailing_id}: item {move} is not in this mailing")
        if not 1 <= to <= len(ids):
            raise ComposeError(f"--to {to}: expected a position from 1 to {len(ids)}")
        ids = reorder(ids, positions={move: to})
    if tuple(ids) != before.item_ids:
        changes["item_ids"] = ids
    if not changes:
        raise ComposeError("nothing to change: give --subject, --intro-file, --drop, --move …")
    after = flow.edit(mailing_id, by=actor(state), **changes)
    if as_json:
        emit_json(mailing_json(after, state))
        return
    names = sorted("embargo" if n == "embargo_at" else n for n in changes)
    console.print(f"Mailing {after.id} changed ({', '.join(names)}).")
    if before.status != after.status:
        console.print(
            f"It was {before.status} and is a draft again: approve it anew "
            f"(rundbrief approve {after.id})."
        )


def _read_intro(path: Path) -> str:
    return read_text_file(path, option="--intro-file")


def read_text_file(path: Path, *, option: str = "--text-file") -> str:
    """A UTF-8 text file given to ``option`` ('-': stdin), or a ``ComposeError`` saying why not."""
    if str(path) == "-":
        import sys

        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ComposeError(f"{option} {path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ComposeError(f"{option} {path}: not UTF-8 (byte {exc.start})") from exc
    except OSError as exc:
        raise ComposeError(f"{option} {path}: {exc.strerror}") from exc


def approve_cmd(
    ctx: typer.Context,
    mailing_id: int = typer.Argument(..., metavar="ID"),
    by: str = typer.Option(
        None, "--by", help="Older spelling of the global --as EMAIL (who approves)."
    ),
    as_json: bool = JSON,
) -> None:
    """Render, check and approve a draft: from now on its stored render is what is sent.

    A draft with a send time ahead becomes scheduled: the daemon sends it at that time
    and `rundbrief send` refuses before it.

    Example: rundbrief --as vorstand@junge-buergermeister.example approve 3
    """
    state = app_context(ctx)
    if by and state.as_email and by.strip().lower() != state.as_email.strip().lower():
        raise typer.BadParameter(f"--by {by} and --as {state.as_email} name different people")
    if by and not state.as_email:
        state.as_email = by
    who = actor(state)
    mailing = workflow(state).approve(mailing_id, by=who)
    if as_json:
        emit_json(mailing_json(mailing, state))
        return
    line = f"Mailing {mailing.id} approved by {who.email}"
    if mailing.status == MailingStatus.SCHEDULED and mailing.send_at:
        line += f"; it is scheduled for {local_time(mailing.send_at, state)}"
    elif mailing.send_at:
        line += f"; its send time {local_time(mailing.send_at, state)} has passed"
    console.print(line + ".")


def cancel_cmd(
    ctx: typer.Context,
    mailing_id: int = typer.Argument(..., metavar="ID"),
    as_json: bool = JSON,
) -> None:
    """Cancel a mailing that has not started sending (its week is free again).

    Example: rundbrief cancel 3
    """
    state = app_context(ctx)
    mailing = workflow(state).cancel(mailing_id, by=actor(state))
    if as_json:
        emit_json(mailing_json(mailing, state))
        return
    console.print(f"Mailing {mailing.id} cancelled.")
