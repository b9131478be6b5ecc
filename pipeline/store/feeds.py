"""Queries for table ``feeds``: syncing with config.toml, fetch state, failures.

A feed row is keyed by its ``name`` from config.toml. ``config_url`` is the URL as
configured and ``url`` where it is fetched now: a permanent redirect moves ``url``; a
change in the configuration resets both (and clears the fetch state, a 410 disable and
the failure count, since the operator has acted).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from pipeline.models import FeedState
from pipeline.store import Store
from pipeline.store.schema import feeds


@dataclass(frozen=True)
class ConfiguredFeed:
    """A ``[[feeds]]`` entry with its URL resolved (paths made absolute)."""

    name: str
    url: str
    kind: str
    enabled: bool = True
    language: str = ""


def sync_feeds(store: Store, configured: Sequence[ConfiguredFeed], *, now: datetime) -> None:
    """Make table ``feeds`` match the configuration: add, update, mark removed ones."""
    wanted = {feed.name: feed for feed in configured}
    with store.begin() as conn:
        rows = {row.name: row for row in conn.execute(select(feeds))}
        for name, feed in wanted.items():
            row = rows.get(name)
            if row is None:
                conn.execute(
                    feeds.insert().values(
                        name=name,
                        url=feed.url,
                        config_url=feed.url,
                        kind=feed.kind,
                        language=feed.language,
                        in_config=True,
                        enabled=feed.enabled,
                        failures=0,
                        flagged=False,
                        created_at=now,
                        updated_at=now,
                    )
                )
                continue
            values: dict[str, Any] = {}
            if row.config_url != feed.url:
                values |= {
                    "url": feed.url,
                    "config_url": feed.url,
                    "etag": None,
                    "last_modified": None,
                    "body_hash": None,
                    "disabled_reason": None,
                    "failures": 0,
                    "flagged": False,
                    "last_error": None,
                }
            for key, value in (
                ("kind", feed.kind),
                ("language", feed.language),
                ("enabled", feed.enabled),
                ("in_config", True),
            ):
                if getattr(row, key) != value:
                    values[key] = value
            if values:
                conn.execute(
                    feeds.update().where(feeds.c.id == row.id).values(**values, updated_at=now)
                )
        for name, row in rows.items():
            if name not in wanted and row.in_config:
                conn.execute(
                    feeds.update()
                    .where(feeds.c.id == row.id)
                    .values(in_config=False, updated_at=now)
                )


def list_feeds(store: Store, *, names: Iterable[str] | None = None) -> list[FeedState]:
    """Every feed (configured ones first, then removed ones), by name."""
    query = select(feeds).order_by(feeds.c.in_config.desc(), feeds.c.name)
    if names is not None:
        query = query.where(feeds.c.name.in_(list(names)))
    with store.connect() as conn:
        return [_state(row) for row in conn.execute(query)]


def get_feed(store: Store, name: str) -> FeedState | None:
    found = list_feeds(store, names=[name])
    return found[0] if found else None


def record_success(
    conn: Connection,
    feed_id: int,
    *,
    now: datetime,
    status: str,
    url: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    body_hash: str | None = None,
    title: str | None = None,
) -> None:
    """A fetch that worked (``ok`` or ``not_modified``): the failure streak ends."""
    values: dict[str, Any] = {
        "last_fetched_at": now,
        "last_success_at": now,
        "last_status": status,
        "failures": 0,
        "flagged": False,
        "last_error": None,
        "updated_at": now,
    }
    if url:
        values["url"] = url
    if status == "ok" or etag or last_modified:
        values["etag"] = etag
        values["last_modified"] = last_modified
    if body_hash is not None:
        values["body_hash"] = body_hash
    if title:
        values["title"] = title
    conn.execute(feeds.update().where(feeds.c.id == feed_id).values(**values))


def record_failure(
    store: Store,
    feed_id: int,
    error: str,
    *,
    now: datetime,
    flag_after: int,
    disable: bool = False,
) -> FeedState:
    """Count one more consecutive failure; flag the feed past ``flag_after`` of them."""
    with store.begin() as conn:
        row = conn.execute(select(feeds).where(feeds.c.id == feed_id)).one()
        failures = int(row.failures or 0) + 1
        values: dict[str, Any] = {
            "failures": failures,
            "last_error": error,
            "last_status": "error",
            "last_fetched_at": now,
            "flagged": failures >= flag_after,
            "updated_at": now,
        }
        if disable:
            values["disabled_reason"] = error
        conn.execute(feeds.update().where(feeds.c.id == feed_id).values(**values))
        return _state(conn.execute(select(feeds).where(feeds.c.id == feed_id)).one())


def _state(row: Any) -> FeedState:
    return FeedState(
        id=int(row.id),
        name=row.name,
        url=row.url,
        kind=row.kind,
        enabled=bool(row.enabled),
        etag=row.etag,
        last_modified=row.last_modified,
        last_fetched_at=row.last_fetched_at,
        last_success_at=row.last_success_at,
        failures=int(row.failures or 0),
        last_error=row.last_error,
        flagged=bool(row.flagged),
        disabled_reason=row.disabled_reason,
        title=row.title,
        in_config=bool(row.in_config),
        last_status=row.last_status,
    )


def body_hashes(store: Store, names: Iterable[str]) -> dict[str, str]:
    """Hash of the last body parsed per feed name (feeds never parsed are left out)."""
    query = select(feeds.c.name, feeds.c.body_hash).where(
        feeds.c.name.in_(list(names)), feeds.c.body_hash.is_not(None)
    )
    with store.connect() as conn:
        return {row.name: row.body_hash for row in conn.execute(query)}
