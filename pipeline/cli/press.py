"""``rundbrief press files add|list|remove``: the press kit of a press release."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pipeline.cli.context import actor, app_context
from pipeline.cli.output import console, emit_json

if TYPE_CHECKING:
    from pipeline.models import PressFile

press_app = typer.Typer(
    help="Press work: the files of a press release's press kit.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
files_app = typer.Typer(
    help="The press kit of a press release: add, list and remove files.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
press_app.add_typer(files_app, name="files")

JSON = typer.Option(False, "--json", help="Print JSON.")


def register(app: typer.Typer) -> None:
    """Add ``press files …`` to the app."""
    app.add_typer(press_app, name="press")


def file_json(file: PressFile) -> dict[str, Any]:
    return {
        "name": file.name,
        "content_type": file.content_type,
        "size": file.size,
        "sha256": file.sha256,
        "credit": file.credit,
        "licence": file.licence,
        "alt_text": file.alt_text,
        "width": file.width,
        "height": file.height,
        "preview": (
            {"width": file.preview_width, "height": file.preview_height, "type": file.preview_type}
            if file.preview_sha256
            else None
        ),
    }


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@files_app.command("add")
def add_cmd(
    ctx: typer.Context,
    mailing_id: int = typer.Argument(..., metavar="ID"),
    file: Path = typer.Argument(..., metavar="FILE", help="The file to add."),
    name: str = typer.Option("", "--name", help="Its name in the link (default: the file's)."),
    credit: str = typer.Option("", "--credit", help='Who made it: "Foto: Anna Berger".'),
    licence: str = typer.Option("", "--licence", help='How it may be used: "CC BY 4.0".'),
    alt: str = typer.Option("", "--alt", help="What an image shows (its alt text in the mail)."),
    as_json: bool = JSON,
) -> None:
    """Add a file (PDF, photo, any type) to a press release's press kit.

    Only while the release is a draft, approved or scheduled: it becomes a draft again
    and needs a new approval. A photo gets a preview for the mail; a broken image is
    refused. The name is made safe for a link (umlauts spelled out, no folders).

    Example: rundbrief press files add 7 pressefoto.jpg --credit "Foto: Anna Berger" --licence "CC BY 4.0" --alt "Die neue Stadtbibliothek"
    """
    from pipeline.cli.mailings import workflow

    state = app_context(ctx)
    added = workflow(state).add_file(
        mailing_id,
        by=actor(state),
        path=file,
        name=name or None,
        credit=credit,
        licence=licence,
        alt_text=alt,
    )
    if as_json:
        emit_json(file_json(added))
        return
    console.print(
        f"mailing {mailing_id}: added {added.name} ({added.content_type}, "
        f"{human_size(added.size)}); approve it again before it is sent"
    )


@files_app.command("list")
def list_cmd(
    ctx: typer.Context,
    mailing_id: int = typer.Argument(..., metavar="ID"),
    as_json: bool = JSON,
) -> None:
    """List the files of a press release's press kit, by name.

    Example: rundbrief press files list 7 --json
    """
    from pipeline.cli.mailings import workflow

    state = app_context(ctx)
    found = workflow(state).files(mailing_id)
    if as_json:
        emit_json({"mailing": mailing_id, "files": [file_json(f) for f in found]})
        return
    if not found:
        console.print(f"mailing {mailing_id} has no press kit files")
        return
    from rich.table import Table

    table = Table()
    table.add_column("name", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("size", no_wrap=True, justify="right")
    table.add_column("image", no_wrap=True)
    for f in found:
        image = f"{f.width} × {f.height}" if f.width and f.height else ""
        table.add_row(f.name, f.content_type, human_size(f.size), image)
    console.print(table)
    # Credits and licences are long: a line each, under the table, never cut.
    for f in found:
        rights = [f"credit: {f.credit}"] if f.credit else []
        rights += [f"licence: {f.licence}"] if f.licence else []
        if rights:
            console.print(f"{f.name}: {'; '.join(rights)}")


@files_app.command("remove")
def remove_cmd(
    ctx: typer.Context,
    mailing_id: int = typer.Argument(..., metavar="ID"),
    name: str = typer.Argument(..., metavar="NAME"),
) -> None:
    """Remove a file from a press release's press kit (it becomes a draft again).

    Example: rundbrief press files remove 7 pressefoto.jpg
    """
    from pipeline.cli.mailings import workflow

    state = app_context(ctx)
    removed = workflow(state).remove_file(mailing_id, name, by=actor(state))
    console.print(f"mailing {mailing_id}: removed {removed.name}")
