"""The store's error boundary: a database failure becomes one ``StoreError`` line.

A locked or read-only SQLite file, a full disk, a PostgreSQL server that stopped or
restarted: SQLAlchemy raises its own exceptions with several lines of SQL and links.
``is_failure`` picks the ones that are the environment's fault (not a bug in a query:
``IntegrityError`` and ``ProgrammingError`` pass through unchanged), and ``store_error``
says in one line which store failed and what the operator can do about it. The URL is
shown without its password.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from pipeline.errors import StoreError

_CONNECTION_WORDS = (
    "connection",
    "connect",
    "server closed",
    "terminating",
    "shutdown",
    "shutting down",
    "starting up",
    "refused",
    "timeout",
    "timed out",
    "no route",
    "broken pipe",
)


def is_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a database failure the operator must fix (not a query bug)."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError
    ) or (isinstance(exc, sa_exc.InternalError) and _is_read_only(_reason(exc)))


def safe_url(url: str) -> str:
    """The URL as it may be shown: any password removed."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError:
        return "<unparsable store URL>"
    query = {k: v for k, v in parsed.query.items() if "password" not in k.lower()}
    shown = URL.create(
        parsed.drivername,
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=query,
    )
    return shown.render_as_string(hide_password=False)


def store_error(url: str, exc: BaseException, *, busy_timeout: float | None = None) -> StoreError:
    """One line naming the store, what failed and what to do."""
    return StoreError(describe(url, exc, busy_timeout=busy_timeout))


def describe(url: str, exc: BaseException, *, busy_timeout: float | None = None) -> str:
    reason = _reason(exc)
    lower = reason.lower()
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError:
        return f"the store failed: {reason}"
    if parsed.get_backend_name() == "sqlite":
        path = (parsed.database or ":memory:").removeprefix("file:")
        where = f"the SQLite file {path}"
        if "locked" in lower or "busy" in lower:
            waited = f" (waited {busy_timeout:g} s)" if busy_timeout is not None else ""
            return (
                f"{where} is locked by another process{waited}; wait for it or stop it "
                "([storage] busy_timeout_seconds sets how long to wait)"
            )
        if _is_read_only(lower):
            return f"{where} is read-only; give this user write access to the file and its folder"
        if "full" in lower:
            return f"the disk holding {where} is full; free some space and run the command again"
        if "unable to open" in lower:
            return f"cannot open {where}; check that its folder exists and is writable"
        if "malformed" in lower or "not a database" in lower:
            return f"{where} is damaged ({reason}); restore it from a backup"
        return f"{where} failed ({reason}); check the file and its disk"
    host = parsed.host or "localhost"
    port = parsed.port or _default_port(parsed.get_backend_name())
    server = f"the database server at {host}:{port} ({safe_url(url)})"
    if _is_read_only(lower):
        return f"{server} accepts no writes ({reason}); point [storage] url at the primary"
    if "full" in lower or "no space" in lower:
        return f"{server} has no space left ({reason}); free some space on it"
    if (
        (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated)
        or any(word in lower for word in _CONNECTION_WORDS)
        or isinstance(exc, sa_exc.InterfaceError | sa_exc.TimeoutError)
    ):
        return f"{server} is not answering ({reason}); check it is running and reachable"
    return f"{server} failed ({reason})"


def _reason(exc: BaseException) -> str:
    """The driver's message, first line only (SQLAlchemy appends the SQL and a link)."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    text = lines[0] if lines else type(orig).__name__
    return text[:300]


def _is_read_only(text: str) -> bool:
    lower = text.lower()
    return "readonly" in lower.replace("-", "").replace(" ", "") or "read only" in lower


def _default_port(backend: str) -> int | str:
    return {"postgresql": 5432, "mysql": 3306}.get(backend, "?")


__all__ = ["describe", "is_failure", "safe_url", "store_error"]
