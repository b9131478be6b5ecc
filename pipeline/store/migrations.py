"""Numbered schema migrations, each run in its own transaction.

``schema_version`` holds the number of the last migration applied. Opening a store
applies whatever is missing, so a deployed database upgrades in place on the first run
of a new release (back up the SQLite file first, see docs/deploy.md, "Upgrades").

Migration 1 is the baseline and creates the tables of ``schema.py`` as they were at the
first release. From then on every schema change is a new numbered function with
explicit DDL, and ``tests/store/test_migrations.py`` checks that a database built by the
migrations matches ``schema.metadata`` column for column.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Connection, Integer, MetaData, Table, inspect, select
from sqlalchemy.schema import CreateColumn

from pipeline.store import schema

Migration = Callable[[Connection], None]

_version_meta = MetaData()
schema_version = Table("schema_version", _version_meta, Column("version", Integer, nullable=False))


def _baseline(conn: Connection) -> None:
    schema.metadata.create_all(conn)


def add_missing_columns(conn: Connection, table_name: str, names: tuple[str, ...]) -> None:
    """ALTER TABLE … ADD COLUMN for each of ``names`` the table does not have yet.

    The baseline creates the tables of today's ``schema.py``, so a fresh database already
    has every column and a migration must only add what an older database lacks. The
    column DDL is compiled from ``schema.py``, so both definitions cannot drift apart.
    New columns need a server default (or be nullable): existing rows get it.
    """
    table = schema.metadata.tables[table_name]
    present = {c["name"] for c in inspect(conn).get_columns(table_name)}
    for name in names:
        if name in present:
            continue
        ddl = CreateColumn(table.c[name]).compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE {table_name} ADD COLUMN {ddl}")


def _fault_handling(conn: Connection) -> None:
    """Issue 9: pauses that resume by themselves, answers that never came."""
    add_missing_columns(conn, "mailings", ("resume_at", "resume_tries"))
    add_missing_columns(conn, "deliveries", ("unknown_at", "possible_duplicate"))


_WEB_SESSIONS = """
CREATE TABLE IF NOT EXISTS web_sessions (
    id_hash VARCHAR(64) NOT NULL PRIMARY KEY,
    account VARCHAR(320) NOT NULL,
    created_at {ts} NOT NULL,
    last_seen_at {ts} NOT NULL,
    expires_at {ts} NOT NULL,
    ended_at {ts},
    end_reason VARCHAR(32),
    client_address VARCHAR(64),
    user_agent VARCHAR(200),
    password_fingerprint VARCHAR(64) NOT NULL
)
"""


def _web_sessions(conn: Connection) -> None:
    """Editor sessions kept on the server, so logout and a password change end them.

    IF NOT EXISTS because the baseline builds a fresh database from today's metadata,
    which already holds the table; an older database gets it here.
    """
    ts = "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
    conn.exec_driver_sql(_WEB_SESSIONS.format(ts=ts))
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_web_sessions_account ON web_sessions (account)"
    )


# SQLite's subscribers with AUTOINCREMENT, as schema.py has it since migration 2.
_SQLITE_SUBSCRIBERS = """
CREATE TABLE subscribers (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    email VARCHAR(320) NOT NULL,
    email_hash VARCHAR(64) NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    salutation VARCHAR(16) NOT NULL,
    title TEXT NOT NULL,
    language VARCHAR(16) NOT NULL,
    attributes JSON NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT uq_subscribers_email UNIQUE (email)
)"""
_COPY = (
    "id, email, email_hash, first_name, last_name, salutation, title, language,"
    " attributes, created_at, updated_at"
)


def _ids_never_reused(conn: Connection) -> None:
    """Migration 2: no subscriber id is ever given to another person (issue: an erased
    person's links acted on the next subscriber), and old tokens are bounded.

    SQLite: subscribers is rebuilt with AUTOINCREMENT (``_rebuild_subscribers``).
    PostgreSQL sequences never hand a number out twice: only the bound is recorded.
    The bound is max(id) now: a version-1 token for a larger id names someone erased
    before the upgrade, whose id the next subscriber would get (sqlite_sequence starts
    at max(id)), so such tokens are refused (audience/tokens.py ``admit``).
    """
    if conn.dialect.name == "sqlite":
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'subscribers'"
        ).scalar()
        if "AUTOINCREMENT" not in str(sql).upper():  # a store made new has it already
            _rebuild_subscribers(conn)
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS legacy_tokens (max_subscriber_id INTEGER NOT NULL)"
        )
        conn.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'subscribers'")
        conn.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq)"
            " SELECT 'subscribers', coalesce(max(id), 0) FROM subscribers"
        )
    else:
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS legacy_tokens (max_subscriber_id BIGINT NOT NULL)"
        )
    conn.exec_driver_sql("DELETE FROM legacy_tokens")
    conn.exec_driver_sql(
        "INSERT INTO legacy_tokens (max_subscriber_id) SELECT coalesce(max(id), 0) FROM subscribers"
    )


def _rebuild_subscribers(conn: Connection) -> None:
    """SQLite's way to change a table (its "12 steps"): with foreign keys off, which only
    works outside a transaction, so the migration's transaction is committed and a new
    one begun around it. Dropping the old table with them on would cascade into
    subscriptions and null deliveries.subscriber_id. A crash in between leaves version 1
    with the table rebuilt, and the next open finishes the migration (the rebuild is
    skipped once the table has AUTOINCREMENT)."""
    conn.exec_driver_sql("COMMIT")
    conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
    conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        conn.exec_driver_sql(_SQLITE_SUBSCRIBERS.replace("subscribers", "subscribers_new", 1))
        conn.exec_driver_sql(
            f"INSERT INTO subscribers_new ({_COPY}) SELECT {_COPY} FROM subscribers"
        )
        conn.exec_driver_sql("DROP TABLE subscribers")
        conn.exec_driver_sql("ALTER TABLE subscribers_new RENAME TO subscribers")
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
        conn.exec_driver_sql("COMMIT")
    except BaseException:
        conn.exec_driver_sql("ROLLBACK")
        raise
    finally:
        conn.exec_driver_sql("PRAGMA foreign_keys = ON")
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _system_mail(conn: Connection) -> None:
    """The outbox of system mail (confirmations, notifications, test copies).

    ``checkfirst``: a fresh database got the table (and its index) from the baseline.
    """
    schema.system_mail.create(conn, checkfirst=True)


_MAILING_SENDERS = """
CREATE TABLE IF NOT EXISTS mailing_senders (
    mailing_id {id} NOT NULL REFERENCES mailings (id) ON DELETE CASCADE,
    worker VARCHAR(200) NOT NULL,
    joined_at {ts} NOT NULL,
    heartbeat_at {ts} NOT NULL,
    PRIMARY KEY (mailing_id, worker)
)
"""


def _one_lease(conn: Connection) -> None:
    """Issue 10: one lease per sender (``mailing_senders``) instead of one holder per
    mailing, so senders on one mailing cooperate; ``paused_at`` keys the pause notice.

    IF NOT EXISTS and ``add_missing_columns``: a fresh database has both already.
    """
    postgres = conn.dialect.name == "postgresql"
    conn.exec_driver_sql(
        _MAILING_SENDERS.format(
            id="BIGINT" if postgres else "INTEGER",
            ts="TIMESTAMP WITH TIME ZONE" if postgres else "DATETIME",
        )
    )
    add_missing_columns(conn, "mailings", ("paused_at",))


def _accounts(conn: Connection) -> None:
    """Issue 12: named accounts, their API tokens, the shared log-in throttle, and the
    account of each web session.

    ``checkfirst`` and ``add_missing_columns``: a fresh database has them already.
    """
    for table in (schema.accounts, schema.login_failures, schema.api_tokens):
        table.create(conn, checkfirst=True)
    add_missing_columns(conn, "web_sessions", ("account_id",))
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_web_sessions_account_id ON web_sessions (account_id)"
    )


def _audit(conn: Connection) -> None:
    """Issue 12: the audit log, and who composed and last edited each mailing.

    ``checkfirst`` and ``add_missing_columns``: a fresh database has them already.
    """
    schema.audit.create(conn, checkfirst=True)
    add_missing_columns(conn, "mailings", ("composed_by", "last_edited_by"))


def _totp_once(conn: Connection) -> None:
    """Issue 12: the step of the last accepted one-time code, so a code works only once."""
    add_missing_columns(conn, "accounts", ("totp_last_step",))


def _record(conn: Connection) -> None:
    """Issue 13: the distribution record reads a mailing's deliveries in pages by id and
    looks up their bounce events.

    IF NOT EXISTS: a fresh database has the indexes from the baseline already."""
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_deliveries_mailing_id ON deliveries (mailing_id, id)"
    )
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_bounce_events_delivery_id ON bounce_events (delivery_id)"
    )


def _welcome(conn: Connection) -> None:
    """Issue 13: the key of a system mail that may exist once (the welcome mail of a
    list, per subscriber), unique, so two confirmations or imports record one mail.

    ``add_missing_columns`` and IF NOT EXISTS: a fresh database has both already.
    """
    add_missing_columns(conn, "system_mail", ("once_key",))
    conn.exec_driver_sql(
        "CREATE UNIQUE INDEX IF NOT EXISTS ix_system_mail_once_key ON system_mail (once_key)"
    )


def _segments(conn: Connection) -> None:
    """Issue 13: a mailing may target a segment of its lists (its name and condition);
    on PostgreSQL subscribers' attributes become jsonb, which a segment reads without
    parsing the text again for every key it tests."""
    add_missing_columns(conn, "mailings", ("segment_name", "segment_where"))
    if conn.dialect.name == "postgresql":
        kind = {c["name"]: c["type"] for c in inspect(conn).get_columns("subscribers")}
        if type(kind["attributes"]).__name__ != "JSONB":
            conn.exec_driver_sql(
                "ALTER TABLE subscribers ALTER COLUMN attributes TYPE jsonb USING attributes::jsonb"
            )


def _embargo(conn: Connection) -> None:
    """Issue 13: the Sperrfrist of a press release apart from its send time.

    Until now ``send_at`` was both; an existing mailing keeps it as its send time (it
    went out, or goes out, then) and has no embargo of its own.
    """
    add_missing_columns(conn, "mailings", ("embargo_at",))


def _saved_segments(conn: Connection) -> None:
    """Issue 13: segments saved by name in the web app, the CLI and the API."""
    schema.saved_segments.create(conn, checkfirst=True)


def _followups(conn: Connection) -> None:
    """Issue 13: follow-ups of a press release (the release they follow, their kind) and
    on each follow-up delivery the Message-ID of the original copy it answers.

    ``add_missing_columns`` and IF NOT EXISTS: a fresh database has them already.
    ``follows_id`` is written out: the compiled column DDL would leave out its foreign
    key (a table constraint), which both back ends accept in ADD COLUMN."""
    present = {c["name"] for c in inspect(conn).get_columns("mailings")}
    if "follows_id" not in present:
        kind = "BIGINT" if conn.dialect.name == "postgresql" else "INTEGER"
        reference = " REFERENCES mailings (id) ON DELETE SET NULL"
        conn.exec_driver_sql(f"ALTER TABLE mailings ADD COLUMN follows_id {kind}{reference}")
    add_missing_columns(conn, "mailings", ("follow_kind",))
    add_missing_columns(conn, "deliveries", ("in_reply_to",))
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_mailings_follows_id ON mailings (follows_id)"
    )
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_deliveries_in_reply_to ON deliveries (in_reply_to)"
    )


def _integrator_ui_language(conn: Connection) -> None:
    """Issue 14: each account chooses the language of the editors' pages."""
    add_missing_columns(conn, "accounts", ("ui_language",))


def _kits(conn: Connection) -> None:
    """Issue 13: the files of a press release's press kit.

    checkfirst: a fresh database has the table from the baseline already."""
    schema.press_files.create(conn, checkfirst=True)


def _kept_forms(conn: Connection) -> None:
    """Issue 14: what was typed into a form when the session had ended survives the log-in;
    a form that acts acts once (its used one-time tokens).

    checkfirst: a fresh database has the table from the baseline already."""
    schema.kept_forms.create(conn, checkfirst=True)
    schema.used_form_tokens.create(conn, checkfirst=True)


MIGRATIONS: list[Migration] = [
    _baseline,
    _fault_handling,
    _web_sessions,
    _ids_never_reused,
    _system_mail,
    _one_lease,
    _accounts,
    _audit,
    _totp_once,
    _record,
    _welcome,
    _segments,
    _embargo,
    _saved_segments,
    _followups,
    _kits,
    _integrator_ui_language,
    _kept_forms,
]


def current_version(conn: Connection) -> int:
    _version_meta.create_all(conn)
    value = conn.execute(select(schema_version.c.version)).scalar()
    return int(value or 0)


def migrate(conn: Connection) -> list[int]:
    """Apply every missing migration in order; return the numbers applied."""
    applied: list[int] = []
    version = current_version(conn)
    for number, migration in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        migration(conn)
        conn.execute(schema_version.delete())
        conn.execute(schema_version.insert().values(version=number))
        applied.append(number)
    return applied


LATEST = len(MIGRATIONS)
