"""The package boundaries hold: the import contract passes, and packages use each
other's public API.

The layers themselves are checked by import-linter (``[tool.importlinter]`` in
pyproject.toml, run by ``make lint``); this test runs the same contract so ``pytest``
alone catches a forbidden import, and adds the rules import-linter cannot say:

- outside a package, import from the package (``from pipeline.render import
  render_mailing``), not from one of its modules, and
- only names the package lists in its ``__all__`` (so ``from pipeline.audience import
  optin`` does not reach a module through the back door).

Two exceptions by design:

- the store's table modules (``pipeline.store.items`` …) are its API, one per table
  group: they may be imported directly.
- ``pipeline.deliver.providers`` is a public sub-package: the provider registry and the
  webhook protocol, used by the settings check (every command) and by the web app's one
  webhook route. Re-exporting it from ``pipeline.deliver`` would either make every
  command load the message builder with its settings or need a second lazy table for
  eight names that only those two callers use, so its ``__init__`` is its own public
  API (``__all__``); the modules below it (``providers.webhooks``, ``providers.postmark``
  …) are not.
"""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"

# Packages whose submodules others may import: the store's query modules are its API.
OPEN_PACKAGES = {"store"}
# Sub-packages that are public entries of their own (their ``__init__`` is their API).
PUBLIC_SUBPACKAGES = {"pipeline.deliver.providers"}


def _package_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0].removesuffix(".py") if rel else ""


def _imports() -> list[tuple[Path, int, str, list[str]]]:
    """(file, line, module, names) of every import of a pipeline module in the package;
    ``import a.b`` counts as ``from a.b import`` nothing."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.lineno, node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                found.extend((path, node.lineno, a.name, []) for a in node.names)
    return [f for f in found if f[2].split(".")[0] == "pipeline"]


def _foreign_package(path: Path, module: str) -> str | None:
    """The other package (``pipeline.x``) ``module`` belongs to, None for the importer's
    own package, an open package or a base module (``pipeline.models``)."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    target = parts[1]
    if target == _package_of(path) or target in OPEN_PACKAGES:
        return None
    if not (PACKAGE / target).is_dir():
        return None
    return f"pipeline.{target}"


def _deep_imports() -> list[str]:
    found = []
    for path, _line, module, _names in _imports():
        package = _foreign_package(path, module)
        if package is None or module == package or module in PUBLIC_SUBPACKAGES:
            continue
        found.append(f"{path.relative_to(PACKAGE.parent)}: from {module}")
    return found


def test_packages_import_each_other_through_their_public_api() -> None:
    deep = set(_deep_imports())
    assert not deep, "import from the package instead of its module:\n" + "\n".join(sorted(deep))


def test_packages_export_what_others_import_from_them() -> None:
    missing = []
    for path, line, module, names in _imports():
        package = _foreign_package(path, module)
        if package is None or module not in (package, *PUBLIC_SUBPACKAGES):
            continue
        public = set(getattr(importlib.import_module(module), "__all__", ()))
        missing += [
            f"{path.relative_to(PACKAGE.parent)}:{line}: {module}.{name}"
            for name in names
            if name not in public
        ]
    assert not missing, "not in the package's __all__:\n" + "\n".join(missing)


def test_every_public_name_resolves() -> None:
    """Each package's ``__all__`` names something (lazy ones too, PEP 562)."""
    packages = [p.parent for p in PACKAGE.glob("*/__init__.py")]
    modules = [f"pipeline.{p.name}" for p in packages] + sorted(PUBLIC_SUBPACKAGES)
    broken = []
    for name in modules:
        module = importlib.import_module(name)
        broken += [f"{name}.{n}" for n in getattr(module, "__all__", ()) if not hasattr(module, n)]
    assert not broken


def test_import_contract_holds() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.fail("lint-imports is missing: pip install -e '.[dev]'")
    done = subprocess.run(
        [lint_imports, "--no-cache"],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
