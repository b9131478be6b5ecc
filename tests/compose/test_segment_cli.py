"""``compose press --segment/--where`` and ``mailing show``: the segment and how many
people it reaches, before approval; ``segments list|count|save|delete``: the named
segments with their counts, a condition counted before it is saved."""

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


# --- rundbrief segments list|count|save|delete -------------------------------------

LANDESFUNK = 'outlet = "Landesfunk"'


def test_save_list_count_and_use(rb: Callable[..., Run]) -> None:
    saved = rb("segments", "save", "landesfunk", LANDESFUNK)
    assert saved.returncode == 0, saved.stderr
    assert "Saved segment landesfunk." in saved.stdout
    assert "2 people now (members 0, press 2)" in saved.stdout

    listed = rb("segments", "list")
    assert f"bayern (config.toml): {BAYERN}" in listed.stdout
    assert "landesfunk (saved by cli@localhost, " in listed.stdout
    data = rb("segments", "list", "--json").json()["segments"]
    assert [(s["name"], s["source"], s["count"]["total"]) for s in data] == [
        ("bayern", "config", 2),
        ("landesfunk", "saved", 2),
    ]
    assert data[1]["created_at"].endswith(("+01:00", "+02:00"))  # Berlin, not UTC

    made = rb("compose", "press", "1", "--segment", "landesfunk")
    assert made.returncode == 0, made.stderr
    assert f"Segment:   landesfunk: {LANDESFUNK}" in made.stdout
    assert "Recipients: 2 (now)" in made.stdout

    by_name = rb("segments", "count", "bayern", "--json").json()
    assert (by_name["expression"], by_name["total"]) == (BAYERN, 2)
    counted = rb("segments", "count", 'beat = "Digitales"', "--list", "press")
    assert "2 people now (press 2)" in counted.stdout

    gone = rb("segments", "delete", "landesfunk")
    assert gone.returncode == 0 and "Deleted segment landesfunk" in gone.stdout
    assert "landesfunk" not in rb("segments", "list").stdout
    # the draft keeps the condition it was composed with
    assert f"Segment:   landesfunk: {LANDESFUNK}" in rb("mailing", "show", "1").stdout


def test_refusals_are_one_line_naming_what(rb: Callable[..., Run]) -> None:
    shadow = rb("segments", "save", "bayern", LANDESFUNK)
    assert shadow.returncode == 1
    assert "config.toml" in shadow.stderr and "Traceback" not in shadow.stderr
    bad = rb("segments", "save", "funk", 'outlet = "Landesfunk" and')
    assert bad.returncode == 1 and "column 26" in bad.stderr
    count = rb("segments", "count", "region = Bayern")
    assert count.returncode == 1 and "column 10: expected a value in quotes" in count.stderr
    unknown = rb("segments", "count", "berlin")
    assert unknown.returncode == 1 and "unknown segment 'berlin'" in unknown.stderr
    missing = rb("segments", "delete", "berlin")
    assert missing.returncode == 1 and "no saved segment 'berlin'" in missing.stderr
    typo = rb("segments", "count", 'bundesland = "Bayern"')
    assert "no subscriber has the attribute 'bundesland'" in typo.stdout
