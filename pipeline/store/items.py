"""Queries for table ``items``: what collect writes, what compose and the CLI read.

Writes come in batches, one transaction per feed (``insert_items``/``update_items``
with executemany): a feed's 200 entries cost one commit, not 200. New items go
straight to the driver's ``executemany`` with parameters converted by the columns' own
SQLAlchemy bind processors: the same values Core would write, without its per-row
statement machinery (most of the cost of a 10,000-item collect's inserts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, or_, select

from pipeline.models import Item, StoredItem
from pipeline.store import Store
from pipeline.store.schema import feeds, items

_CHUNK = 500  # bound the IN lists (SQLite's variable limit, PostgreSQL's plan cache)

_INSERTED = (
    "identity",
    "canonical_link",
    "feed_id",
    "kind",
    "title",
    "link",
    "summary",
    "content_html",
    "image_url",
    "image_alt",
    "image_credit",
    "author",
    "published_at",
    "source_updated_at",
    "tags",
    "language",
    "content_hash",
    "eligible",
    "first_seen_at",
    "updated_at",
)
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}

_UPDATABLE = (
    "canonical_link",
    "kind",
    "title",
    "link",
    "summary",
    "content_html",
    "image_url",
    "image_alt",
    "image_credit",
    "author",
    "published_at",
    "source_updated_at",
    "tags",
    "language",
    "content_hash",
    "feed_id",
    "updated_at",
)


def stored_for(
    conn: Connection, identities: Iterable[str], links: Iterable[str]
) -> list[StoredItem]:
    """Items already stored under any of these identities or canonical links."""
    ids = sorted(set(identities))
    urls = sorted(set(links))
    found: dict[int, StoredItem] = {}
    cols = (
        items.c.id,
        items.c.identity,
        items.c.canonical_link,
        items.c.feed_id,
        items.c.content_hash,
    )
    for column, values in ((items.c.identity, ids), (items.c.canonical_link, urls)):
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            for row in conn.execute(select(*cols).where(column.in_(chunk))):
                found[row.id] = StoredItem(
                    id=int(row.id),
                    identity=row.identity,
                    canonical_link=row.canonical_link,
                    feed_id=None if row.feed_id is None else int(row.feed_id),
                    content_hash=row.content_hash,
                )
    # identity matches win over link matches: list them last so they overwrite
    return sorted(found.values(), key=lambda item: item.identity in ids)


def insert_items(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert new items; every row carries all the ``_INSERTED`` columns."""
    if not rows:
        return
    dialect = conn.dialect
    placeholder = _PLACEHOLDERS.get(dialect.paramstyle)
    if placeholder is None:  # a driver we have not met: let Core do it
        conn.execute(items.insert(), [{k: row[k] for k in _INSERTED} for row in rows])
        return
    processors = [
        items.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in _INSERTED
    ]
    first = rows[0]
    # Per-feed values (feed, kind, run time) are the same object in every row: convert
    # those once, the others row by row.
    same = [
        (i, process(first[name]) if process else first[name])
        for i, (name, process) in enumerate(zip(_INSERTED, processors, strict=True))
        if all(row[name] is first[name] for row in rows)
    ]
    fixed = {i for i, _ in same}
    varying = [(i, p) for i, p in enumerate(processors) if p is not None and i not in fixed]
    values = itemgetter(*_INSERTED)
    params = []
    for row in rows:
        param = list(values(row))
        for i, process in varying:
            param[i] = process(param[i])
        for i, value in same:
            param[i] = value
        params.append(tuple(param))
    statement = (
        f"INSERT INTO {items.name} ({', '.join(_INSERTED)}) "
        f"VALUES ({', '.join([placeholder] * len(_INSERTED))})"
    )
    conn.exec_driver_sql(statement, params)


def create_item(store: Store, row: Mapping[str, Any]) -> int:
    """Insert one item (every ``_INSERTED`` column) and return its id: a press release
    written in Rundbrief rather than collected from a feed."""
    with store.begin() as conn:
        new_id = conn.execute(
            items.insert().values(**{k: row[k] for k in _INSERTED}).returning(items.c.id)
        ).scalar_one()
    return int(new_id)


def update_items(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows carry ``id`` plus the ``_UPDATABLE`` columns."""
    if not rows:
        return
    statement = (
        items.update()
        .where(items.c.id == bindparam("item_id"))
        .values({name: bindparam(name) for name in _UPDATABLE})
    )
    params = [{"item_id": row["id"], **{k: row[k] for k in _UPDATABLE}} for row in rows]
    conn.execute(statement, params)


def list_items(
    store: Store,
    *,
    kind: str | None = None,
    since: datetime | date | None = None,
    ids: Iterable[int] | None = None,
    eligible_only: bool = False,
    now: datetime | None = None,
    feed: str | None = None,
    limit: int | None = None,
) -> list[Item]:
    """Items, newest first.

    ``since`` compares with the publication date (a date means its start, UTC).
    ``eligible_only`` leaves out items recorded as backfill and items dated after
    ``now`` (pass the clock's time; the system clock is used without it).
    """
    query = _select()
    if kind is not None:
        query = query.where(items.c.kind == kind)
    if since is not None:
        query = query.where(items.c.published_at >= _instant(since))
    if ids is not None:
        wanted = list(ids)
        if not wanted:
            return []
        query = query.where(items.c.id.in_(wanted))
    if eligible_only:
        moment = now or datetime.now(UTC)
        query = query.where(
            items.c.eligible.is_(True),
            or_(items.c.published_at.is_(None), items.c.published_at <= moment),
        )
    if feed is not None:
        query = query.where(feeds.c.name == feed)
    query = query.order_by(items.c.published_at.desc(), items.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    with store.connect() as conn:
        return [_item(row) for row in conn.execute(query)]


def page_items(
    store: Store,
    *,
    before_id: int | None = None,
    limit: int = 50,
    query: str | None = None,
    kind: str | None = None,
) -> list[Item]:
    """Items newest id first, keyset-paged (pass the last id seen as ``before_id``);
    ``query``: the words must all appear in the title or the summary (any case)."""
    select_ = _select()
    if before_id is not None:
        select_ = select_.where(items.c.id < before_id)
    if kind is not None:
        select_ = select_.where(items.c.kind == kind)
    for word in (query or "").split():
        pattern = f"%{_like_escape(word.lower())}%"
        select_ = select_.where(
            or_(
                func.lower(items.c.title).like(pattern, escape="\\"),
                func.lower(items.c.summary).like(pattern, escape="\\"),
            )
        )
    select_ = select_.order_by(items.c.id.desc()).limit(limit)
    with store.connect() as conn:
        return [_item(row) for row in conn.execute(select_)]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_item(store: Store, item_id: int) -> Item | None:
    with store.connect() as conn:
        row = conn.execute(_select().where(items.c.id == item_id)).first()
    return _item(row) if row is not None else None


def count_items(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(items)).scalar() or 0)


def _select() -> Select[Any]:
    return select(items, feeds.c.name.label("feed_name")).select_from(
        items.outerjoin(feeds, items.c.feed_id == feeds.c.id)
    )


def _instant(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


def _item(row: Any) -> Item:
    tags = row.tags or []
    return Item(
        id=int(row.id),
        identity=row.identity,
        feed=row.feed_name,
        kind=row.kind,
        title=row.title,
        link=row.link,
        summary=row.summary,
        content_html=row.content_html,
        image_url=row.image_url,
        image_alt=row.image_alt,
        image_credit=row.image_credit,
        author=row.author,
        published_at=row.published_at,
        updated_at=row.source_updated_at,
        tags=tuple(str(t) for t in tags),
        language=row.language,
        eligible=bool(row.eligible),
    )
