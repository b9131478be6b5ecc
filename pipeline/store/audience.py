"""Queries on subscribers, subscriptions, suppressions and sign-ups.

Callers pass normalised addresses and their hashes (``pipeline.audience.addresses``);
nothing here validates. Functions taking a ``Connection`` run inside the caller's
transaction (an import is one transaction over many chunks); the others open their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from pipeline.models import Recipient
from pipeline.segments import Condition
from pipeline.store import Store
from pipeline.store.schema import (
    bounce_events,
    deliveries,
    legacy_tokens,
    mailings,
    signups,
    subscribers,
    subscriptions,
    suppressions,
)
from pipeline.store.segments import segment_filter

# Deliveries not yet handed to a transport: an unsubscribe or suppression cancels them.
_PENDING_DELIVERY = ("queued", "retry")


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    first_name: str
    last_name: str
    salutation: str
    title: str
    language: str
    attributes: dict[str, str]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Subscription:
    subscriber_id: int
    list_name: str
    status: str  # pending | active | unsubscribed
    source: str
    consent_version: str | None
    signup_at: datetime | None
    signup_ip: str | None
    confirm_sent_at: datetime | None
    confirmed_at: datetime | None
    confirm_ip: str | None
    unsubscribed_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Suppression:
    email_hash: str
    email: str | None
    reason: str
    detail: str | None
    created_at: datetime


@dataclass(frozen=True)
class SubscriberRow:
    """A subscriber with the lists they are on (for listings)."""

    subscriber: Subscriber
    lists: dict[str, str] = field(default_factory=dict)  # list name -> status


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(
        id=row.id,
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        salutation=row.salutation,
        title=row.title,
        language=row.language,
        attributes=dict(row.attributes or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _subscription(row: Any) -> Subscription:
    return Subscription(
        subscriber_id=row.subscriber_id,
        list_name=row.list_name,
        status=row.status,
        source=row.source,
        consent_version=row.consent_version,
        signup_at=row.signup_at,
        signup_ip=row.signup_ip,
        confirm_sent_at=row.confirm_sent_at,
        confirmed_at=row.confirmed_at,
        confirm_ip=row.confirm_ip,
        unsubscribed_at=row.unsubscribed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# --- subscribers -----------------------------------------------------------------------


def find_subscriber(conn: Connection, email: str) -> Subscriber | None:
    row = conn.execute(select(subscribers).where(subscribers.c.email == email)).first()
    return _subscriber(row) if row else None


def get_subscriber(conn: Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).first()
    return _subscriber(row) if row else None


def legacy_token_limit(conn: Connection) -> int:
    """The largest subscriber id a version-1 token may name (0 on a store made new)."""
    return int(conn.execute(select(func.max(legacy_tokens.c.max_subscriber_id))).scalar() or 0)


def create_subscriber(conn: Connection, values: Mapping[str, Any]) -> int:
    result = conn.execute(insert(subscribers).values(**values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def update_subscriber(conn: Connection, subscriber_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(update(subscribers).where(subscribers.c.id == subscriber_id).values(**values))


def ids_by_email(conn: Connection, emails: Sequence[str]) -> dict[str, int]:
    if not emails:
        return {}
    rows = _select_in(conn, "SELECT email, id FROM subscribers WHERE email IN ({})", emails)
    return {r[0]: r[1] for r in rows}


SUBSCRIBER_COLUMNS = (
    "email",
    "email_hash",
    "first_name",
    "last_name",
    "salutation",
    "title",
    "language",
    "attributes",
)
PERSON_COLUMNS = ("first_name", "last_name", "salutation", "title", "language")


def attributes_binder(conn: Connection) -> Callable[[dict[str, str]], Any]:
    """How the bulk writes below want ``attributes``: on SQLite the text Core would store
    (so an import can compare it with the stored text instead of decoding every row),
    elsewhere the dict (Core binds it)."""
    process = _bind(conn, subscribers, "attributes") if conn.dialect.name == "sqlite" else None
    return process if process is not None else dict


def decode_attributes(raw: Any) -> dict[str, str]:
    """Stored attributes as a dict: SQLite hands JSON back as text, PostgreSQL's driver
    as a dict."""
    return dict(json.loads(raw) if isinstance(raw, str) else raw or {})


_MAX_ROWID = 2**63 - 1


def insert_subscribers(
    conn: Connection, rows: Sequence[tuple[Any, ...]], *, at: datetime
) -> dict[str, int]:
    """Insert many subscribers (tuples in the order of ``SUBSCRIBER_COLUMNS``, attributes
    as ``attributes_binder`` makes them); their ids by address."""
    if not rows:
        return {}
    constants = {"created_at": at, "updated_at": at}
    if conn.dialect.name != "sqlite":
        _insert_many(conn, subscribers, SUBSCRIBER_COLUMNS, rows, constants)
        return ids_by_email(conn, [r[0] for r in rows])
    # AUTOINCREMENT: the next id follows the largest ever given (sqlite_sequence), which
    # is above max(id) once the newest subscriber was erased.
    before = (
        conn.exec_driver_sql(
            "SELECT max(coalesce((SELECT max(id) FROM subscribers), 0),"
            " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'subscribers'), 0))"
        ).scalar()
        or 0
    )
    columns = [*SUBSCRIBER_COLUMNS, *constants]
    sql = f"INSERT INTO subscribers ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    fixed = _bound_constants(conn, subscribers, constants)
    conn.exec_driver_sql(sql, [r + fixed for r in rows])
    # SQLite gives each new row the largest id ever given plus one (AUTOINCREMENT; it
    # fails rather than reuse once the largest possible one is taken), and the
    # transaction holds the write lock: the rows got the next ids in order. Checked at both ends all the same; else look up.
    first, last = before + 1, before + len(rows)
    if last < _MAX_ROWID:
        check = conn.exec_driver_sql(
            "SELECT (SELECT email FROM subscribers WHERE id = ?), max(id) FROM subscribers",
            (first,),
        ).one()
        if tuple(check) == (rows[0][0], last):
            return {r[0]: i for i, r in enumerate(rows, start=first)}
    return ids_by_email(conn, [r[0] for r in rows])


def existing_for_import(
    conn: Connection, emails: Sequence[str], columns: Sequence[str], list_names: Sequence[str]
) -> dict[str, tuple[int, tuple[Any, ...], Any, dict[str, str]]]:
    """``{email: (id, values of columns, attributes, {list: status})}`` for the addresses
    already stored: attributes as the driver returns them (text on SQLite), statuses of
    the subscriptions to ``list_names``. One query for both (a join on the unique
    subscriber/list index)."""
    if not emails:
        return {}
    mark = _mark(conn)
    wanted = ", ".join([mark] * len(list_names)) if list_names else "NULL"
    selected = "".join(f"s.{c}, " for c in columns)
    sql = (
        f"SELECT s.email, s.id, {selected}s.attributes, b.list_name, b.status "
        "FROM subscribers s LEFT JOIN subscriptions b "
        f"ON b.subscriber_id = s.id AND b.list_name IN ({wanted}) "
        f"WHERE s.email IN ({', '.join([mark] * len(emails))})"
    )
    rows = conn.exec_driver_sql(sql, (*list_names, *emails)).all()
    width = len(columns)
    out: dict[str, tuple[int, tuple[Any, ...], Any, dict[str, str]]] = {}
    for r in rows:
        found = out.get(r[0])
        if found is None:
            found = out[r[0]] = (r[1], r[2 : 2 + width], r[2 + width], {})
        if r[-2] is not None:
            found[3][r[-2]] = r[-1]
    return out


def update_subscribers_columns(
    conn: Connection, rows: Sequence[tuple[Any, ...]], columns: Sequence[str], at: datetime
) -> None:
    """Set ``columns`` of many subscribers: tuples of those values then the id (attributes
    as ``attributes_binder`` makes them)."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        core = [
            {"b_id": r[-1], **dict(zip(columns, r, strict=False)), "updated_at": at} for r in rows
        ]
        conn.execute(update(subscribers).where(subscribers.c.id == bindparam("b_id")), core)
        return
    assignments = ", ".join(f"{name} = ?" for name in [*columns, "updated_at"])
    sql = f"UPDATE {subscribers.name} SET {assignments} WHERE id = ?"
    (stamp,) = _bound_constants(conn, subscribers, {"updated_at": at})
    conn.exec_driver_sql(sql, [(*r[:-1], stamp, r[-1]) for r in rows])


# --- the addresses an import has seen (in-file duplicates) -----------------------------
# A temporary table of the transaction, not a dict: a 1,000,000-row file would hold every
# address in memory. Keyed by 64 bits of the address's hash (an integer key is the
# fastest index), with the address beside it so a shared key is never taken for a
# duplicate.

_SEEN = "import_seen"


def start_seen(conn: Connection) -> None:
    """An empty table of seen addresses for this transaction."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{_SEEN}")
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE {_SEEN} "
            "(key INTEGER PRIMARY KEY, email TEXT NOT NULL, line INTEGER NOT NULL)"
        )
    else:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{_SEEN}")
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE {_SEEN} "
            "(key BIGINT PRIMARY KEY, email TEXT NOT NULL, line INTEGER NOT NULL) ON COMMIT DROP"
        )


def end_seen(conn: Connection) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_SEEN}")


def seen_among(conn: Connection, keys: Sequence[int]) -> dict[int, tuple[str, int]]:
    """``{key: (address, line)}`` of the keys already recorded."""
    if not keys:
        return {}
    rows = _select_in(conn, f"SELECT key, email, line FROM {_SEEN} WHERE key IN ({{}})", keys)
    return {r[0]: (r[1], r[2]) for r in rows}


def record_seen(conn: Connection, rows: Sequence[tuple[int, str, int]]) -> None:
    """Record ``(key, address, line)``; the keys are new."""
    if rows:
        marks = ", ".join([_mark(conn)] * 3)
        conn.exec_driver_sql(f"INSERT INTO {_SEEN} (key, email, line) VALUES ({marks})", rows)


# Imports write thousands of rows a second: on SQLite these go straight to the driver's
# executemany with each column's bind processing done by SQLAlchemy's own processors (so
# values are stored exactly as Core would store them), skipping Core's per-row statement
# machinery. PostgreSQL's driver adapts types (JSON) itself: it takes the Core path.


def _select_in(conn: Connection, sql: str, values: Sequence[Any]) -> list[Any]:
    """Run ``sql`` with its ``IN ({})`` filled with one placeholder per value (plain SQL:
    an import asks this for every chunk of 1,000 rows)."""
    marks = ", ".join([_mark(conn)] * len(values))
    return list(conn.exec_driver_sql(sql.format(marks), tuple(values)).all())


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _bind(conn: Connection, table: Any, name: str) -> Any:
    # dialect_impl: the back end's own type (SQLite's DATETIME writes its fixed text form).
    return table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)


def _bound_constants(conn: Connection, table: Any, constants: Mapping[str, Any]) -> tuple[Any, ...]:
    """The values every row shares, bound once as Core would bind them."""
    return tuple(
        (process(value) if (process := _bind(conn, table, name)) else value)
        for name, value in constants.items()
    )


def _insert_many(
    conn: Connection,
    table: Any,
    names: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    constants: Mapping[str, Any],
) -> None:
    if not rows:
        return
    if conn.dialect.name != "sqlite":  # PostgreSQL: Core's insertmanyvalues
        conn.execute(
            insert(table), [{**dict(zip(names, r, strict=True)), **constants} for r in rows]
        )
        return
    columns = [*names, *constants]
    marks = ", ".join([_mark(conn)] * len(columns))
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
    fixed = _bound_constants(conn, table, constants)
    procs = [(i, p) for i, n in enumerate(names) if (p := _bind(conn, table, n))]
    if procs:
        rows = [_processed(r, procs) for r in rows]
    conn.exec_driver_sql(sql, [r + fixed for r in rows])


def _processed(row: tuple[Any, ...], procs: Sequence[tuple[int, Any]]) -> tuple[Any, ...]:
    values = list(row)
    for i, process in procs:
        values[i] = process(values[i])
    return tuple(values)


def list_subscribers(
    store: Store,
    *,
    list_name: str | None = None,
    status: str | None = None,
    after_id: int = 0,
    limit: int = 100,
    search: str | None = None,
    segment: Condition | None = None,
) -> list[SubscriberRow]:
    """Subscribers in id order (keyset: pass the last id seen as ``after_id``);
    ``search``: part of the address or the name (any case); ``segment``: only those it
    holds for (their attributes)."""
    query = select(subscribers).where(subscribers.c.id > after_id)
    if search and search.strip():
        escaped = search.strip().lower()
        for char in ("\\", "%", "_"):
            escaped = escaped.replace(char, "\\" + char)
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        subscribers.c.email,
                        subscribers.c.first_name,
                        subscribers.c.last_name,
                    )
                )
            )
        )
    if list_name or status:
        cond = [subscriptions.c.subscriber_id == subscribers.c.id]
        if list_name:
            cond.append(subscriptions.c.list_name == list_name)
        if status:
            cond.append(subscriptions.c.status == status)
        query = query.where(exists().where(and_(*cond)))
    with store.connect() as conn:
        if segment is not None:
            query = query.where(segment_filter(segment, conn.dialect.name))
        query = query.order_by(subscribers.c.id).limit(limit)
        people = [_subscriber(r) for r in conn.execute(query)]
        lists = _lists_of(conn, [p.id for p in people])
    return [SubscriberRow(p, lists.get(p.id, {})) for p in people]


def _lists_of(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    if not ids:
        return out
    rows = conn.execute(
        select(subscriptions.c.subscriber_id, subscriptions.c.list_name, subscriptions.c.status)
        .where(subscriptions.c.subscriber_id.in_(ids))
        .order_by(subscriptions.c.list_name)
    )
    for r in rows:
        out.setdefault(r.subscriber_id, {})[r.list_name] = r.status
    return out


def count_subscriptions(store: Store) -> dict[str, dict[str, int]]:
    """``{list: {status: n}}`` over every subscription."""
    query = select(
        subscriptions.c.list_name, subscriptions.c.status, func.count().label("n")
    ).group_by(subscriptions.c.list_name, subscriptions.c.status)
    out: dict[str, dict[str, int]] = {}
    with store.connect() as conn:
        for r in conn.execute(query):
            out.setdefault(r.list_name, {})[r.status] = int(r.n)
    return out


@dataclass(frozen=True)
class PendingSignup:
    subscriber: Subscriber
    list_name: str
    signup_at: datetime | None
    confirm_sent_at: datetime | None


def pending_signups(store: Store, *, limit: int = 200) -> list[PendingSignup]:
    """Subscriptions waiting for their confirmation, the oldest sign-up first."""
    query = (
        select(
            subscribers,
            subscriptions.c.list_name.label("pending_list"),
            subscriptions.c.signup_at.label("pending_signup_at"),
            subscriptions.c.confirm_sent_at.label("pending_confirm_sent_at"),
        )
        .select_from(
            subscriptions.join(subscribers, subscribers.c.id == subscriptions.c.subscriber_id)
        )
        .where(subscriptions.c.status == "pending")
        .order_by(subscriptions.c.signup_at, subscriptions.c.subscriber_id)
        .limit(limit)
    )
    with store.connect() as conn:
        return [
            PendingSignup(
                _subscriber(r),
                r.pending_list,
                r.pending_signup_at,
                r.pending_confirm_sent_at,
            )
            for r in conn.execute(query)
        ]


def list_sizes_at(store: Store, instants: Sequence[datetime]) -> dict[str, list[int]]:
    """``{list: [receiving at instants[0], …]}``: one scan of the subscriptions.

    A subscription counts from its confirmation (an import confirms at once) until its
    unsubscription; one never confirmed never counted. Erased people are gone from
    every month (erasure removes the rows: that is the point of it).
    """
    started = subscriptions.c.confirmed_at
    ended = subscriptions.c.unsubscribed_at
    columns = [
        func.sum(case((and_(started <= at, or_(ended.is_(None), ended > at)), 1), else_=0)).label(
            f"at{i}"
        )
        for i, at in enumerate(instants)
    ]
    query = (
        select(subscriptions.c.list_name, *columns)
        .where(started.is_not(None))
        .group_by(subscriptions.c.list_name)
    )
    out: dict[str, list[int]] = {}
    if not instants:
        return out
    with store.connect() as conn:
        for row in conn.execute(query):
            out[row.list_name] = [int(row[i + 1] or 0) for i in range(len(instants))]
    return out


def count_subscribers(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(subscribers)).scalar() or 0)


def delete_subscriber(conn: Connection, subscriber_id: int) -> None:
    conn.execute(delete(subscriptions).where(subscriptions.c.subscriber_id == subscriber_id))
    conn.execute(delete(subscribers).where(subscribers.c.id == subscriber_id))


# --- subscriptions ---------------------------------------------------------------------


def subscriptions_of(conn: Connection, subscriber_id: int) -> list[Subscription]:
    rows = conn.execute(
        select(subscriptions)
        .where(subscriptions.c.subscriber_id == subscriber_id)
        .order_by(subscriptions.c.list_name)
    )
    return [_subscription(r) for r in rows]


def get_subscription(conn: Connection, subscriber_id: int, list_name: str) -> Subscription | None:
    row = conn.execute(
        select(subscriptions).where(
            subscriptions.c.subscriber_id == subscriber_id,
            subscriptions.c.list_name == list_name,
        )
    ).first()
    return _subscription(row) if row else None


def insert_subscriptions(
    conn: Connection,
    rows: Sequence[tuple[int, str]],
    *,
    status: str,
    source: str,
    at: datetime,
) -> None:
    """Insert many subscriptions ``(subscriber_id, list_name)`` sharing status, source and
    time (as signed up and confirmed)."""
    constants = {
        "status": status,
        "source": source,
        "signup_at": at,
        "confirmed_at": at,
        "created_at": at,
        "updated_at": at,
    }
    if conn.dialect.name != "sqlite" or not rows:
        _insert_many(conn, subscriptions, ("subscriber_id", "list_name"), rows, constants)
        return
    # One statement per list, the ids passed as one JSON array: SQLite inserts them all
    # in one step, without a Python round per row.
    by_list: dict[str, list[int]] = {}
    for subscriber_id, list_name in rows:
        by_list.setdefault(list_name, []).append(subscriber_id)
    names = ", ".join(constants)
    marks = ", ".join("?" * len(constants))
    sql = (
        f"INSERT INTO subscriptions (subscriber_id, list_name, {names}) "
        f"SELECT value, ?, {marks} FROM json_each(?)"
    )
    fixed = _bound_constants(conn, subscriptions, constants)
    for list_name, ids in by_list.items():
        conn.exec_driver_sql(sql, (list_name, *fixed, json.dumps(ids)))


def activate_imported(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Pending subscriptions named in an import become active (``b_id``, ``b_list``)."""
    if not rows:
        return
    stmt = (
        update(subscriptions)
        .where(
            subscriptions.c.subscriber_id == bindparam("b_id"),
            subscriptions.c.list_name == bindparam("b_list"),
            subscriptions.c.status == "pending",
        )
        .values(
            status="active",
            source=bindparam("source"),
            confirmed_at=bindparam("updated_at"),
            updated_at=bindparam("updated_at"),
        )
    )
    conn.execute(stmt, list(rows))


def upsert_subscription(
    conn: Connection, subscriber_id: int, list_name: str, values: Mapping[str, Any]
) -> None:
    existing = get_subscription(conn, subscriber_id, list_name)
    if existing is None:
        conn.execute(
            insert(subscriptions).values(subscriber_id=subscriber_id, list_name=list_name, **values)
        )
    else:
        conn.execute(
            update(subscriptions)
            .where(
                subscriptions.c.subscriber_id == subscriber_id,
                subscriptions.c.list_name == list_name,
            )
            .values(**values)
        )


def set_unsubscribed(
    conn: Connection, subscriber_id: int, list_names: Sequence[str] | None, at: datetime
) -> list[str]:
    """Mark subscriptions unsubscribed (all lists when ``list_names`` is None)."""
    cond = [
        subscriptions.c.subscriber_id == subscriber_id,
        subscriptions.c.status != "unsubscribed",
    ]
    if list_names is not None:
        cond.append(subscriptions.c.list_name.in_(list_names))
    changed = [r.list_name for r in conn.execute(select(subscriptions.c.list_name).where(*cond))]
    if changed:
        conn.execute(
            update(subscriptions)
            .where(*cond)
            .values(status="unsubscribed", unsubscribed_at=at, updated_at=at)
        )
    return changed


def has_live_subscription(conn: Connection, subscriber_id: int) -> bool:
    row = conn.execute(
        select(subscriptions.c.id)
        .where(
            subscriptions.c.subscriber_id == subscriber_id,
            subscriptions.c.status.in_(("active", "pending")),
        )
        .limit(1)
    ).first()
    return row is not None


def cancel_pending_deliveries(
    conn: Connection, email: str, list_names: Sequence[str] | None
) -> int:
    """Queued deliveries to ``email`` are marked suppressed: an unsubscribe takes effect
    even for a mailing that is being sent. Rows a worker already claimed may still go
    out (at most the batch in flight)."""
    cond = [deliveries.c.email == email, deliveries.c.status.in_(_PENDING_DELIVERY)]
    if list_names is not None:
        cond.append(deliveries.c.list_name.in_(list_names))
    result = conn.execute(update(deliveries).where(*cond).values(status="suppressed"))
    return int(result.rowcount or 0)


# --- recipients ------------------------------------------------------------------------


def count_recipients(
    conn: Connection, lists: Sequence[str], segment: Condition | None = None
) -> int:
    """How many addresses ``recipient_batch`` would yield for ``lists`` (and ``segment``)
    now."""
    if not lists:
        return 0
    query = select(func.count()).select_from(subscribers).where(*_receiving(conn, lists, segment))
    return int(conn.execute(query).scalar() or 0)


def _receiving(
    conn: Connection, lists: Sequence[str], segment: Condition | None
) -> list[ColumnElement[bool]]:
    """The conditions on ``subscribers`` of a recipient: active on one of ``lists``, not
    suppressed, in ``segment`` (when there is one)."""
    active = and_(
        subscriptions.c.subscriber_id == subscribers.c.id,
        subscriptions.c.list_name.in_(list(lists)),
        subscriptions.c.status == "active",
    )
    suppressed = exists().where(suppressions.c.email_hash == subscribers.c.email_hash)
    conditions = [exists().where(active), ~suppressed]
    if segment is not None:
        conditions.append(segment_filter(segment, conn.dialect.name))
    return conditions


def unsubscribed_after(conn: Connection, mailing_id: int) -> int:
    """Recipients of a mailing who left the list it reached them on after it arrived."""
    query = (
        select(func.count())
        .select_from(deliveries)
        .join(
            subscriptions,
            and_(
                subscriptions.c.subscriber_id == deliveries.c.subscriber_id,
                subscriptions.c.list_name == deliveries.c.list_name,
            ),
        )
        .where(
            deliveries.c.mailing_id == mailing_id,
            deliveries.c.status == "sent",
            subscriptions.c.status == "unsubscribed",
            subscriptions.c.unsubscribed_at >= deliveries.c.sent_at,
        )
    )
    return int(conn.execute(query).scalar() or 0)


def recipient_batch(
    conn: Connection,
    lists: Sequence[str],
    after_id: int,
    limit: int,
    segment: Condition | None = None,
) -> list[Recipient]:
    """The next ``limit`` recipients after subscriber ``after_id``: active on one of
    ``lists``, not suppressed, in ``segment`` if given, once per address. ``list_name``
    is the first of ``lists`` (in the caller's order) that the person is on."""
    rows = conn.execute(
        select(subscribers)
        .where(subscribers.c.id > after_id, *_receiving(conn, lists, segment))
        .order_by(subscribers.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    on: dict[int, set[str]] = {}
    for r in conn.execute(
        select(subscriptions.c.subscriber_id, subscriptions.c.list_name).where(
            subscriptions.c.subscriber_id.in_(ids),
            subscriptions.c.list_name.in_(lists),
            subscriptions.c.status == "active",
        )
    ):
        on.setdefault(r.subscriber_id, set()).add(r.list_name)
    out: list[Recipient] = []
    for r in rows:
        mine = on.get(r.id, set())
        list_name = next((name for name in lists if name in mine), lists[0])
        out.append(
            Recipient(
                subscriber_id=r.id,
                email=r.email,
                list_name=list_name,
                first_name=r.first_name,
                last_name=r.last_name,
                salutation=r.salutation,
                title=r.title,
                language=r.language,
                attributes={str(k): str(v) for k, v in (r.attributes or {}).items()},
            )
        )
    return out


def is_receiving(conn: Connection, email: str, email_hash: str, list_name: str) -> bool:
    """Whether ``email`` may get a mail of ``list_name`` right now."""
    if is_hash_suppressed(conn, email_hash):
        return False
    row = conn.execute(
        select(subscriptions.c.id)
        .join(subscribers, subscribers.c.id == subscriptions.c.subscriber_id)
        .where(
            subscribers.c.email == email,
            subscriptions.c.list_name == list_name,
            subscriptions.c.status == "active",
        )
    ).first()
    return row is not None


# --- suppressions ----------------------------------------------------------------------


def is_hash_suppressed(conn: Connection, email_hash: str) -> bool:
    row = conn.execute(
        select(suppressions.c.id).where(suppressions.c.email_hash == email_hash)
    ).first()
    return row is not None


def get_suppression(conn: Connection, email_hash: str) -> Suppression | None:
    row = conn.execute(select(suppressions).where(suppressions.c.email_hash == email_hash)).first()
    if row is None:
        return None
    return Suppression(row.email_hash, row.email, row.reason, row.detail, row.created_at)


def suppressed_among(conn: Connection, hashes: Sequence[str]) -> dict[str, str]:
    """``{hash: reason}`` for the hashes on the suppression list."""
    if not hashes:
        return {}
    rows = _select_in(
        conn, "SELECT email_hash, reason FROM suppressions WHERE email_hash IN ({})", hashes
    )
    return {r[0]: r[1] for r in rows}


def add_suppression(
    conn: Connection,
    *,
    email_hash: str,
    email: str | None,
    reason: str,
    detail: str | None,
    at: datetime,
) -> bool:
    """Insert a suppression; False (and nothing changed) when the hash is already there."""
    if is_hash_suppressed(conn, email_hash):
        return False
    conn.execute(
        insert(suppressions).values(
            email_hash=email_hash, email=email, reason=reason, detail=detail, created_at=at
        )
    )
    return True


def remove_suppression(conn: Connection, email_hash: str) -> None:
    conn.execute(delete(suppressions).where(suppressions.c.email_hash == email_hash))


def scrub_suppression(conn: Connection, email_hash: str, detail: str) -> None:
    conn.execute(
        update(suppressions)
        .where(suppressions.c.email_hash == email_hash)
        .values(email=None, detail=detail)
    )


def count_suppressions(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(suppressions)).scalar() or 0)


# --- sign-ups (rate limit) -------------------------------------------------------------


def count_signups(conn: Connection, ip: str, since: datetime) -> int:
    query = select(func.count()).where(signups.c.ip == ip, signups.c.at >= since)
    return int(conn.execute(query.select_from(signups)).scalar() or 0)


def oldest_signup(conn: Connection, ip: str, since: datetime) -> datetime | None:
    query = select(func.min(signups.c.at)).where(signups.c.ip == ip, signups.c.at >= since)
    value = conn.execute(query).scalar()
    return value if isinstance(value, datetime) else None


def record_signup(conn: Connection, ip: str, at: datetime) -> None:
    conn.execute(insert(signups).values(ip=ip, at=at))


def purge_signups(conn: Connection, before: datetime) -> None:
    """IP addresses are personal data: keep them only as long as the rate limit needs."""
    conn.execute(delete(signups).where(signups.c.at < before))


# --- privacy ---------------------------------------------------------------------------


def delivery_history(conn: Connection, email: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            deliveries.c.id,
            deliveries.c.mailing_id,
            mailings.c.kind,
            mailings.c.subject,
            deliveries.c.list_name,
            deliveries.c.language,
            deliveries.c.status,
            deliveries.c.attempts,
            deliveries.c.last_error,
            deliveries.c.message_id,
            deliveries.c.sent_at,
            deliveries.c.created_at,
        )
        .select_from(deliveries.outerjoin(mailings, mailings.c.id == deliveries.c.mailing_id))
        .where(deliveries.c.email == email)
        .order_by(deliveries.c.id)
    )
    return [dict(r._mapping) for r in rows]


def bounce_history(conn: Connection, email_hash: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            bounce_events.c.kind,
            bounce_events.c.status_code,
            bounce_events.c.detail,
            bounce_events.c.source,
            bounce_events.c.received_at,
        )
        .where(bounce_events.c.email_hash == email_hash)
        .order_by(bounce_events.c.id)
    )
    return [dict(r._mapping) for r in rows]


def scrub_deliveries(conn: Connection, email: str) -> int:
    """Remove the address from the outbox: rows stay (mailing statistics) but no longer
    name anyone; pending ones are cancelled."""
    ids = [r.id for r in conn.execute(select(deliveries.c.id).where(deliveries.c.email == email))]
    for delivery_id in ids:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(email=f"erased:{delivery_id}", subscriber_id=None, last_error=None)
        )
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(ids), deliveries.c.status.in_(_PENDING_DELIVERY))
        .values(status="suppressed")
    )
    return len(ids)


def scrub_bounces(conn: Connection, email_hash: str) -> None:
    # Bounce texts quote the address; the events stay (counts) without the text.
    conn.execute(
        update(bounce_events).where(bounce_events.c.email_hash == email_hash).values(detail=None)
    )
