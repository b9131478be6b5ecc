"""CSV import: every kind of bad row, encodings, re-imports, suppressions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.audience import iter_recipients
from pipeline.audience.csv_import import import_file
from pipeline.audience.suppression import suppress, unsubscribe
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import AudienceError, ConfigError
from pipeline.store import Store
from pipeline.store import audience as q

REPO = Path(__file__).resolve().parents[2]

HEADER = "email,first_name,last_name,salutation,title,language,outlet\n"

BAD_ROWS = (
    HEADER
    + "jana.koehler@zeitung.example,Jana,Köhler,Frau,,de,Tageszeitung Ost\n"  # 2 good
    + "kein-at-zeichen.example,Max,Muster,Herr,,de,\n"  # 3 invalid address
    + "JANA.Koehler@Zeitung.EXAMPLE,Jana,K.,Frau,,de,\n"  # 4 duplicate of 2
    + "pierre@journal.example,Pierre,Dubois,Herr,,fr,Le Journal\n"  # 5 unknown language
    + "kurz@zeitung.example,Kurz,Zeile\n"  # 6 missing columns
    + '"umbruch@zeitung.example","Zeilen\numbruch",X,Herr,,de,\n'  # 7-8 CR/LF in value
    + "extra@zeitung.example,A,B,Frau,,de,X,Y\n"  # 9 extra column
    + "anrede@zeitung.example,A,B,Mx,,de,\n"  # 10 unknown salutation
    + ",Leer,Adresse,Frau,,de,\n"  # 11 no address
    + "=HYPERLINK(1)@zeitung.example,A,B,Frau,,de,\n"  # 12 formula as address
    + "felix.gruen@funk.example,=SUM(A1:A9),Grün,Herr,Dr.,en,+49 30 1234\n"  # 13 good, neutralised
    + "\n"  # 14 blank line: ignored
    + "bjoern@münchen.example,Björn,Bär,Herr,,de,Münchner Blatt\n"  # 15 good, IDN
)


def _import(settings: Settings, store: Store, clock: FakeClock, path: Path, **kw: object):
    return import_file(settings, store, path, clock=clock, **kw)  # type: ignore[arg-type]


def test_every_bad_row_is_reported_and_all_good_rows_imported(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    report = _import(settings, store, clock, write_csv(BAD_ROWS), list_name="press")

    errors = {e.line: e.reason for e in report.errors}
    assert set(errors) == {3, 4, 5, 6, 7, 9, 10, 11, 12}
    assert "invalid address" in errors[3]
    assert "duplicate address (already on line 2)" in errors[4]
    assert "unknown language 'fr'" in errors[5]
    assert "missing columns" in errors[6]
    assert "line break in column 'first_name'" in errors[7]
    assert "extra columns" in errors[9]
    assert "unknown salutation 'Mx'" in errors[10]
    assert "no address" in errors[11]
    assert "starts with '='" in errors[12]
    assert not report.ok
    assert report.created == 3 and report.subscribed == 3

    emails = sorted(r.email for r in iter_recipients(store, ["press"]))
    assert emails == [
        "bjoern@xn--mnchen-3ya.example",
        "felix.gruen@funk.example",
        "jana.koehler@zeitung.example",
    ]
    with store.connect() as conn:
        felix = q.find_subscriber(conn, "felix.gruen@funk.example")
    assert felix is not None
    # Spreadsheet formulas are neutralised, and the neutralising is reported.
    assert felix.first_name == "'=SUM(A1:A9)"
    assert felix.attributes == {"outlet": "'+49 30 1234"}
    assert felix.title == "Dr." and felix.language == "en" and felix.salutation == "Herr"
    assert {n.line for n in report.notices} == {13}


def test_utf8_with_bom_and_semicolons(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    text = "\ufeffE-Mail;Vorname;Nachname;Anrede;Listen\nanna@verein.example;Änne;Müller;frau;members, press\n"
    report = _import(settings, store, clock, write_csv(text))
    assert report.ok and report.created == 1 and report.subscribed == 2
    (person,) = q.list_subscribers(store)
    assert person.subscriber.first_name == "Änne"
    assert person.subscriber.salutation == "Frau"
    assert person.lists == {"members": "active", "press": "active"}


def test_other_encodings_stop_with_the_line(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    text = HEADER + "a@verein.example,Anna,Alt,Frau,,de,\nb@verein.example,Jörg,Süß,Herr,,de,\n"
    path = write_csv(text, encoding="cp1252")
    with pytest.raises(AudienceError, match=r"line 3: not UTF-8 .*save the file as UTF-8"):
        _import(settings, store, clock, path, list_name="members")
    assert q.count_subscribers(store) == 0  # nothing half-imported

    with pytest.raises(AudienceError, match="UTF-16"):
        _import(settings, store, clock, write_csv(text, encoding="utf-16"), list_name="members")


def test_missing_columns_in_the_header(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    with pytest.raises(AudienceError, match="line 1: missing column 'email'"):
        _import(settings, store, clock, write_csv("name,sprache\nA,de\n"), list_name="members")
    with pytest.raises(AudienceError, match="missing column 'lists'"):
        _import(settings, store, clock, write_csv("email\na@verein.example\n"))
    with pytest.raises(AudienceError, match="appears twice"):
        _import(
            settings, store, clock, write_csv("email,Email\na@b.example,x\n"), list_name="members"
        )
    with pytest.raises(ConfigError, match="unknown list 'presse'"):
        _import(settings, store, clock, write_csv("email\na@verein.example\n"), list_name="presse")


def test_unknown_list_in_the_lists_column(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    text = "email,lists\na@verein.example,members\nb@verein.example,vorstand\nc@verein.example,\n"
    report = _import(settings, store, clock, write_csv(text))
    assert [(e.line, e.reason.split(" (")[0]) for e in report.errors] == [
        (3, "unknown list 'vorstand'"),
        (4, "no list in column 'lists'"),
    ]
    assert report.created == 1


def test_reimport_updates_and_never_duplicates(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    first = "email,first_name,title,region\nanna@verein.example,Anna,Dr.,Sachsen\n"
    _import(settings, store, clock, write_csv(first), list_name="members")
    # The second file has no title column: titles stay; region changes; case differs.
    second = "email,first_name,region\nANNA@Verein.Example,Annemarie,Thüringen\n"
    report = _import(settings, store, clock, write_csv(second, "b.csv"), list_name="members")
    assert report.created == 0 and report.updated == 1 and report.subscribed == 0
    (row,) = q.list_subscribers(store)
    assert row.subscriber.first_name == "Annemarie"
    assert row.subscriber.title == "Dr."
    assert row.subscriber.attributes == {"region": "Thüringen"}
    assert q.count_subscriptions(store) == {"members": {"active": 1}}


def test_suppressed_addresses_stay_suppressed_across_reimports(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    path = write_csv("email,lists\na@verein.example,members press\nb@verein.example,press\n")
    _import(settings, store, clock, path)
    suppress(store, "A@VEREIN.example", "complaint", clock=clock)
    unsubscribe(store, "b@verein.example", ["press"], clock=clock)

    for _ in range(2):
        report = _import(settings, store, clock, path)
        assert report.ok
        skipped = {s.email: s.message for s in report.skipped}
        assert skipped["a@verein.example"].startswith("suppressed (complaint)")
        assert "not subscribed again" in skipped["b@verein.example"]
        assert list(iter_recipients(store, ["members", "press"])) == []


def test_dry_run_reports_and_changes_nothing(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    report = _import(settings, store, clock, write_csv(BAD_ROWS), list_name="press", dry_run=True)
    assert report.dry_run and report.created == 3 and len(report.errors) == 9
    assert q.count_subscribers(store) == 0


def test_sample_lists_import_cleanly(settings: Settings, store: Store, clock: FakeClock) -> None:
    members = _import(
        settings, store, clock, REPO / "subscribers" / "members.csv", list_name="members"
    )
    press = _import(settings, store, clock, REPO / "subscribers" / "press.csv", list_name="press")
    assert members.ok and press.ok and members.created >= 6 and press.created >= 5
    people = {r.email: r for r in iter_recipients(store, ["press"])}
    assert any(r.attributes.get("outlet") and r.attributes.get("beat") for r in people.values())
    assert any(r.title for r in people.values())


def test_bulk_rows_are_stored_as_core_stores_them(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    """The import's fast path must write the same text forms as Core (dates compare as text)."""
    from sqlalchemy import insert, text

    from pipeline.store.schema import subscribers

    _import(
        settings,
        store,
        clock,
        write_csv("email,region\na@verein.example,Süd\n"),
        list_name="members",
    )
    with store.begin() as conn:
        conn.execute(
            insert(subscribers).values(
                email="b@verein.example",
                email_hash="x" * 64,
                attributes={"region": "Süd"},
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
        rows = conn.execute(
            text("SELECT created_at, attributes FROM subscribers ORDER BY id")
        ).all()
        sub = conn.execute(text("SELECT signup_at FROM subscriptions")).scalar_one()
    assert rows[0] == rows[1]
    assert sub == rows[0][0]


def test_reimport_of_the_same_file_changes_nothing(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    path = write_csv("email,first_name,region\nanna@verein.example,Anna,Sachsen\n")
    _import(settings, store, clock, path, list_name="members")
    (before,) = q.list_subscribers(store)
    clock.advance(days=1)
    report = _import(settings, store, clock, path, list_name="members")
    assert (report.created, report.updated, report.unchanged, report.subscribed) == (0, 0, 1, 0)
    (after,) = q.list_subscribers(store)
    assert after.subscriber.updated_at == before.subscriber.updated_at


def _lists_by_person(store: Store) -> dict[str, set[str]]:
    return {r.subscriber.email: set(r.lists) for r in q.list_subscribers(store, limit=1000)}


def test_each_new_subscriber_gets_their_own_subscriptions(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    """New rows' ids come from the insert order: every person must get their own lists,
    across chunks and next to people already stored."""
    import pipeline.audience.csv_import as csv_import

    lists = ("members", "press", "members press")
    rows = [f"p{n}@verein.example,{lists[n % 3]}" for n in range(7)]
    _import(settings, store, clock, write_csv("email,lists\n" + rows[3] + "\n"))
    csv_import.CHUNK, chunk = 3, csv_import.CHUNK
    try:
        report = _import(settings, store, clock, write_csv("email,lists\n" + "\n".join(rows)))
    finally:
        csv_import.CHUNK = chunk
    assert (report.created, report.unchanged) == (6, 1)
    expected = {f"p{n}@verein.example": set(lists[n % 3].split()) for n in range(7)}
    assert _lists_by_person(store) == expected


def test_new_ids_follow_the_largest_id_ever_given(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    """With AUTOINCREMENT new rows are numbered after the largest id ever given, not
    after max(id): the ids read from the insert order are still right once the newest
    subscriber is gone. (SQLite no longer numbers at random: it refuses instead.)"""
    from sqlalchemy import delete, insert, select

    from pipeline.store.schema import subscribers

    with store.begin() as conn:
        conn.execute(
            insert(subscribers).values(
                id=2**40,
                email="gone@verein.example",
                email_hash="x" * 64,
                attributes={},
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
        conn.execute(delete(subscribers).where(subscribers.c.id == 2**40))
    rows = [f"r{n}@verein.example,{'press' if n % 2 else 'members'}" for n in range(20)]
    report = _import(settings, store, clock, write_csv("email,lists\n" + "\n".join(rows)))
    assert report.created == 20
    assert _lists_by_person(store) == {
        f"r{n}@verein.example": {"press" if n % 2 else "members"} for n in range(20)
    }
    with store.connect() as conn:
        ids = conn.execute(select(subscribers.c.id).order_by(subscribers.c.id)).scalars().all()
    assert ids == list(range(2**40 + 1, 2**40 + 21))


def test_quick_row_scans_decide_as_the_value_by_value_checks(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    """Rows are first scanned whole (printable? a formula character after a separator?);
    what those scans flag must be decided per value, exactly."""
    text = (
        "email,first_name,last_name,region\n"
        "nbsp@verein.example,Anna\u00a0Maria,Stra\u00adße,Süd\n"  # 2 not "printable": fine
        "tab@verein.example,Anna\tMaria,X,\n"  # 3 control character
        "minus@verein.example,Jean-Luc,Groß-Klein,-5 °C\n"  # 4 only the start counts
        "-minus@verein.example,A,B,\n"  # 5 the address starts with a formula character
        "at@verein.example,A,@B,=C\n"  # 6 neutralised in two columns
    )
    report = _import(settings, store, clock, write_csv(text), list_name="members")
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "control character in column 'first_name'"),
        (5, "the address starts with '-'"),
    ]
    with store.connect() as conn:
        nbsp = q.find_subscriber(conn, "nbsp@verein.example")
        minus = q.find_subscriber(conn, "minus@verein.example")
        at = q.find_subscriber(conn, "at@verein.example")
    assert nbsp and (nbsp.first_name, nbsp.last_name) == ("Anna\u00a0Maria", "Stra\u00adße")
    assert minus and (minus.first_name, minus.last_name) == ("Jean-Luc", "Groß-Klein")
    assert minus.attributes == {"region": "'-5 °C"}
    assert at and at.last_name == "'@B" and at.attributes == {"region": "'=C"}
    assert sorted(n.line for n in report.notices) == [4, 6, 6]


@pytest.mark.parametrize("block", [16, 50, 1 << 20])
def test_lines_are_numbered_alike_across_read_blocks(
    block: int,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    store: Store,
    clock: FakeClock,
    write_csv: Callable[..., Path],
) -> None:
    """The file is read and decoded in blocks: numbering, values spanning lines and the
    line of a byte that is not UTF-8 must not depend on where a block ends."""
    import pipeline.audience.csv_rows as csv_rows

    monkeypatch.setattr(csv_rows, "_BLOCK", block)
    good = [f"p{n}@verein.example,Jörg {n},Süß\r\n" for n in range(12)]
    text = (
        "email,first_name,last_name\r\n"
        + "".join(good[:5])
        + 'bruch@verein.example,"zwei\r\nZeilen",X\r\n'  # lines 7-8
        + "".join(good[5:])
        + "kaputt,A,B\r\n"  # line 16
    )
    report = _import(settings, store, clock, write_csv(text), list_name="members")
    assert [(e.line, e.reason.split(" (")[0].split(":")[0]) for e in report.errors] == [
        (7, "line break in column 'first_name'"),
        (16, "invalid address"),
    ]
    assert report.created == 12
    with store.connect() as conn:
        person = q.find_subscriber(conn, "p11@verein.example")
    assert person and (person.first_name, person.last_name) == ("Jörg 11", "Süß")

    latin = text.encode("utf-8") + "z@verein.example,Jörg,Süß\r\n".encode("cp1252")
    path = write_csv("")
    path.write_bytes(latin)
    with pytest.raises(AudienceError, match=r"line 17: not UTF-8 \(byte 0xF6 at position 19,"):
        _import(settings, store, clock, path, list_name="members")


def _long_rows_file(path: Path, size: int) -> Path:
    """Rows around two values of ``size`` characters: one unquoted, one quoted over
    lines with delimiters, doubled quotes and a CR inside."""
    value = "ä" * (size // 2) + "x" * (size - size // 2)
    path.write_text(
        "email,first_name,notes\n"
        "a@verein.example,Anna,kurz\n"  # 2
        f"b@verein.example,Bernd,{value}\n"  # 3
        'c@verein.example,"Cl""ara",kurz\n'  # 4
        f'd@verein.example,Dora,"{value}\n, ""x"",\r\nd2@verein.example,D,x\n{value}"\n'  # 5-8
        'e@verein.example,Emil,"zwei\nZeilen"\n'  # 9-10
        "f@verein.example,Fritz,a\rb\n"  # 11: CR in an unquoted value
        "g@verein.example,Gabi,kurz",  # 12, no line break at the end
        "utf-8",
    )
    return path


@pytest.mark.parametrize(("block", "scan"), [(16, 7), (50, 1 << 16), (1 << 20, 1 << 16)])
def test_rows_after_an_overlong_row_are_read_as_written(
    block: int, scan: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import pipeline.audience.csv_rows as csv_rows

    monkeypatch.setattr(csv_rows, "_BLOCK", block)
    monkeypatch.setattr(csv_rows, "_SCAN", scan)
    path = _long_rows_file(tmp_path / "long.csv", 300_000)
    rows = list(csv_rows.read_csv(path))
    assert [line for line, _ in rows] == [1, 2, 3, 4, 5, 9, 11, 12]
    fields = dict(rows)
    assert fields[4] == ["c@verein.example", 'Cl"ara', "kurz"]
    assert fields[9] == ["e@verein.example", "Emil", "zwei\nZeilen"]
    assert fields[12] == ["g@verein.example", "Gabi", "kurz"]
    unquoted, quoted, cr = fields[3], fields[5], fields[11]
    assert isinstance(unquoted, csv_rows.UnreadRow) and isinstance(quoted, csv_rows.UnreadRow)
    assert (unquoted.fields[:2], unquoted.longest, unquoted.longest_length) == (
        ("b@verein.example", "Bernd"),
        2,
        300_000,
    )
    assert unquoted.length == len("b@verein.example,Bernd,") + 300_000 + 1
    assert (quoted.longest, quoted.longest_length) == (
        2,
        600_000 + len('\n, "x",\r\nd2@verein.example,D,x\n'),
    )
    assert isinstance(cr, csv_rows.UnreadRow) and cr.error == "line break inside an unquoted value"


def test_an_overlong_value_is_never_held_whole(tmp_path: Path) -> None:
    """Reading a file with two 20 MB values (one quoted over lines) holds a few MB."""
    import tracemalloc

    from pipeline.audience.csv_rows import read_csv

    path = _long_rows_file(tmp_path / "huge.csv", 20_000_000)
    tracemalloc.start()
    try:
        rows = sum(1 for _ in read_csv(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 8
    assert peak < 8_000_000, f"{peak:,} bytes"


def test_an_overlong_header_stops_the_import(
    settings: Settings, store: Store, clock: FakeClock, write_csv: Callable[..., Path]
) -> None:
    with pytest.raises(AudienceError, match="line 1: the header is longer than 131,072"):
        _import(settings, store, clock, write_csv("email," + "x" * 200_000 + "\n"))


DUPLICATES = "email,first_name\n" + "".join(
    f"p{n % 7 if n >= 10 else n}@verein.example,P{n}\n" for n in range(14)
)  # p0..p9 on lines 2-11, then p3, p4, p5, p6 again on lines 12-15


def check_duplicates_far_apart(
    settings: Settings, store: Store, clock: FakeClock, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Duplicates found by line also once the addresses seen have moved out of memory
    (into the transaction's temporary table), and again in a second import."""
    import pipeline.audience.csv_import as csv_import

    monkeypatch.setattr(csv_import, "CHUNK", 2)
    monkeypatch.setattr(csv_import, "_RECENT", 3)
    monkeypatch.setattr(csv_import, "_BITS", 8)  # every address a filter hit
    for _ in range(2):
        report = _import(settings, store, clock, path, list_name="members")
        assert [(e.line, e.reason) for e in report.errors] == [
            (line, f"duplicate address (already on line {line - 7})") for line in (12, 13, 14, 15)
        ]
        assert report.imported == 10


def test_duplicates_far_apart(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    write_csv: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check_duplicates_far_apart(settings, store, clock, write_csv(DUPLICATES), monkeypatch)


def test_duplicates_when_addresses_share_a_key(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    write_csv: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Addresses whose hashes share the 64 bits the duplicate check keys on (1 in 2^64
    for real) are told apart by the address: only the same address is a duplicate."""
    import pipeline.audience.csv_rows as csv_rows

    real = csv_rows.email_hash
    monkeypatch.setattr(csv_rows, "email_hash", lambda email: "0" * 16 + real(email)[16:])
    check_duplicates_far_apart(settings, store, clock, write_csv(DUPLICATES), monkeypatch)
