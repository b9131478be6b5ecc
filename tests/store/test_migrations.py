from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, text

from pipeline.audience.links import read_link
from pipeline.audience.tokens import TokenError
from pipeline.store import Store
from pipeline.store import audience as q
from pipeline.store.migrations import (
    LATEST,
    MIGRATIONS,
    _fault_handling,
    _segments,
    _web_sessions,
    current_version,
    schema_version,
)
from pipeline.store.schema import mailings, metadata


def test_fresh_database_is_migrated_to_latest(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    with store.connect() as conn:
        assert current_version(conn) == LATEST
    assert store.migrate() == []  # opening again applies nothing
    store.close()


def test_migrated_schema_matches_metadata(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    inspector = inspect(store.engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == set(table.columns.keys()), table.name
    store.close()


def test_store_creates_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "r.db"
    Store.open(f"sqlite:///{target}").close()
    assert target.exists()


def test_fault_handling_columns_are_added_to_an_older_database(tmp_path: Path) -> None:
    """A store made before the fault-handling migration gains its columns, data kept."""
    import sqlite3

    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store.open(url).close()
    raw = sqlite3.connect(tmp_path / "old.db")
    number = MIGRATIONS.index(_fault_handling) + 1
    # Turn the fresh file into one at the version before: without the new columns.
    for table, columns in (
        ("mailings", ("resume_at", "resume_tries")),
        ("deliveries", ("unknown_at", "possible_duplicate")),
    ):
        for column in columns:
            raw.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    raw.execute("UPDATE schema_version SET version = ?", (number - 1,))
    raw.execute(
        "INSERT INTO mailings (id, kind, status, subject, intro_md, preheader, languages,"
        " lists, created_at, updated_at) VALUES (7, 'press', 'paused', 'S', '', '', '[]',"
        " '[]', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    raw.commit()
    raw.close()
    store = Store.open(url)
    inspector = inspect(store.engine)
    assert {"resume_at", "resume_tries"} <= {c["name"] for c in inspector.get_columns("mailings")}
    assert {"unknown_at", "possible_duplicate"} <= {
        c["name"] for c in inspector.get_columns("deliveries")
    }
    with store.connect() as conn:
        row = conn.exec_driver_sql("SELECT id, resume_tries FROM mailings").one()
    assert tuple(row) == (7, 0)
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return str(request.getfixturevalue("pg_url"))


def test_web_sessions_migration_upgrades_an_older_store(store_url: str) -> None:
    """A store from before the web_sessions migration gets the table as schema.py has it."""
    number = MIGRATIONS.index(_web_sessions) + 1
    store = Store.open(store_url)
    with store.begin() as conn:
        conn.execute(text("DROP TABLE web_sessions"))
        conn.execute(schema_version.update().values(version=number - 1))
    assert store.migrate() == list(range(number, LATEST + 1))
    inspector = inspect(store.engine)
    got = {c["name"]: c for c in inspector.get_columns("web_sessions")}
    table = metadata.tables["web_sessions"]
    assert set(got) == set(table.columns.keys())
    for column in table.columns:
        assert got[column.name]["nullable"] == column.nullable, column.name
        dialect = store.engine.dialect
        want = column.type.compile(dialect)
        assert got[column.name]["type"].compile(dialect) == want, column.name
    assert inspector.get_pk_constraint("web_sessions")["constrained_columns"] == ["id_hash"]
    assert "ix_web_sessions_account" in {i["name"] for i in inspector.get_indexes("web_sessions")}


_SUBSCRIBERS_AT_1 = """CREATE TABLE subscribers (
    id INTEGER NOT NULL, email VARCHAR(320) NOT NULL, email_hash VARCHAR(64) NOT NULL,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL, salutation VARCHAR(16) NOT NULL,
    title TEXT NOT NULL, language VARCHAR(16) NOT NULL, attributes JSON NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    CONSTRAINT pk_subscribers PRIMARY KEY (id), CONSTRAINT uq_subscribers_email UNIQUE (email)
)"""
_AT = "2026-06-01 08:00:00.000000"
NOW = datetime(2026, 6, 2, 8, tzinfo=UTC)


def _v1_token(secret: str, subscriber_id: int, list_name: str) -> str:
    """A link as mailed before migration 2 (token version 1)."""
    from pipeline.audience.tokens import _b64, signature

    payload = f"1.unsubscribe.{subscriber_id}.{list_name}".encode()
    return f"{_b64(payload)}.{_b64(signature(secret, 'unsubscribe', payload))}"


def _store_at_1(path: Path) -> None:
    """A store as migration 1 left it, after an id was reused: A=1; B=2 erased and its id
    given to C; D=3 erased last (its id free, above max(id))."""
    store = Store.open(f"sqlite:///{path}")
    with store.begin() as conn:
        conn.execute(
            insert(mailings).values(
                kind="newsletter", status="sent", subject="KW 22", created_at=NOW, updated_at=NOW
            )
        )
    store.close()
    db = sqlite3.connect(path)  # foreign keys off: the schema is put back by hand
    db.executescript(
        "DROP TABLE subscribers; DROP TABLE legacy_tokens;"
        " DELETE FROM sqlite_sequence WHERE name = 'subscribers';"
        f" UPDATE schema_version SET version = 1; {_SUBSCRIBERS_AT_1};"
    )
    db.execute("PRAGMA foreign_keys = ON")

    def add(email: str) -> int:
        cur = db.execute(
            "INSERT INTO subscribers (email, email_hash, first_name, last_name, salutation,"
            " title, language, attributes, created_at, updated_at)"
            " VALUES (?, ?, '', '', '', '', 'de', '{}', ?, ?)",
            (email, "h" + email, _AT, _AT),
        )
        assert cur.lastrowid is not None
        db.execute(
            "INSERT INTO subscriptions (subscriber_id, list_name, status, source, created_at,"
            " updated_at) VALUES (?, 'members', 'active', 'import', ?, ?)",
            (cur.lastrowid, _AT, _AT),
        )
        return cur.lastrowid

    assert (add("a@verein.example"), add("b@verein.example")) == (1, 2)
    db.execute("DELETE FROM subscribers WHERE id = 2")
    assert add("c@verein.example") == 2  # the defect: B's id went to C
    assert add("d@verein.example") == 3
    db.execute("DELETE FROM subscribers WHERE id = 3")
    db.execute(
        "INSERT INTO deliveries (mailing_id, subscriber_id, email, list_name, language,"
        " status, attempts, created_at) VALUES (1, 1, 'a@verein.example', 'members', 'de',"
        " 'sent', 1, ?)",
        (_AT,),
    )
    db.commit()
    db.close()


def test_ids_migration_keeps_rows_and_never_reuses_an_id(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _store_at_1(path)
    store = Store.open(f"sqlite:///{path}")  # applies migration 2
    secret = "s3cret"
    with store.begin() as conn:
        assert current_version(conn) == LATEST
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'subscribers'"
        ).scalar()
        assert "AUTOINCREMENT" in str(sql)
        people = conn.exec_driver_sql("SELECT id, email FROM subscribers ORDER BY id").all()
        assert [tuple(p) for p in people] == [(1, "a@verein.example"), (2, "c@verein.example")]
        subs = conn.exec_driver_sql("SELECT subscriber_id FROM subscriptions ORDER BY 1").all()
        assert [s[0] for s in subs] == [1, 2]
        assert conn.exec_driver_sql("SELECT subscriber_id FROM deliveries").scalar() == 1
        for child in ("subscriptions", "deliveries"):
            keys = conn.exec_driver_sql(f"PRAGMA foreign_key_list({child})").all()
            assert "subscribers" in {k[2] for k in keys}, child
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert q.legacy_token_limit(conn) == 2
        # The next subscriber gets D's id 3, freed before the upgrade (nothing remembers it)
        e = q.create_subscriber(
            conn,
            {
                "email": "e@verein.example",
                "email_hash": "he",
                "attributes": {},
                "created_at": NOW,
                "updated_at": NOW,
            },
        )
        assert e == 3
    # D's old link (version 1, id 3) is refused though id 3 exists again; A's still works.
    with pytest.raises(TokenError):
        read_link(store, secret, _v1_token(secret, 3, "members"), purpose="unsubscribe")
    assert read_link(store, secret, _v1_token(secret, 1, "members"), purpose="unsubscribe")
    with store.begin() as conn:  # and no id is given twice from now on
        conn.exec_driver_sql("DELETE FROM subscribers WHERE id = 3")
        f = q.create_subscriber(
            conn,
            {
                "email": "f@verein.example",
                "email_hash": "hf",
                "attributes": {},
                "created_at": NOW,
                "updated_at": NOW,
            },
        )
        assert f == 4
    store.close()


def test_embargo_migration_keeps_an_old_press_time_as_its_send_time(store_url: str) -> None:
    """Issue 13: until now ``send_at`` was a press release's send time and embargo in one;
    a store from before gains ``embargo_at`` (empty) and the old time stays the send time."""
    from pipeline.store import mailings as store_mailings
    from pipeline.store.migrations import _embargo

    number = MIGRATIONS.index(_embargo) + 1
    store = Store.open(store_url)
    when = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    with store.begin() as conn:
        conn.execute(text("ALTER TABLE mailings DROP COLUMN embargo_at"))
        conn.execute(schema_version.update().values(version=number - 1))
    with store.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO mailings (kind, status, subject, intro_md, preheader, languages,"
                " lists, send_at, created_at, updated_at) VALUES ('press', 'scheduled',"
                " 'Förderfibel erschienen', '', '', '[\"de\"]', '[\"press\"]', :when, :at, :at)"
            ),
            {"when": when, "at": NOW},
        )
    assert number in store.migrate()
    assert "embargo_at" in {c["name"] for c in inspect(store.engine).get_columns("mailings")}
    (old,) = store_mailings.list_mailings(store)
    assert (old.send_at, old.embargo_at) == (when, None)


def test_segments_migration_keeps_attributes_and_adds_the_segment(store_url: str) -> None:
    """Issue 13: mailings get their segment; PostgreSQL's attributes become jsonb, with
    every value kept."""
    number = MIGRATIONS.index(_segments) + 1
    store = Store.open(store_url)
    with store.begin() as conn:
        conn.execute(text("ALTER TABLE mailings DROP COLUMN segment_name"))
        conn.execute(text("ALTER TABLE mailings DROP COLUMN segment_where"))
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "ALTER TABLE subscribers ALTER COLUMN attributes TYPE json USING attributes::json"
                )
            )
        conn.execute(
            text(
                "INSERT INTO subscribers (email, email_hash, first_name, last_name, salutation,"
                " title, language, attributes, created_at, updated_at) VALUES ('j@zeitung.example',"
                " 'h', 'Jana', 'Köhler', 'Frau', '', 'de',"
                ' \'{"beat": "Kommunalpolitik", "region": "Baden-Württemberg"}\','
                " '2026-06-19 08:00:00', '2026-06-19 08:00:00')"
            )
        )
        conn.execute(schema_version.update().values(version=number - 1))
    assert store.migrate() == list(range(number, LATEST + 1))
    inspector = inspect(store.engine)
    dialect = store.engine.dialect
    for name in ("subscribers", "mailings"):
        got = {c["name"]: c for c in inspector.get_columns(name)}
        for column in metadata.tables[name].columns:
            want = column.type.compile(dialect)
            assert got[column.name]["type"].compile(dialect) == want, column.name
    person = q.list_subscribers(store)[0].subscriber
    assert person.attributes == {"beat": "Kommunalpolitik", "region": "Baden-Württemberg"}
    store.close()


def test_followups_migration_adds_what_a_follow_up_needs(store_url: str) -> None:
    """Issue 13: a store from before follow-ups gains ``follows_id``/``follow_kind`` on
    mailings and ``in_reply_to`` on deliveries (with their indexes); old mailings follow
    nothing. (SQLite cannot drop a column with a foreign key: there ``follows_id`` stays.)"""
    from pipeline.store import mailings as store_mailings
    from pipeline.store.migrations import _followups

    number = MIGRATIONS.index(_followups) + 1
    store = Store.open(store_url)
    postgres = store.engine.dialect.name == "postgresql"
    with store.begin() as conn:
        conn.execute(text("DROP INDEX ix_deliveries_in_reply_to"))
        conn.execute(text("DROP INDEX ix_mailings_follows_id"))
        conn.execute(text("ALTER TABLE deliveries DROP COLUMN in_reply_to"))
        conn.execute(text("ALTER TABLE mailings DROP COLUMN follow_kind"))
        if postgres:
            conn.execute(text("ALTER TABLE mailings DROP COLUMN follows_id"))
        conn.execute(schema_version.update().values(version=number - 1))
    with store.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO mailings (kind, status, subject, intro_md, preheader, languages,"
                " lists, created_at, updated_at) VALUES ('press', 'sent',"
                " 'Förderfibel erschienen', '', '', '[\"de\"]', '[\"press\"]', :at, :at)"
            ),
            {"at": NOW},
        )
    assert number in store.migrate()
    inspector = inspect(store.engine)
    assert {"follows_id", "follow_kind"} <= {c["name"] for c in inspector.get_columns("mailings")}
    assert "in_reply_to" in {c["name"] for c in inspector.get_columns("deliveries")}
    assert "ix_deliveries_in_reply_to" in {i["name"] for i in inspector.get_indexes("deliveries")}
    assert "ix_mailings_follows_id" in {i["name"] for i in inspector.get_indexes("mailings")}
    if postgres:
        keys = inspector.get_foreign_keys("mailings")
        assert any(k["constrained_columns"] == ["follows_id"] for k in keys)
    (old,) = store_mailings.list_mailings(store)
    assert (old.follows_id, old.follow_kind) == (None, None)
    store.close()
