"""Segments saved by name (issue 13, item 3): counted per list, audited, used by compose
and edit like those of config.toml, which they may never shadow."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.audience.csv_import import import_file
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ComposeError, SegmentRefused
from pipeline.mailings import Segments, Workflow
from pipeline.store import Store
from pipeline.store import audit as store_audit
from pipeline.store import mailings as store_mailings
from tests.mailings.test_segment_send import ANNA, BAYERN, BERT, PRESS, _delivered
from tests.support.mail_items import add_items
from tests.support.settings import make_settings

LANDESFUNK = 'outlet = "Landesfunk"'


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, segments={"bayern": BAYERN})


def _import(settings: Settings, store: Store, clock: FakeClock, tmp_path: Path) -> None:
    path = tmp_path / "press.csv"
    path.write_text(PRESS, encoding="utf-8")
    assert import_file(settings, store, path, clock=clock, list_name="press").created == 5


@pytest.fixture
def segments(settings: Settings, store: Store, clock: FakeClock, tmp_path: Path) -> Segments:
    _import(settings, store, clock, tmp_path)
    return Segments(settings, store, clock)


def _segment_entries(store: Store, name: str) -> list[store_audit.AuditEntry]:
    return store_audit.select_entries(store, targets=[("segment", name)])


def test_save_lists_counts_per_list_and_audits(segments: Segments, store: Store) -> None:
    saved = segments.save("landesfunk", LANDESFUNK, by=ANNA)
    assert (saved.name, saved.source, saved.created_by) == ("landesfunk", "saved", ANNA.email)
    assert saved.count.per_list == {"members": 0, "press": 2} and saved.count.total == 2

    listed = segments.list(by=ANNA)
    assert [(s.name, s.source) for s in listed] == [("bayern", "config"), ("landesfunk", "saved")]
    assert listed[0].count.per_list["press"] == 2  # Köhler and Grün: beat and Bayern
    (entry,) = _segment_entries(store, "landesfunk")
    assert entry.action == "compose" and entry.actor_email == ANNA.email
    assert entry.summary == f"saved segment landesfunk: {LANDESFUNK}"
    assert entry.details == {"expression": LANDESFUNK, "total": 2}


def test_a_config_name_cannot_be_shadowed(segments: Segments, store: Store) -> None:
    with pytest.raises(SegmentRefused) as caught:
        segments.save("bayern", 'region = "Bayern"', by=ANNA)
    assert caught.value.field == "name" and "config.toml" in str(caught.value)
    with pytest.raises(SegmentRefused):
        segments.delete("bayern", by=ANNA)
    assert [s.name for s in segments.list(by=ANNA)] == ["bayern"]
    assert _segment_entries(store, "bayern") == []


def test_config_wins_over_a_saved_name_it_takes_later(
    segments: Segments, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    segments.save("funk", LANDESFUNK, by=ANNA)
    later = make_settings(tmp_path, segments={"bayern": BAYERN, "funk": 'region = "Bayern"'})
    listed = {(s.name, s.source): s for s in Segments(later, store, clock).list(by=ANNA)}
    assert listed[("funk", "saved")].shadowed
    # a choice offers the file's segment once, not the hidden saved one
    assert Segments(later, store, clock).names(by=ANNA) == (
        ("bayern", "config"),
        ("funk", "config"),
    )
    flow = Workflow(later, store, clock)
    mailing = flow.compose_press(add_items(store, clock.now(), 1)[0], by=ANNA, segment="funk")
    assert mailing.segment_where == 'region = "Bayern"'


def test_taken_and_missing_names(segments: Segments, store: Store) -> None:
    segments.save("landesfunk", LANDESFUNK, by=ANNA)
    with pytest.raises(SegmentRefused, match="saved already"):
        segments.save("landesfunk", 'region = "Bayern"', by=BERT)
    replaced = segments.save("landesfunk", 'region = "Bayern"', by=BERT, replace=True)
    assert replaced.count.total == 3 and replaced.updated_by == BERT.email
    assert replaced.created_by == ANNA.email
    assert _segment_entries(store, "landesfunk")[-1].details["was"] == LANDESFUNK
    with pytest.raises(SegmentRefused, match="no saved segment 'berlin' to replace"):
        segments.save("berlin", 'region = "Berlin"', by=ANNA, replace=True)
    with pytest.raises(SegmentRefused, match="no saved segment 'berlin'"):
        segments.delete("berlin", by=ANNA)


@pytest.mark.parametrize(
    ("name", "expression", "field", "column"),
    [
        ("", LANDESFUNK, "name", None),
        ("bad name", LANDESFUNK, "name", None),
        ("../etc", LANDESFUNK, "name", None),
        ("x" * 65, LANDESFUNK, "name", None),
        ("ok", "", "expression", 1),
        ("ok", 'region = "Bayern" or', "expression", 21),
        ("ok", "'; DROP TABLE subscribers; --", "expression", 1),
        ("ok", 'region = "Bayern"; DELETE FROM subscribers', "expression", 18),
        ("ok", "1 = 1", "expression", 1),
        ("ok", '__import__("os").system("true")', "expression", 17),
    ],
)
def test_bad_names_and_conditions_are_refused_naming_the_field(
    segments: Segments, store: Store, name: str, expression: str, field: str, column: int | None
) -> None:
    with pytest.raises(SegmentRefused) as caught:
        segments.save(name, expression, by=ANNA)
    assert caught.value.field == field
    assert caught.value.column == column
    assert segments.list(by=ANNA)[1:] == []
    assert all(e.target_kind != "segment" for e in store_audit.select_entries(store))


def test_a_hostile_value_is_only_a_value(segments: Segments, store: Store) -> None:
    """A value that looks like SQL is compared as text: it matches nobody, harms nothing."""
    hostile = 'outlet = "x\' OR \'1\'=\'1" or region = "\\"); DROP TABLE subscribers; --"'
    saved = segments.save("hostile", hostile, by=ANNA)
    assert saved.count.total == 0
    assert segments.count('region = "Bayern"', by=ANNA).total == 3  # the table is there


def test_count_previews_without_saving(segments: Segments, store: Store) -> None:
    counted = segments.count('beat = "Digitales"', by=ANNA)
    assert counted.per_list == {"members": 0, "press": 2} and counted.total == 2
    only = segments.count('beat = "Digitales"', by=ANNA, lists=["press"])
    assert only.per_list == {"press": 2}
    typo = segments.count('bundesland = "Bayern"', by=ANNA)
    assert typo.unknown_attributes == ("bundesland",) and typo.total == 0
    with pytest.raises(SegmentRefused) as caught:
        segments.count('beat in ["Digitales"', by=ANNA)
    assert caught.value.column == 21 and caught.value.field == "expression"
    assert segments.list(by=ANNA)[1:] == []


def test_a_saved_segment_is_used_by_compose_edit_and_send(
    segments: Segments, settings: Settings, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    segments.save("landesfunk", LANDESFUNK, by=ANNA)
    flow = Workflow(settings, store, clock)
    first, second = add_items(store, clock.now(), 2)
    mailing = flow.compose_press(first, by=ANNA, segment="landesfunk")
    assert (mailing.segment_name, mailing.segment_where) == ("landesfunk", LANDESFUNK)
    assert flow.overview(mailing.id).recipients == 2

    other = flow.compose_press(second, by=ANNA)
    edited = flow.edit(other.id, by=ANNA, segment="landesfunk")
    assert edited.segment_where == LANDESFUNK
    flow.cancel(other.id, by=BERT)

    # deleting the saved segment leaves the mailing's condition as it was composed
    segments.delete("landesfunk", by=BERT)
    assert flow.get(mailing.id).segment_where == LANDESFUNK
    flow.approve(mailing.id, by=BERT)
    assert flow.send_now(mailing.id, by=BERT).sent == 2
    assert _delivered(tmp_path) == ["b.gruen@landesfunk.example", "p.weiss@landesfunk.example"]
    with pytest.raises(ComposeError, match="no saved segment of that name") as caught:
        flow.compose_press(second, by=ANNA, segment="landesfunk")
    assert caught.value.field == "segment"
    assert [m.id for m in store_mailings.list_mailings(store, status="draft")] == []


@pytest.mark.postgres
def test_saved_segments_on_postgres(
    settings: Settings, pg_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    _import(settings, pg_store, clock, tmp_path)
    segments = Segments(settings, pg_store, clock)
    saved = segments.save("landesfunk", LANDESFUNK, by=ANNA)
    assert saved.count.per_list == {"members": 0, "press": 2}
    with pytest.raises(SegmentRefused, match="saved already"):
        segments.save("landesfunk", LANDESFUNK, by=BERT)
    flow = Workflow(settings, pg_store, clock)
    mailing = flow.compose_press(
        add_items(pg_store, clock.now(), 1)[0], by=ANNA, segment="landesfunk"
    )
    assert flow.overview(mailing.id).recipients == 2
    segments.delete("landesfunk", by=ANNA)
    assert [s.name for s in segments.list(by=ANNA)] == ["bayern"]
