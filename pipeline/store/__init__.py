"""The store: one database (SQLite by default, PostgreSQL at scale) behind SQLAlchemy.

``Store.open(url)`` creates the database if needed and applies migrations. Each
stage's queries live in their own module here (``feeds``, ``items``, ``mailings``,
``audience``, ``outbox``, ...) and take a ``Store``; they return frozen dataclasses, never
rows, so SQLAlchemy stays inside this package.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import StoreError
from pipeline.store.migrations import migrate


class Store:
    """A database handle: an engine plus the transaction helpers every query uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @classmethod
    def open(cls, url: str, *, migrate_schema: bool = True) -> Store:
        """Open (and create, for SQLite) the database at ``url`` and bring its schema up."""
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                try:
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create the folder for {path}: {exc}") from exc
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        try:
            engine = create_engine(url, **kwargs)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open the store {url!r}: {exc}") from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin_immediate)
        store = cls(engine)
        if migrate_schema:
            store.migrate()
        return store

    def migrate(self) -> list[int]:
        try:
            with self.engine.begin() as conn:
                return migrate(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate the store: {exc}") from exc

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed when the block ends, rolled back on an exception."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(rundbrief_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads (no implicit commit)."""
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is off so that "begin" below is ours.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # WAL lets readers (web, status) run while a send writes; busy_timeout waits for locks
    # instead of failing when two processes share the file.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin_immediate(conn: Connection) -> None:
    # Write transactions take the lock at BEGIN: two processes claiming outbox rows then
    # wait for each other (busy_timeout) instead of failing with "database is locked"
    # when a read lock is upgraded. Reads stay deferred so they never block on a writer.
    if conn.get_execution_options().get("rundbrief_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


__all__ = ["Store"]
