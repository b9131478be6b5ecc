"""Storing one fetched feed: parse, decide, sanitize what changed, write in one transaction.

Also records a failure on the feed (``failed``), so every way a feed can go wrong ends
in the same place: its failure count, last error and flag.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pipeline.clock import Clock
from pipeline.collect.decide import ItemIntent, Plan, identify, plan_feed
from pipeline.collect.fetch import FeedGone, FetchResult
from pipeline.collect.parse import ParsedFeed, parse_feed
from pipeline.collect.report import FeedOutcome
from pipeline.collect.sanitize import Sanitizer, clean_entry
from pipeline.config import Collect
from pipeline.errors import FeedError
from pipeline.models import FeedState
from pipeline.store import Store
from pipeline.store import feeds as feed_store
from pipeline.store import items as item_store

log = logging.getLogger("pipeline.collect")


def store_feed(
    config: Collect,
    store: Store,
    state: FeedState,
    result: FetchResult,
    *,
    kind: str,
    language: str,
    previous_body: str | None,
    clock: Clock,
    sanitizer: Sanitizer,
    rank: Mapping[int, int] | None = None,
) -> FeedOutcome:
    """``_store_feed``, with anything unexpected recorded as this feed's failure.

    ``language`` is what entries are in when neither they nor the feed say (the
    ``[[feeds]]`` language, else the organisation's)."""
    try:
        return _store_feed(
            config,
            store,
            state,
            result,
            kind=kind,
            language=language,
            previous_body=previous_body,
            clock=clock,
            sanitizer=sanitizer,
            rank=rank,
        )
    except Exception as exc:  # a bug or a store error in one feed stops only that feed
        log.exception("storing a feed failed", extra={"feed": state.name})
        error = FeedError(f"cannot store: {exc}", feed=state.name)
        return failed(config, store, state, error, clock=clock)


def is_unchanged(result: FetchResult, previous_body: str | None) -> bool:
    """HTTP 304, or the same bytes as last time: there is nothing to parse."""
    return result.status == "not_modified" or result.body_hash == previous_body


def moved_url(state: FeedState, result: FetchResult) -> str | None:
    """The feed's new URL after a permanent redirect (logged), else None."""
    if result.moved_to and result.moved_to != state.url:
        log.warning(
            "feed moved permanently; stored URL updated",
            extra={"feed": state.name, "old_url": state.url, "new_url": result.moved_to},
        )
        return result.moved_to
    return None


def record_unchanged(
    store: Store, fetched: Sequence[tuple[FeedState, FetchResult]], *, clock: Clock
) -> list[FeedOutcome]:
    """Record unchanged fetches (``is_unchanged``) in one transaction: a transaction per
    feed made a collect of 50 unchanged feeds spend most of its work in BEGIN and COMMIT."""
    now = clock.now()
    outcomes = []
    with store.begin() as conn:
        for state, result in fetched:
            new_url = result.moved_to if result.moved_to != state.url else None
            feed_store.record_success(
                conn,
                state.id,
                now=now,
                status="not_modified",
                url=new_url,
                etag=result.etag,
                last_modified=result.last_modified,
            )
            outcomes.append(FeedOutcome(state.name, "not_modified", moved_to=new_url))
    return outcomes


def _store_feed(
    config: Collect,
    store: Store,
    state: FeedState,
    result: FetchResult,
    *,
    kind: str,
    language: str,
    previous_body: str | None,
    clock: Clock,
    sanitizer: Sanitizer,
    rank: Mapping[int, int] | None = None,
) -> FeedOutcome:
    new_url = moved_url(state, result)
    if is_unchanged(result, previous_body):
        return record_unchanged(store, [(state, result)], clock=clock)[0]
    try:
        parsed = parse_feed(
            result.body,
            url=result.moved_to or result.url,
            content_type=result.content_type,
            name=state.name,
        )
    except FeedError as exc:
        return failed(config, store, state, exc, clock=clock)
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
                backfill=timedelta(days=config.backfill_days),
                new_feed=state.last_success_at is None,
                rank=rank,
            )
            new_rows, update_rows = _rows(
                plan,
                parsed,
                feed_id=state.id,
                kind=kind,
                url=result.moved_to or result.url,
                summary_length=config.summary_length,
                now=now,
                sanitizer=sanitizer,
                default_language=language,
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
        return failed(config, store, state, exc, clock=clock)
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


def failed(
    config: Collect, store: Store, state: FeedState, exc: FeedError, *, clock: Clock
) -> FeedOutcome:
    message = str(exc)
    gone = isinstance(exc, FeedGone)
    after = feed_store.record_failure(
        store,
        state.id,
        message,
        now=clock.now(),
        flag_after=config.failures_before_flag,
        disable=gone,
    )
    log.warning(
        "feed failed",
        extra={"feed": state.name, "error": message, "failures": after.failures},
    )
    if gone:
        log.warning("feed disabled (410 Gone)", extra={"feed": state.name})
    return FeedOutcome(state.name, "error", error=message, flagged=after.flagged)
