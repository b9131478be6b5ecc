"""The documentation says what the code does: README.md, CHANGELOG.md and docs/.

- the generated references (docs/configuration.md, docs/cli.md) are what
  ``scripts/gen_docs.py`` writes now;
- every configuration key of the model has a description and is in the reference, and
  the reference lists no key the model does not have;
- every ``rundbrief ...`` command named anywhere exists, and every command is in the
  reference and named in the hand-written pages too (the old README test);
- every key named as ``[section] key`` or ``section.key`` exists;
- relative links lead to files that exist; the README stays short.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer

from pipeline.cli import app
from tests.conftest import REPO


@cache
def gen_docs() -> ModuleType:
    """scripts/gen_docs.py, imported from its file (scripts/ is no package)."""
    path = REPO / "scripts" / "gen_docs.py"
    spec = importlib.util.spec_from_file_location("gen_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_docs"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def generated() -> set[Path]:
    return set(gen_docs().outputs())


def pages() -> list[Path]:
    return [REPO / "README.md", REPO / "CHANGELOG.md", *sorted((REPO / "docs").rglob("*.md"))]


def written_pages() -> list[Path]:
    """The pages people write (not the generated references)."""
    return [p for p in pages() if p not in generated()]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def without_fences(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", without_fences(text))


# --- the generated references ---------------------------------------------------------


@pytest.mark.parametrize("name", ["configuration.md", "cli.md"])
def test_generated_reference_is_up_to_date(name: str) -> None:
    path = REPO / "docs" / name
    expected = gen_docs().outputs()[path]
    assert path.exists(), f"docs/{name} is missing: run make docs"
    assert read(path) == expected, f"docs/{name} is out of date: run make docs"
    assert gen_docs().MARKER in expected


def model_keys() -> dict[tuple[str, str], Any]:
    return {(k.section, k.name): k for s in gen_docs().sections() for k in s.keys}


def test_every_configuration_key_has_a_description() -> None:
    keys = model_keys()
    assert len(keys) > 100, f"too few keys found: {sorted(keys)}"
    missing = [
        f"{s}.{k}" for (s, k), key in keys.items() if key.description == gen_docs().UNDOCUMENTED
    ]
    assert not missing, (
        "give these keys a Field(description=...) (providers: metadata['description']): "
        + ", ".join(missing)
    )


def documented_keys() -> set[tuple[str, str]]:
    """(section, key) of every row of the tables in docs/configuration.md."""
    found = set()
    section = None
    for line in read(REPO / "docs" / "configuration.md").splitlines():
        heading = re.match(r"## `\[{1,2}(\w+)\]{1,2}`", line)
        if heading:
            section = heading.group(1)
            continue
        row = re.match(r"\| `(\w+)` \|", line)
        if row and section:
            found.add((section, row.group(1)))
    return found


def test_the_reference_lists_every_key_and_no_other() -> None:
    in_code = set(model_keys())
    in_docs = documented_keys()
    assert not in_code - in_docs, f"not in docs/configuration.md: {sorted(in_code - in_docs)}"
    assert not in_docs - in_code, f"documented but gone: {sorted(in_docs - in_code)}"


# --- commands -------------------------------------------------------------------------


def tree() -> dict[str, Any]:
    """The command tree as nested dicts: {"subscribers": {"import": {}, ...}, "send": None}."""

    def walk(command: Any, ctx: Any) -> dict[str, Any] | None:
        if not hasattr(command, "list_commands"):
            return None
        children: dict[str, Any] = {}
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            children[name] = walk(sub, typer.Context(sub, info_name=name, parent=ctx))
        return children

    root = typer.main.get_command(app)
    found = walk(root, typer.Context(root, info_name="rundbrief"))
    assert found is not None
    return found


def command_paths() -> list[str]:
    paths = []

    def walk(node: dict[str, Any] | None, prefix: str) -> None:
        for name, child in (node or {}).items():
            paths.append(f"{prefix} {name}")
            walk(child, f"{prefix} {name}")

    walk(tree(), "rundbrief")
    return paths


# "rundbrief", then global options, then words: ".venv/bin/rundbrief -v run" counts,
# "User=rundbrief" and "rundbrief.service" do not.
MENTION = re.compile(
    r"(?<![\w@.+=:-])rundbrief((?: +(?:--config|-c) +\S+| +-v+| +--verbose)*)((?: +[a-z][a-z-]*)*)"
)


def mentions(text: str) -> list[list[str]]:
    return [m.group(2).split() for m in MENTION.finditer(text) if m.group(2).strip()]


def test_every_command_named_in_the_docs_exists() -> None:
    commands = tree()
    wrong = []
    for page in pages():
        for words in mentions(read(page)):
            node: dict[str, Any] | None = commands
            for word in words:
                if node is None:  # a command: the rest are its arguments
                    break
                if word not in node:
                    wrong.append(f"{page.relative_to(REPO)}: rundbrief {' '.join(words)}")
                    break
                node = node[word]
    assert not wrong, "no such command: " + "; ".join(sorted(set(wrong)))


def normalised(text: str) -> str:
    # "rundbrief --config x.toml compose newsletter" names "compose newsletter" too
    return re.sub(r"rundbrief(?: (?:--config|-c) \S+| -v+)*", "rundbrief", text)


def named(path: str, text: str) -> bool:
    return re.search(re.escape(path) + r"(?![\w-])", text) is not None


def test_every_command_is_in_the_reference() -> None:
    paths = command_paths()
    assert len(paths) > 20, f"too few commands found: {paths}"
    reference = read(REPO / "docs" / "cli.md")
    missing = [p for p in paths if f"## {p}\n" not in reference]
    assert not missing, "docs/cli.md lacks: " + ", ".join(missing)


def test_every_command_is_described_in_the_written_docs() -> None:
    text = normalised("\n".join(read(p) for p in written_pages()))
    missing = [p for p in command_paths() if not named(p, text)]
    assert not missing, "README.md and docs/ do not mention: " + ", ".join(missing)


# --- configuration keys named in prose ------------------------------------------------

# "compose.py", "config.toml": file names, not keys
EXTENSIONS = {"py", "toml", "md", "j2", "txt", "html", "eml", "csv", "json", "db", "service"}


def named_keys(text: str, sections: set[str]) -> set[tuple[str, str]]:
    found = set()
    alternatives = "|".join(sorted(sections))
    dotted = re.compile(rf"(?<![\w./$-])({alternatives})\.([a-z_][a-z0-9_]*)(?![\w.(/-])")
    bracketed = re.compile(rf"^\[\[?({alternatives})\]\]? ([a-z_][a-z0-9_]*)\b")
    for span in code_spans(text):
        for section, key in dotted.findall(span):
            if key not in EXTENSIONS:
                found.add((section, key))
        match = bracketed.match(span)
        if match:
            found.add((match.group(1), match.group(2)))
    return found


def test_every_key_named_in_the_docs_exists() -> None:
    keys = set(model_keys())
    sections = {s for s, _ in keys}
    wrong = []
    for page in written_pages():
        for section, key in sorted(named_keys(read(page), sections)):
            if (section, key) not in keys:
                wrong.append(f"{page.relative_to(REPO)}: {section}.{key}")
    assert not wrong, "no such configuration key: " + ", ".join(wrong)


def test_key_mentions_are_found() -> None:
    # the scanner above must see both spellings, or the test proves nothing
    text = (
        "Set `[delivery] transport` and `collect.timeout`, not `compose.py`.\n```\n`smtp.x`\n```\n"
    )
    assert named_keys(text, {"delivery", "collect", "compose", "smtp"}) == {
        ("delivery", "transport"),
        ("collect", "timeout"),
    }


# --- links and size -------------------------------------------------------------------


def test_relative_links_lead_to_files() -> None:
    broken = []
    for page in pages():
        for target in re.findall(r"\]\(([^)\s]+)\)", without_fences(read(page))):
            if re.match(r"[a-z]+:|#", target):
                continue
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(REPO)}: {target}")
    assert not broken, "broken links: " + ", ".join(broken)


def test_the_readme_is_short_and_starts_with_the_two_commands() -> None:
    lines = read(REPO / "README.md").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail into docs/"
    head = "\n".join(lines[:40])
    assert "make demo" in head and "make test" in head
