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
