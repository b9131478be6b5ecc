"""Secrets are read from the environment once, at start, in ``pipeline.config`` only.

Every other module gets a secret from ``Settings.secrets`` (or as a value handed to it),
so a secret changed in the environment after start is never half picked up, and a
test can give a run its secrets without touching ``os.environ``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

# module -> why it may read the environment
ALLOWED = {
    "pipeline/config.py": "resolve_secrets reads every *_env variable once at start, and "
    "resolve_config_path reads RUNDBRIEF_CONFIG (a path, no secret)",
}
READERS = {"environ", "environb", "getenv", "getenvb"}


def environment_reads(path: Path) -> list[int]:
    """Lines of ``path`` that touch ``os.environ`` / ``os.getenv`` (however imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    os_names = {"os"}
    lines: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_names |= {a.asname or a.name for a in node.names if a.name == "os"}
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            lines += [node.lineno for a in node.names if a.name in READERS]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in READERS
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_only_config_reads_the_environment() -> None:
    found = {
        str(path.relative_to(REPO)): lines
        for path in sorted((REPO / "pipeline").rglob("*.py"))
        if (lines := environment_reads(path))
    }
    unexpected = {path: lines for path, lines in found.items() if path not in ALLOWED}
    assert not unexpected, f"read a secret from Settings.secrets, not the environment: {unexpected}"
    assert set(found) == set(ALLOWED), "an allowed exception is gone: drop it from ALLOWED"


def test_the_check_sees_every_way_of_reading_the_environment(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nimport os as o\nfrom os import getenv\n"
        "a = os.environ['X']\nb = o.getenv('Y')\nc = getenv('Z')\n",
        encoding="utf-8",
    )
    assert environment_reads(module) == [3, 4, 5]
