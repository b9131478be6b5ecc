"""A mailing to a segment of its lists (issue 13, item 3): composed with a named segment
or a written condition, counted before approval, sent to exactly those people."""

from __future__ import annotations

import email
from pathlib import Path

import pytest

from pipeline import audit
from pipeline.access import Actor, Role
from pipeline.audience.csv_import import import_file
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ComposeError
from pipeline.mailings import Workflow
from pipeline.store import Store
from pipeline.store import mailings as store_mailings
from tests.support.mail_items import add_items
from tests.support.settings import make_settings

ANNA = Actor("anna@junge-buergermeister.example", Role.EDITOR)
BERT = Actor("bert@junge-buergermeister.example", Role.APPROVER)

PRESS = (
    "email,salutation,first_name,last_name,language,outlet,beat,region\n"
    "j.koehler@tageszeitung-ost.example,Frau,Jana,Köhler,de,Tageszeitung Ost,"
    "Kommunalpolitik,Bayern\n"
    "b.gruen@landesfunk.example,Herr,Björn,Grün,de,Landesfunk,Digitales,Bayern\n"
    "m.oezdemir@wochenblatt-sued.example,Frau,Meryem,Özdemir,de,Wochenblatt Süd,"
    "Demokratie & Beteiligung,Baden-Württemberg\n"
    "s.fuchs@kommunal-magazin.example,Herr,Stefan,Fuchs,de,Kommunal-Magazin,Digitales,\n"
    "p.weiss@landesfunk.example,Frau,Petra,Weiß,de,Landesfunk,Kultur,Bayern\n"
)
BAYERN = 'beat in ["Kommunalpolitik", "Digitales"] and region = "Bayern"'


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")


@pytest.fixture
def segmented(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path, segments={"bayern": BAYERN, "landesfunk": 'outlet = "Landesfunk"'}
    )


@pytest.fixture
def flow(segmented: Settings, store: Store, clock: FakeClock, tmp_path: Path) -> Workflow:
    path = tmp_path / "press.csv"
    path.write_text(PRESS, encoding="utf-8")
    assert import_file(segmented, store, path, clock=clock, list_name="press").created == 5
    return Workflow(segmented, store, clock)


def _delivered(tmp_path: Path) -> list[str]:
    found = []
    for path in sorted((tmp_path / "outbox" / "new").iterdir()):
        message = email.message_from_bytes(path.read_bytes())
        found.append(email.utils.parseaddr(str(message["To"]))[1])
    return sorted(found)


def test_a_named_segment_is_counted_and_sent_to_exactly_its_people(
    flow: Workflow, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    item_id = add_items(store, clock.now(), 1)[0]
    mailing = flow.compose_press(item_id, by=ANNA, segment="bayern")
    assert (mailing.segment_name, mailing.segment_where) == ("bayern", BAYERN)
    assert flow.overview(mailing.id).recipients == 2  # of 5 on the press list
    (entry,) = audit.entries(store, mailing=mailing.id)
    assert entry.details["segment"] == "bayern" and entry.details["where"] == BAYERN

    flow.approve(mailing.id, by=BERT)
    report = flow.send_now(mailing.id, by=BERT)
    assert report.sent == 2
    assert _delivered(tmp_path) == [
        "b.gruen@landesfunk.example",
        "j.koehler@tageszeitung-ost.example",
    ]
    assert flow.overview(mailing.id).recipients == 2


def test_a_written_condition(flow: Workflow, store: Store, clock: FakeClock) -> None:
    first, second = add_items(store, clock.now(), 2)
    mailing = flow.compose_press(first, by=ANNA, where='domain = "landesfunk.example"')
    assert (mailing.segment_name, mailing.segment_where) == (None, 'domain = "landesfunk.example"')
    assert flow.overview(mailing.id).recipients == 2
    whole = flow.compose_press(second, by=ANNA)
    assert whole.segment_where is None and flow.overview(whole.id).recipients == 5


def test_the_condition_is_kept_when_config_changes_later(
    flow: Workflow, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    mailing = flow.compose_press(add_items(store, clock.now(), 1)[0], by=ANNA, segment="bayern")
    changed = make_settings(tmp_path, segments={"bayern": 'region = "Bayern"'})
    later = Workflow(changed, store, clock)
    assert later.overview(mailing.id).recipients == 2  # not the 3 of the new condition


@pytest.mark.parametrize(
    ("kwargs", "field", "says"),
    [
        (
            {"segment": "berlin"},
            "segment",
            "unknown segment 'berlin' (segments in [segments]: bayern, landesfunk)",
        ),
        (
            {"where": 'region = "Bayern" and'},
            "where",
            "the condition (where): column 22: expected a field name",
        ),
        ({"where": "region = Bayern"}, "where", "column 10: expected a value in quotes"),
        ({"segment": "bayern", "where": 'region = "x"'}, "segment", "not both"),
    ],
)
def test_a_bad_segment_is_refused_before_anything_exists(
    flow: Workflow, store: Store, clock: FakeClock, kwargs: dict[str, str], field: str, says: str
) -> None:
    item_id = add_items(store, clock.now(), 1)[0]
    with pytest.raises(ComposeError) as caught:
        flow.compose_press(item_id, by=ANNA, **kwargs)
    assert caught.value.field == field
    assert says in str(caught.value)
    assert store_mailings.list_mailings(store) == []


def test_a_newsletter_to_a_segment(flow: Workflow, store: Store, clock: FakeClock) -> None:
    add_items(store, clock.now(), 3)
    mailing = flow.compose_newsletter(by=ANNA, where='outlet = "Landesfunk"')
    assert mailing is not None and mailing.segment_where == 'outlet = "Landesfunk"'
    # the newsletter goes to the members list, where none of the press people are
    assert flow.overview(mailing.id).recipients == 0


def test_editing_the_segment_of_a_draft(flow: Workflow, store: Store, clock: FakeClock) -> None:
    mailing = flow.compose_press(add_items(store, clock.now(), 1)[0], by=ANNA, segment="bayern")
    flow.approve(mailing.id, by=BERT)
    changed = flow.edit(mailing.id, by=ANNA, where='outlet = "Landesfunk"')
    assert (changed.segment_name, changed.segment_where) == (None, 'outlet = "Landesfunk"')
    assert changed.status == "draft"  # a new audience needs a new approval
    assert flow.overview(mailing.id).recipients == 2
    entry = audit.entries(store, mailing=mailing.id)[-1]
    assert entry.details["segment_where"] == {"from": BAYERN, "to": 'outlet = "Landesfunk"'}
    cleared = flow.edit(mailing.id, by=ANNA, segment=None)
    assert cleared.segment_where is None and flow.overview(mailing.id).recipients == 5
    with pytest.raises(ComposeError) as caught:
        flow.edit(mailing.id, by=ANNA, where='region in ["Bayern"')
    assert caught.value.field == "where" and "column 20" in str(caught.value)
    assert flow.get(mailing.id).segment_where is None


@pytest.mark.postgres
def test_a_segmented_send_on_postgres(
    segmented: Settings, pg_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "press.csv"
    path.write_text(PRESS, encoding="utf-8")
    assert import_file(segmented, pg_store, path, clock=clock, list_name="press").created == 5
    flow = Workflow(segmented, pg_store, clock)
    mailing = flow.compose_press(add_items(pg_store, clock.now(), 1)[0], by=ANNA, segment="bayern")
    assert flow.overview(mailing.id).recipients == 2
    dry = flow.send_now(flow.approve(mailing.id, by=BERT).id, by=BERT, dry_run=True)
    assert dry.built == 2
    assert flow.send_now(mailing.id, by=BERT).sent == 2
    assert _delivered(tmp_path) == [
        "b.gruen@landesfunk.example",
        "j.koehler@tageszeitung-ost.example",
    ]
