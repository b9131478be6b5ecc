"""``compose press --segment/--where`` and ``mailing show``: the segment and how many
people it reaches, before approval."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.store import Store
from tests.compose.test_cli import CONFIG
from tests.mailings.test_segment_send import BAYERN, PRESS
from tests.support.cli import Run, run_cli
from tests.support.mail_items import add_items
from tests.support.settings import write_config

SEGMENTS = f"""
[segments]
bayern = '{BAYERN}'
"""


@pytest.fixture
def rb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Run]:
    monkeypatch.setenv("RUNDBRIEF_TEST_SECRET", "ein-langes-geheimnis-fuer-die-links")
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path, CONFIG + SEGMENTS)
    store = Store.open(load_settings(path).database_url())
    add_items(store, datetime.now(UTC), 3)
    store.close()
    (tmp_path / "press.csv").write_text(PRESS, encoding="utf-8")

    def invoke(*args: str) -> Run:
        return run_cli(capsys, path, *args)

    done = invoke("subscribers", "import", "press.csv", "--list", "press")
    assert done.returncode == 0, done.stdout + done.stderr
    return invoke


def test_press_to_a_named_segment(rb: Callable[..., Run]) -> None:
    made = rb("compose", "press", "1", "--segment", "bayern")
    assert made.returncode == 0, made.stderr
    assert "Recipients: 2 (now)" in made.stdout
    assert f"Segment:   bayern: {BAYERN}" in made.stdout
    shown = rb("mailing", "show", "1")
    assert f"Segment:   bayern: {BAYERN}" in shown.stdout
    assert "Recipients: 2 (now)" in shown.stdout
    data = rb("mailing", "show", "1", "--json").json()
    assert (data["segment"], data["where"], data["recipients"]) == ("bayern", BAYERN, 2)


def test_press_to_a_written_condition_as_json(rb: Callable[..., Run]) -> None:
    made = rb("compose", "press", "2", "--where", 'outlet = "Landesfunk"', "--json")
    assert made.returncode == 0, made.stderr
    data = made.json()
    assert (data["segment"], data["where"], data["recipients"]) == (
        None,
        'outlet = "Landesfunk"',
        2,
    )
    whole = rb("compose", "press", "3")
    assert "Recipients: 5 (now)" in whole.stdout
    assert "Segment:   none (everyone on the lists)" in whole.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--segment", "berlin"), "unknown segment 'berlin' (segments in [segments]: bayern)"),
        (("--where", "region = Bayern"), "the condition (where): column 10: expected a value"),
    ],
)
def test_a_bad_segment_is_one_line(
    rb: Callable[..., Run], args: tuple[str, ...], says: str
) -> None:
    done = rb("compose", "press", "1", *args)
    assert done.returncode == 1
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no such mailing" in rb("mailing", "show", "1").stderr  # nothing was made


def test_edit_sets_and_clears_the_segment(rb: Callable[..., Run]) -> None:
    assert rb("compose", "press", "1").returncode == 0
    done = rb("edit", "1", "--segment", "bayern")
    assert done.returncode == 0, done.stderr
    assert "Recipients: 2 (now)" in rb("mailing", "show", "1").stdout
    assert rb("edit", "1", "--no-segment").returncode == 0
    assert "Segment:   none" in rb("mailing", "show", "1").stdout
    both = rb("edit", "1", "--no-segment", "--where", 'region = "x"')
    assert both.returncode == 1 and "contradict" in both.stderr


def test_an_attribute_nobody_has_is_pointed_out(rb: Callable[..., Run]) -> None:
    made = rb("compose", "press", "1", "--where", 'raegion = "Bayern" or outlet = "Landesfunk"')
    assert made.returncode == 0, made.stderr
    assert "Note: no subscriber has the attribute 'raegion'" in made.stdout
    assert "outlet" not in made.stdout.split("Note:")[1]
    data = rb("mailing", "show", "1", "--json").json()
    assert data["unknown_attributes"] == ["raegion"] and data["recipients"] == 2
