"""``rundbrief send`` and ``rundbrief worker``: deliver approved mailings through the outbox."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from pipeline.cli.context import actor, app_context
from pipeline.cli.output import console, emit_json, err_console

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM/SIGINT: the send finishes its chunk, marks it and stops."""
    event = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        event.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield event
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _Bar:
    """A rich progress bar with the rate (messages/s) and the time left."""

    def __init__(self, enabled: bool) -> None:
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]mailing {task.fields[mailing]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:>7.0f}/s"),
                TextColumn("sent {task.fields[sent]} failed {task.fields[failed]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )

    def __enter__(self) -> _Bar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, p: Any) -> None:
        if self.progress is None:
            return
        if self.task is None:
            self.task = self.progress.add_task(
                "send", total=p.total, mailing=p.mailing_id, rate=0.0, sent=0, failed=0
            )
        task = self.progress.tasks[self.task]
        elapsed = task.elapsed or 0.0
        rate = p.sent / elapsed if elapsed > 0 else 0.0
        self.progress.update(
            self.task,
            total=p.total,
            completed=p.done,
            rate=rate,
            sent=p.sent,
            failed=p.failed,
        )


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the app."""

    @app.command("send")
    def send(
        ctx: typer.Context,
        mailing_id: int = typer.Argument(..., metavar="ID", help="The mailing to send."),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Build every message, send none, change nothing."
        ),
        test_to: str = typer.Option(
            None,
            "--test-to",
            metavar="EMAIL",
            help="Send one copy marked as a test; no state changes.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Send an approved mailing to every eligible recipient (resumes after a crash).

        A mailing scheduled for later is refused until its send time (shown in the
        organisation's time zone); a paused one resumes.

        Example: rundbrief send 12 --dry-run
        """
        from pipeline.cli.mailings import workflow

        state = app_context(ctx)
        flow = workflow(state)
        if test_to:
            result = flow.send_test_copy(mailing_id, test_to, by=actor(state))
            if as_json:
                emit_json(
                    {
                        "mailing": mailing_id,
                        "test_to": test_to,
                        "ok": result.ok,
                        "error": result.error,
                        "provider_message_id": result.provider_message_id,
                    }
                )
            elif result.ok:
                console.print(f"Test copy of mailing {mailing_id} sent to {test_to}.")
            else:
                console.print(f"Test copy to {test_to} failed: {result.error}")
            if not result.ok:
                raise typer.Exit(1)
            return
        with stop_on_signals() as stop, _Bar(not as_json and err_console.is_terminal) as bar:
            report = flow.send_now(
                mailing_id, dry_run=dry_run, stop=stop.is_set, progress=bar, by=actor(state)
            )
        if as_json:
            emit_json(report.as_json())
            return
        if report.dry_run:
            console.print(
                f"Dry run of mailing {mailing_id}: {report.built} messages built "
                f"({report.rate:.0f}/s), {report.failed} unusable addresses; nothing sent."
            )
            return
        console.print(
            f"Mailing {mailing_id}: sent {report.sent}, failed {report.failed}, "
            f"suppressed {report.suppressed}, skipped {report.skipped} (done before), "
            f"{report.seconds:.1f} s, {report.rate:.0f} messages/s. Status: {report.status}."
        )
        if report.confirmed:
            console.print(
                f"{report.confirmed} unanswered attempts were confirmed by the provider "
                "(not sent again)."
            )
        if report.possible_duplicates:
            console.print(
                f"{report.possible_duplicates} possible duplicates: sent again after an "
                "attempt that went unanswered and could not be confirmed."
            )
        if report.retrying:
            console.print(f"{report.retrying} deliveries wait for a retry; run send again later.")
        if report.paused_reason:
            console.print(f"Paused: {report.paused_reason}")
            raise typer.Exit(1)
        if report.stopped:
            console.print("Stopped; run the same command again to resume.")

    @app.command("worker")
    def worker(
        ctx: typer.Context,
        once: bool = typer.Option(False, "--once", help="Work through what is there, then exit."),
        poll: float = typer.Option(5.0, "--poll", help="Seconds between looks for work."),
    ) -> None:
        """Help send every mailing in state 'sending' (several workers share a PostgreSQL outbox).

        Stops cleanly on SIGTERM: the chunk in flight is marked, the rest is given back.

        Example: rundbrief worker --poll 10
        """
        from pipeline.deliver import (
            mailings_to_work,
            require_ready,
            send_mailing,
            transport_from_settings,
        )
        from pipeline.errors import DeliveryError

        state = app_context(ctx)
        settings, store, clock = state.settings, state.store, state.clock
        # at start, not at the first mailing: a worker with nothing to do would wait on
        require_ready(settings)
        total = 0
        with transport_from_settings(settings) as transport, stop_on_signals() as stop:
            while not stop.is_set():
                worked = False
                for mailing_id in mailings_to_work(store):
                    if stop.is_set():
                        break
                    try:
                        report = send_mailing(
                            settings,
                            store,
                            mailing_id,
                            clock=clock,
                            transport=transport,
                            stop=stop.is_set,
                            start=False,
                            wait_for_retries=False,
                        )
                    except DeliveryError as exc:
                        err_console.print(f"mailing {mailing_id}: {exc}")
                        continue
                    worked = worked or report.sent + report.failed > 0
                    total += report.sent
                    console.print(
                        f"mailing {mailing_id}: sent {report.sent}, failed {report.failed}, "
                        f"status {report.status}"
                    )
                if once:
                    break
                if not worked:
                    stop.wait(poll)
        console.print(f"worker stopped; {total} messages sent.")
