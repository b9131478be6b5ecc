from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from pipeline.store import Store
from pipeline.store.migrations import (
    LATEST,
    MIGRATIONS,
    _fault_handling,
    _web_sessions,
    current_version,
    schema_version,
)
from pipeline.store.schema import metadata


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
    store.close()
