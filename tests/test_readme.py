"""Every command of the ``rundbrief`` app is documented in README.md."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer

from pipeline.cli import app
from tests.conftest import REPO


def command_paths(command: Any, prefix: str = "rundbrief") -> Iterator[str]:
    """``rundbrief collect``, ``rundbrief compose``, ``rundbrief compose newsletter``, …"""
    # duck-typed: typer may bring its own copy of click, so no isinstance(click.Group);
    # asked through list_commands/get_command, which load the lazily imported commands
    if not hasattr(command, "list_commands"):
        return
    ctx = typer.Context(command, info_name=prefix)
    for name in sorted(command.list_commands(ctx)):
        sub = command.get_command(ctx, name)
        if getattr(sub, "hidden", False):
            continue
        path = f"{prefix} {name}"
        yield path
        yield from command_paths(sub, path)


def test_every_command_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    # "rundbrief --config x.toml compose newsletter" documents "compose newsletter" too
    normalised = re.sub(r"rundbrief(?: (?:--config|-c) \S+)?", "rundbrief", readme)
    paths = list(command_paths(typer.main.get_command(app)))
    assert len(paths) > 20, f"too few commands found: {paths}"
    missing = [path for path in paths if not re.search(re.escape(path) + r"(?![\w-])", normalised)]
    assert not missing, "README.md does not mention: " + ", ".join(missing)
