"""``rundbrief run``, ``jobs`` and ``status``: the daemon and what it is doing."""

from __future__ import annotations

from typing import Any

import typer

from pipeline.cli.context import app_context
from pipeline.cli.output import console, emit_json

JSON = typer.Option(False, "--json", help="Print one JSON document instead of a summary.")


def register(app: typer.Typer) -> None:
    """Add the schedule's commands to the app."""
    app.command("run")(run_cmd)
    app.command("jobs")(jobs_cmd)
    app.command("status")(status_cmd)


def run_cmd(ctx: typer.Context) -> None:
    """Run the daemon: collect, compose, send the newsletter and release press mailings
    on the [schedule] in config.toml, until SIGTERM or Ctrl-C (then it finishes the batch
    in flight, records where it stopped and exits 0; the next start resumes).

    Example: rundbrief --config /etc/rundbrief/config.toml -v run
    """
    from pipeline.schedule import Daemon

    state = app_context(ctx)
    settings = state.settings
    store = state.store
    # refuses a configuration `rundbrief check` finds not ready, in check's words
    daemon = Daemon(settings, store, clock=state.clock)
    # Every mail carries signed links: without the secret nothing could be sent, so say
    # so now rather than at Friday 10:00 (with a Maildir too).
    settings.secret(settings.web.secret_env, key="web.secret_env")
    console.print(
        f"rundbrief run: worker {daemon.ctx.worker}, time zone {settings.organisation.time_zone}, "
        f"store {store.dialect}; stop with Ctrl-C or SIGTERM"
    )
    daemon.run_forever()
    console.print("rundbrief run: stopped cleanly")


def jobs_cmd(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List the daemon's jobs with their next run in the organisation's local time and
    their last run (press mailings appear with their send time).

    Example: rundbrief jobs --json
    """
    from rich.table import Table

    from pipeline.schedule import upcoming
    from pipeline.store.schedule import last_job_runs

    state = app_context(ctx)
    settings, store = state.settings, state.store
    now = state.clock.now()
    last = last_job_runs(store)
    tz = settings.organisation.tz
    rows: list[dict[str, Any]] = []
    for spec, nxt in upcoming(settings, store, now=now):
        run = last.get(spec.id)
        rows.append(
            {
                "id": spec.id,
                "description": spec.description,
                "next_run": nxt.isoformat(timespec="seconds") if nxt else None,
                "misfire_grace_seconds": spec.misfire_grace_time,
                "last_run": run.started_at.astimezone(tz).isoformat(timespec="seconds")
                if run
                else None,
                "last_outcome": (run.outcome or "running") if run else None,
            }
        )
    if as_json:
        emit_json({"time_zone": settings.organisation.time_zone, "jobs": rows})
        return
    table = Table(title=f"Jobs ({settings.organisation.time_zone})", title_justify="left")
    for column in ("job", "what", "next run", "last run", "outcome"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"],
            row["description"],
            _short(row["next_run"]),
            _short(row["last_run"]),
            row["last_outcome"] or "-",
        )
    console.print(table)


def _short(value: str | None) -> str:
    return value.replace("T", " ")[:19] if value else "-"


def status_cmd(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Show failing feeds, mailings by state, the last sends with their delivery counts,
    the last run of every job and the latest operator notifications.

    Example: rundbrief status --json
    """
    from rich.markup import escape
    from rich.table import Table

    from pipeline.schedule import collect_status

    state = app_context(ctx)
    data = collect_status(state.settings, state.store, now=state.clock.now())
    if as_json:
        emit_json(data)
        return
    daemon = data["daemon"]
    if daemon["running"]:
        console.print(f"Daemon: running (last seen {_short(daemon['last_seen'])})")
    else:
        seen = _short(daemon["last_seen"]) if daemon["last_seen"] else "never"
        console.print(
            f"[bold yellow]Daemon: not running[/] (last seen {seen}; start: rundbrief run)"
        )
    feeds = data["failing_feeds"]
    if feeds:
        table = Table(title="Failing feeds", title_justify="left")
        for column in ("feed", "failures", "flagged", "last success", "last error"):
            table.add_column(column)
        for f in feeds:
            table.add_row(
                f["name"],
                str(f["failures"]),
                "yes" if f["flagged"] else "",
                _short(f["last_success"]),
                (f["last_error"] or "")[:80],
            )
        console.print(table)
    else:
        console.print("Feeds: all fine")
    if data["mailings"]:
        parts = [
            f"{kind}: " + ", ".join(f"{n} {status}" for status, n in counts.items())
            for kind, counts in data["mailings"].items()
        ]
        console.print("Mailings: " + " · ".join(parts))
    else:
        console.print("Mailings: none yet")
    for h in data["held"]:
        console.print(
            f"[bold yellow]held[/]: mailing {h['mailing']} ({h['kind']}, {h['status']}) "
            f"missed its send time; send it with `rundbrief send {h['mailing']}` or cancel it"
        )
    for p in data["paused"]:
        when = (
            f"the daemon tries again at {_short(p['next_try'])}"
            if p["next_try"]
            else "resume it by hand"
        )
        console.print(
            f"[bold red]paused[/]: mailing {p['mailing']} ({p['kind']}): {escape(p['reason'] or '')}; "
            f"{when} (or now: rundbrief send {p['mailing']})",
            markup=True,
            highlight=False,
        )
    if data["last_sends"]:
        table = Table(title="Last sends", title_justify="left")
        for column in ("id", "kind", "status", "started", "finished", "deliveries", "subject"):
            table.add_column(column)
        for s in data["last_sends"]:
            counts = ", ".join(f"{n} {k}" for k, n in sorted(s["deliveries"].items()))
            table.add_row(
                str(s["mailing"]),
                s["kind"],
                s["status"],
                _short(s["started"]),
                _short(s["finished"]),
                counts or "-",
                s["subject"][:50],
            )
        console.print(table)
    if data["jobs"]:
        table = Table(title="Last job runs", title_justify="left")
        for column in ("job", "started", "outcome", "detail"):
            table.add_column(column)
        for name, run in data["jobs"].items():
            table.add_row(name, _short(run["started"]), run["outcome"], (run["detail"] or "")[:80])
        console.print(table)
    for n in data["notifications"][:5]:
        console.print(f"notified {_short(n['created'])}: {n['subject']}")
