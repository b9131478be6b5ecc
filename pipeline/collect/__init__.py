"""Collect: feeds → items. The public API is ``collect`` and its ``CollectReport``.

The flow of one run::

    config [[feeds]] ──sync──▶ table feeds (add / update / mark removed)
          │
          ▼  fetch concurrently (collect.concurrency threads, one requests session)
    fetch.fetch_all ──▶ FetchResult | FeedError, as each completes
          │  one feed at a time from here:
          ├─ 304, or a body identical to the last one ──▶ not_modified (nothing parsed)
          ├─ error ──▶ failures + 1, last_error; flagged past collect.failures_before_flag;
          │            410 disables the feed. The other feeds go on.
          ▼
    parse.parse_feed ──▶ ParsedFeed(EntryData…)          (bytes → raw entries)
    decide.identify  ──▶ identity, canonical link, hash  (pure)
    decide.plan_feed ──▶ new / update / unchanged / duplicate, eligibility (pure)
    sanitize.clean_entry, only for new and changed entries (nh3, lead image, credit)
    store: insert + update the items and record the feed's success in ONE transaction

Stages never call each other: compose reads what this wrote through
``pipeline.store.items.list_items``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from pipeline.clock import Clock
from pipeline.collect.decide import ItemIntent, Plan, identify, plan_feed
from pipeline.collect.fetch import FeedGone, FetchRequest, FetchResult, fetch_all, make_session
from pipeline.collect.parse import ParsedFeed, parse_feed
from pipeline.collect.sanitize import Sanitizer, clean_entry
from pipeline.config import Settings
from pipeline.errors import FeedError
from pipeline.models import FeedState
from pipeline.store import Store
from pipeline.store import feeds as feed_store
from pipeline.store import items as item_store

log = logging.getLogger(__name__)

Status = Literal["ok", "not_modified", "error"]


@dataclass(frozen=True)
class FeedOutcome:
    name: str
    status: Status
    new: int = 0
    updated: int = 0
    error: str | None = None
    warning: str | None = None
    unchanged: int = 0
    duplicates: int = 0
    waiting: int = 0
    backfilled: int = 0
    moved_to: str | None = None
    flagged: bool = False

    def as_json(self) -> dict[str, Any]:
        """The shape ``collect --json`` prints for each feed."""
        return {
            "name": self.name,
            "status": self.status,
            "new": self.new,
            "updated": self.updated,
            "error": self.error,
        }


@dataclass(frozen=True)
class CollectReport:
    feeds: list[FeedOutcome] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.feeds)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.feeds)

    @property
    def ok(self) -> bool:
        return all(f.status != "error" for f in self.feeds)

    def as_json(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "updated": self.updated,
            "feeds": [f.as_json() for f in self.feeds],
        }


# Called after each feed: (its outcome, feeds done, feeds in this run).
Progress = Callable[[FeedOutcome, int, int], None]


def collect(
    settings: Settings,
    store: Store,
    *,
    clock: Clock,
    feed_names: Iterable[str] | None = None,
    session: requests.Session | None = None,
    progress: Progress | None = None,
) -> CollectReport:
    """Fetch, parse and store every enabled feed (or just ``feed_names``).

    One feed's failure never stops the others: it is recorded on the feed and reported
    in its ``FeedOutcome``. Raises ``ConfigError`` for an unknown feed name.
    """
    configured = sync_configured_feeds(settings, store, clock=clock)
    wanted = None
    if feed_names is not None:
        wanted = list(dict.fromkeys(feed_names))
        for name in wanted:
            settings.feed_named(name)  # ConfigError naming the known feeds
    states = {
        s.name: s
        for s in feed_store.list_feeds(store, names=wanted or [f.name for f in configured])
        if s.in_config and s.enabled and s.disabled_reason is None
    }
    order = [f.name for f in configured if f.name in states]
    kinds = {f.name: f.kind for f in configured}
    own_session = session is None
    http = session or make_session(
        website=settings.organisation.website, pool_size=settings.collect.concurrency
    )
    requests_ = [
        FetchRequest(
            name=name,
            url=states[name].url,
            etag=states[name].etag,
            last_modified=states[name].last_modified,
        )
        for name in order
    ]
    outcomes: dict[str, FeedOutcome] = {}
    sanitizer = Sanitizer()
    body_hashes = _body_hashes(store, order)
    try:
        for req, result in fetch_all(
            requests_,
            session=http,
            timeout=settings.collect.timeout,
            max_bytes=settings.collect.max_bytes,
            concurrency=settings.collect.concurrency,
        ):
            state = states[req.name]
            if isinstance(result, FeedError):
                outcome = _failed(settings, store, state, result, clock=clock)
            else:
                outcome = _guarded_store(
                    settings,
                    store,
                    state,
                    result,
                    kind=kinds[req.name],
                    previous_body=body_hashes.get(req.name),
                    clock=clock,
                    sanitizer=sanitizer,
                )
            outcomes[req.name] = outcome
            if progress is not None:
                progress(outcome, len(outcomes), len(order))
    finally:
        if own_session:
            http.close()
    return CollectReport(feeds=[outcomes[name] for name in order])


def sync_configured_feeds(
    settings: Settings, store: Store, *, clock: Clock
) -> list[feed_store.ConfiguredFeed]:
    """Bring table ``feeds`` in line with ``[[feeds]]`` (paths resolved); return them."""
    configured = [
        feed_store.ConfiguredFeed(
            name=f.name,
            url=_resolve_url(settings, f.url),
            kind=f.kind,
            enabled=f.enabled,
            language=f.language,
        )
        for f in settings.feeds
    ]
    feed_store.sync_feeds(store, configured, now=clock.now())
    return configured


def _guarded_store(
    settings: Settings,
    store: Store,
    state: FeedState,
    result: FetchResult,
    *,
    kind: str,
    previous_body: str | None,
    clock: Clock,
    sanitizer: Sanitizer,
) -> FeedOutcome:
    """``_store_feed``, with anything unexpected recorded as this feed's failure."""
    try:
        return _store_feed(
            settings,
            store,
            state,
            result,
            kind=kind,
            previous_body=previous_body,
            clock=clock,
            sanitizer=sanitizer,
        )
    except Exception as exc:  # a bug or a store error in one feed stops only that feed
        log.exception("storing a feed failed", extra={"feed": state.name})
        error = FeedError(f"cannot store: {exc}", feed=state.name)
        return _failed(settings, store, state, error, clock=clock)


def _store_feed(
    settings: Settings,
    store: Store,
    state: FeedState,
    result: FetchResult,
    *,
    kind: str,
    previous_body: str | None,
    clock: Clock,
    sanitizer: Sanitizer,
) -> FeedOutcome:
    if result.moved_to and result.moved_to != state.url:
        log.warning(
            "feed moved permanently; stored URL updated",
            extra={"feed": state.name, "old_url": state.url, "new_url": result.moved_to},
        )
    new_url = result.moved_to if result.moved_to != state.url else None
    if result.status == "not_modified" or result.body_hash == previous_body:
        with store.begin() as conn:
            feed_store.record_success(
                conn,
                state.id,
                now=clock.now(),
                status="not_modified",
                url=new_url,
                etag=result.etag,
                last_modified=result.last_modified,
            )
        return FeedOutcome(state.name, "not_modified", moved_to=new_url)
    try:
        parsed = parse_feed(
            result.body,
            url=result.moved_to or result.url,
            content_type=result.content_type,
            name=state.name,
        )
    except FeedError as exc:
        return _failed(settings, store, state, exc, clock=clock)
    if parsed.warning:
        log.warning("feed is malformed", extra={"feed": state.name, "problem": parsed.warning})
    now = clock.now()
    identified = [identify(entry, feed_name=state.name) for entry in parsed.entries]
    try:
        with store.begin() as conn:
            stored = item_store.stored_for(
                conn,
                (i.identity for i in identified),
                (i.canonical_link for i in identified if i.canonical_link),
            )
            plan = plan_feed(
                identified,
                stored,
                feed_id=state.id,
                now=now,
                backfill=timedelta(days=settings.collect.backfill_days),
                new_feed=state.last_success_at is None,
            )
            new_rows, update_rows = _rows(
                plan,
                parsed,
                feed_id=state.id,
                kind=kind,
                url=result.moved_to or result.url,
                summary_length=settings.collect.summary_length,
                now=now,
                sanitizer=sanitizer,
                # the feed did not say: [[feeds]] language, else the organisation's
                default_language=settings.feed_named(state.name).language
                or settings.organisation.language,
            )
            item_store.insert_items(conn, new_rows)
            item_store.update_items(conn, update_rows)
            feed_store.record_success(
                conn,
                state.id,
                now=now,
                status="ok",
                url=new_url,
                etag=result.etag,
                last_modified=result.last_modified,
                body_hash=result.body_hash,
                title=parsed.title,
            )
    except FeedError as exc:
        return _failed(settings, store, state, exc, clock=clock)
    log.info(
        "feed collected",
        extra={"feed": state.name, "new": plan.new, "updated": plan.updated},
    )
    return FeedOutcome(
        state.name,
        "ok",
        new=plan.new,
        updated=plan.updated,
        warning=parsed.warning,
        unchanged=plan.unchanged,
        duplicates=plan.duplicates,
        waiting=plan.waiting,
        backfilled=plan.backfilled,
        moved_to=new_url,
    )


def _rows(
    plan: Plan,
    parsed: ParsedFeed,
    *,
    feed_id: int,
    kind: str,
    url: str,
    summary_length: int,
    now: datetime,
    sanitizer: Sanitizer,
    default_language: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    new_rows: list[dict[str, Any]] = []
    update_rows: list[dict[str, Any]] = []
    for intent in plan.intents:
        row = _values(
            intent,
            parsed,
            kind=kind,
            url=url,
            summary_length=summary_length,
            sanitizer=sanitizer,
            default_language=default_language,
        )
        row["feed_id"] = feed_id
        row["updated_at"] = now
        if intent.action == "new":
            row |= {"identity": intent.item.identity, "eligible": intent.eligible}
            row["first_seen_at"] = now
            new_rows.append(row)
        else:
            row["id"] = intent.item_id
            update_rows.append(row)
    return new_rows, update_rows


def _values(
    intent: ItemIntent,
    parsed: ParsedFeed,
    *,
    kind: str,
    url: str,
    summary_length: int,
    sanitizer: Sanitizer,
    default_language: str,
) -> dict[str, Any]:
    entry = intent.item.entry
    clean = clean_entry(
        entry,
        site=parsed.link,
        feed_url=url,
        summary_length=summary_length,
        sanitizer=sanitizer,
    )
    return {
        "canonical_link": intent.item.canonical_link,
        "kind": kind,
        "title": clean.title,
        "link": clean.link,
        "summary": clean.summary,
        "content_html": clean.content_html,
        "image_url": clean.image_url,
        "image_alt": clean.image_alt,
        "image_credit": clean.image_credit,
        "author": clean.author,
        "published_at": intent.published,
        "source_updated_at": entry.updated,
        "tags": list(entry.tags),
        "language": entry.language or parsed.language or default_language,
        "content_hash": intent.item.content_hash,
    }


def _failed(
    settings: Settings, store: Store, state: FeedState, exc: FeedError, *, clock: Clock
) -> FeedOutcome:
    message = str(exc)
    gone = isinstance(exc, FeedGone)
    after = feed_store.record_failure(
        store,
        state.id,
        message,
        now=clock.now(),
        flag_after=settings.collect.failures_before_flag,
        disable=gone,
    )
    log.warning(
        "feed failed",
        extra={"feed": state.name, "error": message, "failures": after.failures},
    )
    if gone:
        log.warning("feed disabled (410 Gone)", extra={"feed": state.name})
    return FeedOutcome(state.name, "error", error=message, flagged=after.flagged)


def _body_hashes(store: Store, names: Sequence[str]) -> dict[str, str]:
    return feed_store.body_hashes(store, names)


def _resolve_url(settings: Settings, url: str) -> str:
    """http(s) and file URLs stay; a plain path is resolved against the config's folder."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https", "file") or (len(scheme) > 1 and "://" in url):
        return url
    return str(settings.path(url).resolve())


__all__ = ["CollectReport", "FeedOutcome", "collect", "sync_configured_feeds"]
