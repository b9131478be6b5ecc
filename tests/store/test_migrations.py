from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from pipeline.store import Store
from pipeline.store.migrations import LATEST, current_version
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

    from pipeline.store.migrations import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store.open(url).close()
    raw = sqlite3.connect(tmp_path / "old.db")
    number = MIGRATIONS.index(MIGRATIONS[1]) + 1  # the fault-handling migration
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
