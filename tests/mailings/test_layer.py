"""The workflow layer's shape, read from the source: one copy of each rule, the store
persistence only, the renderer pure, the adapters calling only ``pipeline.mailings``."""

from __future__ import annotations

import ast
import dataclasses
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

import pipeline

PIPELINE = Path(pipeline.__file__).resolve().parent

# The adapters' modules that touch mailings.
ADAPTERS = [
    "cli/mailings.py",
    "cli/compose.py",
    "cli/preview.py",
    "cli/send.py",
    "web/editor.py",
    "web/mailview.py",
    "web/archive.py",
]
# The command modules that import the workflow only inside their command functions.
LAZY_COMMANDS = ["cli/mailings.py", "cli/compose.py", "cli/preview.py", "cli/send.py"]


def _tree(relative: str) -> ast.Module:
    return ast.parse((PIPELINE / relative).read_text(encoding="utf-8"))


def _modules(package: str) -> list[str]:
    return sorted(str(p.relative_to(PIPELINE)) for p in (PIPELINE / package).rglob("*.py"))


def _imports(tree: ast.AST) -> Iterator[str]:
    """Every module an ``import`` or ``from … import`` names, wherever it stands."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _imports_of(source: str | ast.AST, prefix: str) -> list[str]:
    tree = _tree(source) if isinstance(source, str) else source
    return sorted({m for m in _imports(tree) if m == prefix or m.startswith(prefix + ".")})


@pytest.mark.parametrize("module", _modules("store"))
def test_the_store_imports_no_renderer_and_no_workflow(module: str) -> None:
    for upper in ("pipeline.render", "pipeline.mailings", "pipeline.deliver", "pipeline.compose"):
        assert _imports_of(module, upper) == [], f"{module} imports {upper}"


@pytest.mark.parametrize("module", _modules("render"))
def test_the_renderer_reads_no_store(module: str) -> None:
    for other in ("pipeline.store", "pipeline.deliver", "pipeline.mailings", "pipeline.audience"):
        assert _imports_of(module, other) == [], f"{module} imports {other}"


@pytest.mark.parametrize("module", ADAPTERS)
def test_adapters_reach_no_store_module_for_mailing_operations(module: str) -> None:
    found = [
        m
        for m in _imports_of(module, "pipeline.store")
        if m not in ("pipeline.store", "pipeline.store.Store")
    ]
    assert found == [], f"{module} imports {found}; call pipeline.mailings instead"
    assert _imports_of(module, "pipeline.compose") == []
    assert _imports_of(module, "pipeline.render.preview") == []


@pytest.mark.parametrize("module", LAZY_COMMANDS)
def test_command_modules_import_the_workflow_inside_the_commands(module: str) -> None:
    tree = _tree(module)
    # Only the module's own top-level imports (``if TYPE_CHECKING:`` costs nothing).
    for node in tree.body:
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        assert _imports_of(node, "pipeline.mailings") == [], f"{module}: top-level import"
        assert _imports_of(node, "pipeline.store") == [] or module == "cli/send.py"


def _function_names(relative: str) -> set[str]:
    return {
        node.name
        for node in ast.walk(_tree(relative))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_reordering_items_has_one_home() -> None:
    assert not {"move_item", "drop_item", "approve", "cancel"} & _function_names(
        "store/mailings.py"
    )
    for module in ("cli/mailings.py", "web/editor.py"):
        source = (PIPELINE / module).read_text(encoding="utf-8")
        assert ".insert(" not in source and "sorted(keyed)" not in source, module
        assert "pipeline.mailings" in source


def test_the_newsletter_period_key_is_defined_once() -> None:
    def spells_key(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value.startswith("newsletter:")
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            return isinstance(first, ast.Constant) and str(first.value).startswith("newsletter:")
        return False

    places = [
        str(path.relative_to(PIPELINE))
        for path in PIPELINE.rglob("*.py")
        if any(spells_key(n) for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))
    ]
    assert places == ["mailings/compose.py"]


def _calls(relative: str) -> set[str]:
    names = set()
    for node in ast.walk(_tree(relative)):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def test_render_or_load_exists_once() -> None:
    callers = {
        module
        for module in (str(p.relative_to(PIPELINE)) for p in PIPELINE.rglob("*.py"))
        if {"render_mailing", "save_renders", "save_render"} & _calls(module)
    }
    assert callers == {"mailings/renders.py"}
    for module in ("deliver/outbox.py", "deliver/single.py"):
        assert _imports_of(module, "pipeline.render.mailing") == []
        assert "render_mailing" not in _calls(module)


MAILING_STATUSES = {"draft", "approved", "scheduled", "sending", "paused", "sent", "cancelled"}
# Modules that reason about mailings' states (the outbox's own delivery statuses are
# another enum and stay out of this check).
STATE_MODULES = [
    *_modules("mailings"),
    *_modules("schedule"),
    *ADAPTERS,
    "store/mailings.py",
    "store/schedule.py",
    "notify.py",
]


@pytest.mark.parametrize("module", STATE_MODULES)
def test_no_mailing_status_is_compared_as_a_raw_string(module: str) -> None:
    def raw(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return node.value in MAILING_STATUSES
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return any(raw(e) for e in node.elts)
        return False

    offending = []
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            names_status = any(isinstance(s, ast.Attribute) and s.attr == "status" for s in sides)
            if names_status and any(raw(s) for s in sides):
                offending.append(node.lineno)
    assert offending == [], f"{module}: raw status strings on lines {offending}"


def test_every_mailing_state_carries_the_status_enum() -> None:
    from pipeline import models
    from pipeline.store import outbox, schedule

    views = [models.Mailing, outbox.SendingState, schedule.ScheduleView]
    for view in views:
        hints = typing.get_type_hints(view)
        assert hints["status"] is models.MailingStatus, view.__name__
    names = [
        node.name
        for path in PIPELINE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
    ]
    assert names.count("MailingState") == 0
    assert all(dataclasses.is_dataclass(v) for v in views)
