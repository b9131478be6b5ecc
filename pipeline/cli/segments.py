"""``rundbrief segments list|count|save|delete``: the named segments (``[segments]`` of
config.toml and the saved ones) with how many people each reaches per list."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import typer

from pipeline.cli.context import actor, app_context, viewer
from pipeline.cli.output import console, emit_json

if TYPE_CHECKING:
    from pipeline.mailings import NamedSegment, SegmentCount, Segments

segments_app = typer.Typer(
    help="Named segments: list them with their counts, count a condition, save, delete.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

JSON = typer.Option(False, "--json", help="Print the result as JSON.")


def register(app: typer.Typer) -> None:
    """Add ``segments`` to the app."""
    app.add_typer(segments_app, name="segments")


def _segments(ctx: typer.Context) -> Segments:
    from pipeline.mailings import Segments

    state = app_context(ctx)
    return Segments(state.settings, state.store, state.clock)


@segments_app.command("list")
def list_cmd(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List the segments of [segments] in config.toml and the saved ones, with how many
    people each reaches now on each list.

    Example: rundbrief segments list
    """
    found = _segments(ctx).list(by=viewer(ctx))
    tz = app_context(ctx).settings.organisation.tz
    if as_json:
        emit_json({"segments": [_segment_json(s, tz) for s in found]})
        return
    if not found:
        console.print("No segments: add some to [segments] or save one (segments save).")
        return
    for s in found:
        origin = "config.toml" if s.source == "config" else "saved"
        if s.source == "saved" and s.updated_at is not None:
            origin += f" by {s.updated_by}, {s.updated_at.astimezone(tz):%Y-%m-%d %H:%M}"
        if s.shadowed:
            origin += "; hidden by the same name in config.toml"
        console.print(f"{s.name} ({origin}): {s.expression}", markup=False)
        console.print(f"  {_counts(s.count)}", markup=False)


@segments_app.command("count")
def count_cmd(
    ctx: typer.Context,
    condition: str = typer.Argument(..., metavar="CONDITION", help="A condition, or a name."),
    lists: list[str] = typer.Option(None, "--list", help="Count on this list (repeatable)."),
    as_json: bool = JSON,
) -> None:
    """Count the people a condition (or a named segment) reaches now, before saving or
    composing; a condition that cannot be read is refused with its column.

    Example: rundbrief segments count 'beat = "Digitales" and region = "Bayern"'
    """
    from pipeline.segments import is_name

    flow = _segments(ctx)
    text = condition.strip()
    # A bare name is never a condition (a comparison needs an operator): look it up.
    if is_name(text):
        text = flow.expression_of(text)
    counted = flow.count(text, by=viewer(ctx), lists=lists or None)
    if as_json:
        emit_json(_count_json(counted))
        return
    console.print(f"{counted.expression}", markup=False)
    console.print(f"  {_counts(counted)}", markup=False)
    _unknown(counted)


@segments_app.command("save")
def save_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The segment's name (letters, digits, _ and -)."),
    condition: str = typer.Argument(..., metavar="CONDITION", help="The condition."),
    replace: bool = typer.Option(False, "--replace", help="Change a saved segment's condition."),
    as_json: bool = JSON,
) -> None:
    """Save a condition as a named segment for compose --segment, the web app and the
    API (a name of [segments] in config.toml is refused; a taken one needs --replace).

    Example: rundbrief --as anna@example.org segments save bayern_digital 'beat = "Digitales" and region = "Bayern"'
    """
    saved = _segments(ctx).save(name, condition, by=actor(ctx), replace=replace)
    if as_json:
        emit_json(_segment_json(saved, app_context(ctx).settings.organisation.tz))
        return
    console.print(f"{'Replaced' if replace else 'Saved'} segment {saved.name}.", markup=False)
    console.print(f"  {_counts(saved.count)}", markup=False)
    _unknown(saved.count)


@segments_app.command("delete")
def delete_cmd(
    ctx: typer.Context, name: str = typer.Argument(..., help="The saved segment's name.")
) -> None:
    """Delete a saved segment; mailings composed with it keep their condition.

    Example: rundbrief --as anna@example.org segments delete bayern_digital
    """
    deleted = _segments(ctx).delete(name, by=actor(ctx))
    console.print(f"Deleted segment {deleted.name} ({deleted.expression}).", markup=False)


def _counts(count: SegmentCount) -> str:
    per_list = ", ".join(f"{name} {n}" for name, n in count.per_list.items())
    return f"{count.total} people now ({per_list})"


def _unknown(count: SegmentCount) -> None:
    for name in count.unknown_attributes:
        console.print(
            f"  warning: no subscriber has the attribute {name!r} (a typo?)", markup=False
        )


def _count_json(count: SegmentCount) -> dict[str, Any]:
    return {
        "expression": count.expression,
        "lists": dict(count.per_list),
        "total": count.total,
        "unknown_attributes": list(count.unknown_attributes),
    }


def _segment_json(s: NamedSegment, tz: tzinfo) -> dict[str, Any]:
    return {
        "name": s.name,
        "expression": s.expression,
        "source": s.source,
        "shadowed": s.shadowed,
        "created_by": s.created_by,
        "created_at": s.created_at and s.created_at.astimezone(tz),
        "updated_by": s.updated_by,
        "updated_at": s.updated_at and s.updated_at.astimezone(tz),
        "count": _count_json(s.count),
    }
