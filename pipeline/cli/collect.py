"""``rundbrief collect``, ``feeds`` and ``items``: the collect stage on the command line."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from typing import TYPE_CHECKING, Any

import typer

from pipeline.cli.context import app_context
from pipeline.cli.output import console, emit_json, err_console
from pipeline.models import FeedState, Item

if TYPE_CHECKING:
    from pipeline.collect import CollectReport, FeedOutcome

KINDS = ("article", "event_report", "press_release")
JSON = typer.Option(False, "--json", help="Print one JSON document instead of a summary.")
TABLE_LIMIT = 50
KIND_LABEL = {"article": "article", "event_report": "event", "press_release": "press"}
STATUS_STYLE = {"ok": "green", "not_modified": "cyan", "error": "bold red"}


def register(app: typer.Typer) -> None:
    """Add the collect stage's commands to the app."""
    app.command("collect")(collect_cmd)
    app.command("feeds")(feeds_cmd)
    app.command("items")(items_cmd)


def collect_cmd(
    ctx: typer.Context,
    feed: list[str] = typer.Option(
        None, "--feed", "-f", help="Only this feed (a [[feeds]] name); repeatable."
    ),
    as_json: bool = JSON,
) -> None:
    """Fetch the configured feeds and store new and changed items.

    Exit status 0 when every feed was fine, 1 when some failed (the others were still
    stored). A failing feed is counted; after collect.failures_before_flag failures in a
    row it is flagged (see `rundbrief feeds`).

    Example: rundbrief collect --feed artikel
    """
    from pipeline.collect import collect

    state = app_context(ctx)
    settings, store = state.settings, state.store
    if as_json:
        report = collect(settings, store, clock=state.clock, feed_names=feed or None)
        emit_json(report.as_json())
    else:
        report = _collect_with_progress(state, feed or None)
        _print_report(report)
    raise typer.Exit(0 if report.ok else 1)


def _collect_with_progress(state: Any, names: list[str] | None) -> CollectReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from pipeline.collect import collect

    columns = (
        TextColumn("collecting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def advance(outcome: FeedOutcome, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=outcome.name)

        return collect(
            state.settings, state.store, clock=state.clock, feed_names=names, progress=advance
        )


def _print_report(report: CollectReport) -> None:
    from rich.table import Table

    table = Table(title="Feeds collected", title_justify="left")
    table.add_column("feed")
    table.add_column("status")
    table.add_column("new", justify="right")
    table.add_column("updated", justify="right")
    table.add_column("error")
    for outcome in report.feeds:
        note = outcome.error or ""
        if outcome.status != "error":
            extras = []
            if outcome.warning:
                extras.append(f"[yellow]{outcome.warning}[/]")
            if outcome.moved_to:
                extras.append(f"moved to {outcome.moved_to}")
            if outcome.backfilled:
                extras.append(f"{outcome.backfilled} older than the backfill window")
            if outcome.waiting:
                extras.append(f"{outcome.waiting} dated in the future")
            note = "; ".join(extras)
        elif outcome.flagged:
            note = f"[bold red]flagged[/]: {note}"
        style = STATUS_STYLE.get(outcome.status, "")
        table.add_row(
            outcome.name,
            f"[{style}]{outcome.status}[/]",
            str(outcome.new),
            str(outcome.updated),
            note,
        )
    if report.feeds:
        console.print(table)
    failed = sum(1 for f in report.feeds if f.status == "error")
    summary = f"{report.new} new, {report.updated} updated from {len(report.feeds)} feeds"
    if failed:
        summary += f"; [bold red]{failed} failed[/] (the others were stored)"
    console.print(summary)


def feeds_cmd(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List the feeds with their fetch state: last success, failures, flags, errors.

    Example: rundbrief feeds --json
    """
    from rich.table import Table

    from pipeline.collect import sync_configured_feeds
    from pipeline.store.feeds import list_feeds

    state = app_context(ctx)
    sync_configured_feeds(state.settings, state.store, clock=state.clock)
    rows = list_feeds(state.store)
    if as_json:
        emit_json([_feed_json(f) for f in rows])
        return
    table = Table(title="Feeds", title_justify="left")
    table.add_column("feed", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("last success", no_wrap=True)
    table.add_column("fails", justify="right", no_wrap=True)
    table.add_column("last error", overflow="fold", min_width=16)
    tz = state.settings.organisation.tz
    for f in rows:
        last = (
            f.last_success_at.astimezone(tz).strftime("%d.%m. %H:%M")
            if f.last_success_at
            else "never"
        )
        table.add_row(
            f.name,
            KIND_LABEL.get(f.kind, f.kind),
            _feed_state(f),
            last,
            str(f.failures),
            f"[red]{f.last_error}[/]" if f.last_error else "",
        )
    console.print(table)
    flagged = [f.name for f in rows if f.flagged]
    if flagged:
        console.print(f"[bold red]flagged[/]: {', '.join(flagged)} (see the last error)")


def _feed_state(f: FeedState) -> str:
    if not f.in_config:
        return "[dim]removed from config[/]"
    if f.disabled_reason:
        return "[red]disabled (gone)[/]"
    if not f.enabled:
        return "[dim]disabled[/]"
    if f.flagged:
        return "[bold red]flagged[/]"
    if f.last_status is None:
        return "never fetched"
    label = "unchanged" if f.last_status == "not_modified" else f.last_status
    return f"[{STATUS_STYLE.get(f.last_status, '')}]{label}[/]"


def _feed_json(f: FeedState) -> dict[str, Any]:
    return {
        "name": f.name,
        "url": f.url,
        "kind": f.kind,
        "title": f.title,
        "enabled": f.enabled and f.disabled_reason is None,
        "in_config": f.in_config,
        "status": f.last_status,
        "flagged": f.flagged,
        "failures": f.failures,
        "last_error": f.last_error,
        "disabled_reason": f.disabled_reason,
        "last_fetched_at": f.last_fetched_at,
        "last_success_at": f.last_success_at,
        "etag": f.etag,
        "last_modified": f.last_modified,
    }


def items_cmd(
    ctx: typer.Context,
    kind: str = typer.Option(
        None, "--kind", "-k", help="Only this kind: article, event_report or press_release."
    ),
    since: str = typer.Option(
        None, "--since", help="Only items published on or after this date (YYYY-MM-DD)."
    ),
    feed: str = typer.Option(None, "--feed", "-f", help="Only items of this feed."),
    limit: int = typer.Option(
        None,
        "--limit",
        "-n",
        min=1,
        help=f"At most this many, newest first (the table shows {TABLE_LIMIT} by default).",
    ),
    as_json: bool = JSON,
) -> None:
    """List collected items, newest first.

    Example: rundbrief items --kind article --since 2026-06-01 --json
    """
    from rich.table import Table

    from pipeline.store.items import list_items

    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(f"expected one of {', '.join(KINDS)}", param_hint="--kind")
    state = app_context(ctx)
    start = _parse_since(since, state.settings.organisation.tz) if since else None
    shown = limit if limit is not None or as_json else TABLE_LIMIT + 1
    found = list_items(state.store, kind=kind, since=start, feed=feed, limit=shown)
    if as_json:
        emit_json([_item_json(i) for i in found])
        return
    more = limit is None and len(found) > TABLE_LIMIT
    found = found[:TABLE_LIMIT] if more else found
    title = (
        f"Items (newest {len(found)}; --limit N shows more)" if more else f"Items ({len(found)})"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("published", no_wrap=True)
    table.add_column("feed", no_wrap=True)
    table.add_column("title", ratio=3, overflow="fold")
    table.add_column("image credit", ratio=1, overflow="fold")
    tz = state.settings.organisation.tz
    for i in found:
        published = i.published_at.astimezone(tz).strftime("%d.%m.%Y") if i.published_at else ""
        title = i.title if i.eligible else f"{i.title} [dim](backfill: not mailed)[/]"
        table.add_row(str(i.id), published, i.feed or "", title, i.image_credit or "")
    console.print(table)


def _item_json(i: Item) -> dict[str, Any]:
    return {
        "id": i.id,
        "feed": i.feed,
        "kind": i.kind,
        "title": i.title,
        "link": i.link,
        "published": i.published_at,
        "summary": i.summary,
        "content_html": i.content_html,
        "image_url": i.image_url,
        "image_credit": i.image_credit,
        "tags": list(i.tags),
    }


def _parse_since(value: str, tz: tzinfo) -> datetime:
    """A date means its midnight in the organisation's time zone."""
    try:
        if "T" in value or " " in value.strip():
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=tz)
        return datetime.combine(date.fromisoformat(value), time.min, tzinfo=tz)
    except ValueError as exc:
        raise typer.BadParameter(
            f"expected a date like 2026-06-01 (or 2026-06-01T08:00+02:00), got {value!r}",
            param_hint="--since",
        ) from exc
