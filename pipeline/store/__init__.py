"""The store: one database (SQLite by default, PostgreSQL at scale) behind SQLAlchemy.

``Store.open(url)`` creates the database if needed and applies migrations. Each
stage's queries live in their own module here (``feeds``, ``items``, ``mailings``,
``audience``, ``outbox``, ...) and take a ``Store``; they return frozen dataclasses, never
rows, so SQLAlchemy stays inside this package.

Every operation is one unit of work: ``store.begin()`` (a write transaction) or
``store.connect()`` (reads). They are also the error boundary: a database failure
inside them (a locked or read-only SQLite file, a full disk, a PostgreSQL server that
went away) leaves as one ``StoreError`` that names the store and what to do
(``pipeline.store.failures``). Nothing outside this package touches the engine, except
the scheduler's job store, which takes ``Store.job_store`` (same boundary).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import StoreError
from pipeline.store.failures import is_failure, safe_url, store_error
from pipeline.store.migrations import MIGRATIONS, migrate, schema_version

DEFAULT_BUSY_TIMEOUT = 30.0


class Store:
    """A database handle: an engine plus the units of work every query uses."""

    def __init__(
        self, engine: Engine, *, url: str = "", busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    ) -> None:
        self.engine = engine
        self.url = url or engine.url.render_as_string(hide_password=False)
        self.busy_timeout = busy_timeout

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def name(self) -> str:
        """The store's URL without its password, for messages."""
        return safe_url(self.url)

    @classmethod
    def open(
        cls,
        url: str,
        *,
        migrate_schema: bool = True,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> Store:
        """Open (and create, for SQLite) the database at ``url`` and bring its schema up.

        ``busy_timeout`` (seconds) is how long SQLite waits for another process's lock
        before the operation fails with a ``StoreError``.
        """
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:" and not path.startswith("file:"):
                try:
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(
                        f"cannot create the folder for the SQLite file {path}: {exc.strerror}"
                    ) from exc
            kwargs["connect_args"] = {"timeout": busy_timeout, "check_same_thread": False}
        try:
            engine = create_engine(url, **kwargs)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open the store {safe_url(url)}: {exc}") from exc
        if engine.dialect.name == "sqlite":
            milliseconds = int(busy_timeout * 1000)

            def pragmas(dbapi_conn: Any, _record: Any) -> None:
                _sqlite_pragmas(dbapi_conn, milliseconds)

            event.listen(engine, "connect", pragmas)
            event.listen(engine, "begin", _sqlite_begin_immediate)
        store = cls(engine, url=url, busy_timeout=busy_timeout)
        if migrate_schema:
            store.migrate()
        return store

    def migrate(self) -> list[int]:
        """Apply the missing migrations; return their numbers.

        A store already up to date is only read, so opening it never waits for another
        process's write lock (a ``status`` or ``count`` runs during a long send)."""
        with self.connect() as conn:
            if _schema_is_current(conn):
                return []
        with self.begin() as conn:
            return migrate(conn)

    @contextmanager
    def boundary(self, what: str | None = None) -> Iterator[None]:
        """Turn a database failure raised inside the block into one ``StoreError``.

        With ``what`` (e.g. "list.csv: the import could not be written"), every database
        error of the block becomes a ``StoreError`` saying so, a constraint or query error
        too: for callers that report a whole operation rather than retry it."""
        try:
            yield
        except SQLAlchemyError as exc:
            if what is not None:
                raise StoreError(f"{what}: {self.failure(exc)}") from exc
            if not is_failure(exc):
                raise
            raise self.failure(exc) from exc

    def failure(self, exc: BaseException) -> StoreError:
        """The ``StoreError`` for a database failure of this store."""
        timeout = self.busy_timeout if self.dialect == "sqlite" else None
        return store_error(self.url, exc, busy_timeout=timeout)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed when the block ends, rolled back on an exception."""
        with self.boundary(), self.engine.connect() as conn:
            conn = conn.execution_options(rundbrief_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads (no implicit commit)."""
        with self.boundary(), self.engine.connect() as conn:
            yield conn

    def job_store(self, tablename: str) -> Any:
        """APScheduler's job store on this database, behind the same error boundary."""
        from pipeline.store.jobstore import GuardedJobStore

        return GuardedJobStore(self, tablename)

    def close(self) -> None:
        with self.boundary():
            self.engine.dispose()


def _schema_is_current(conn: Connection) -> bool:
    if not inspect(conn).has_table(schema_version.name):
        return False
    version = conn.execute(select(schema_version.c.version)).scalar()
    return int(version or 0) >= len(MIGRATIONS)


def _sqlite_pragmas(dbapi_conn: Any, busy_timeout_ms: int) -> None:
    # pysqlite's own transaction handling is off so that "begin" below is ours.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # busy_timeout first: it makes the statements below wait for another process's lock
    # too. WAL lets readers (web, status) run while a send writes.
    cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin_immediate(conn: Connection) -> None:
    # Write transactions take the lock at BEGIN: two processes claiming outbox rows then
    # wait for each other (busy_timeout) instead of failing with "database is locked"
    # when a read lock is upgraded. Reads stay deferred so they never block on a writer.
    if conn.get_execution_options().get("rundbrief_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


# The handle of one unit of work (``with store.begin() as conn``): other packages only
# pass it on to the store's functions, so it is exported here under the store's name.
Unit = Connection

__all__ = ["DEFAULT_BUSY_TIMEOUT", "Store", "Unit"]
