"""``rundbrief preview``: the files of one recipient's copy of a mailing."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.context import app_context
from pipeline.cli.mailings import JSON, workflow
from pipeline.cli.output import console, emit_json


def register(app: typer.Typer) -> None:
    """Add ``preview`` to the app."""
    app.command("preview")(preview_cmd)


def preview_cmd(
    ctx: typer.Context,
    mailing_id: int = typer.Argument(..., metavar="ID"),
    to: str = typer.Option(
        None, "--to", help="Preview the copy of this subscriber (default: a sample one)."
    ),
    out: Path = typer.Option(Path("var/preview"), "--out", help="Folder for the files."),
    as_json: bool = JSON,
) -> None:
    """Write preview.html, preview.txt and preview.eml of a mailing into a folder.

    preview.eml is the exact message the recipient gets (headers, both parts, the
    personal unsubscribe link). A draft is rendered first; an approved mailing shows
    its stored render. Needs the signing secret ([web] secret_env) for the links.

    Example: rundbrief preview 3 --to anna.schulz@example.org --out var/preview
    """
    from pipeline.mailings import write_preview
    from pipeline.render import html_size

    state = app_context(ctx)
    preview = workflow(state).preview(mailing_id, to=to)
    paths = write_preview(preview, out)
    size = html_size(preview.personal.html)
    if as_json:
        emit_json(
            {
                "mailing": mailing_id,
                "recipient": preview.recipient.email,
                "sample": preview.sample,
                "language": preview.rendered.language,
                "html_bytes": size,
                "files": {k: str(v) for k, v in paths.items()},
            }
        )
        return
    who = preview.recipient.email + (" (sample recipient)" if preview.sample else "")
    console.print(f"Preview of mailing {mailing_id} for {who}, {size / 1000:.1f} KB HTML:")
    for path in paths.values():
        console.print(f"  {path}")
    console.print(
        f"Open {paths['html']} in a browser, {paths['eml']} in a mail program; "
        f"`rundbrief serve` shows it at 600 and 375 px."
    )
