"""Collect: feeds → items. The public API is ``collect`` and its ``CollectReport``.

``collect(settings, ...)`` splits the configuration; the run itself
(``collect_feeds``) and everything below it take only the ``[collect]`` section, the
feeds (``configured_feeds``: ``[[feeds]]`` with paths resolved) and ``[organisation]``.

The flow of one run::

    config [[feeds]] ──sync──▶ table feeds (add / update / mark removed)
          │
          ▼  fetch concurrently (collect.concurrency threads, one requests session)
    fetch.fetch_all ──▶ FetchResult | FeedError, as each fetch finishes (within
          │            collect.timeout for the whole fetch)
          │  one feed at a time from here (while the next ones download):
          ├─ 304, or a body identical to the last one ──▶ not_modified (nothing parsed;
          │            all of them recorded in one transaction after the last fetch)
          ├─ error ──▶ failures + 1, last_error; flagged at collect.failures_before_flag;
          │            410 disables the feed. The other feeds go on.
          ▼
    parse.parse_feed ──▶ ParsedFeed(EntryData…)          (bytes → raw entries; the
                         fastparse path for well-formed RSS 2.0/Atom 1.0/RSS 1.0, else feedparser)
    decide.identify  ──▶ identity, canonical link, hash  (pure)
    decide.plan_feed ──▶ new / update / unchanged / duplicate, eligibility (pure)
    sanitize.clean_entry, only for new and changed entries (nh3, lead image, credit)
    apply: insert + update the items and record the feed's success in ONE transaction

Parsing and storing stay in the calling thread. Storing feed N in a second thread while
feed N+1 is parsed was measured: both halves hold the interpreter lock most of the time,
and the hand-offs cost more CPU than the overlapped SQLite writes saved.

Feeds are stored in the order their fetches finish, so one slow feed never holds the
others back. The decisions stay deterministic where they can: feeds that are ready
together are taken in configured order, and with ``collect.concurrency = 1`` the whole run
follows it. An article carried by two feeds belongs to the feed earliest in config
order, whichever is stored first: a feed stored later takes over the items of feeds
configured after it (``decide.plan_feed``), in the same run or a later one.

Stages never call each other: compose reads what this wrote through
``pipeline.store.items.list_items``.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

import requests

from pipeline.clock import Clock
from pipeline.collect.apply import (
    failed,
    is_unchanged,
    moved_url,
    record_unchanged,
    store_feed,
)
from pipeline.collect.fetch import FetchRequest, FetchResult, fetch_all, make_session
from pipeline.collect.report import CollectReport, FeedOutcome
from pipeline.collect.sanitize import Sanitizer
from pipeline.config import Collect, Organisation, Settings
from pipeline.errors import ConfigError, FeedError
from pipeline.models import FeedState
from pipeline.store import Store
from pipeline.store import feeds as feed_store

log = logging.getLogger(__name__)

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

    The entry point that knows the whole configuration: it checks the names, resolves
    the ``[[feeds]]`` and hands ``collect_feeds`` the parts a run uses. One feed's
    failure never stops the others: it is recorded on the feed and reported in its
    ``FeedOutcome``. Raises ``ConfigError`` for an unknown feed name.
    """
    wanted = None
    if feed_names is not None:
        wanted = list(dict.fromkeys(feed_names))
        for name in wanted:
            settings.feed_named(name)  # ConfigError naming the file and the known feeds
    return collect_feeds(
        settings.collect,
        configured_feeds(settings),
        store,
        organisation=settings.organisation,
        clock=clock,
        feed_names=wanted,
        session=session,
        progress=progress,
    )


def collect_feeds(
    config: Collect,
    feeds: Sequence[feed_store.ConfiguredFeed],
    store: Store,
    *,
    organisation: Organisation,
    clock: Clock,
    feed_names: Iterable[str] | None = None,
    session: requests.Session | None = None,
    progress: Progress | None = None,
) -> CollectReport:
    """One run over ``feeds`` (every configured feed, in configuration order, URLs
    resolved) with the ``[collect]`` section; ``organisation`` gives the User-Agent's
    website and the language of entries no feed names one. Only ``feed_names`` are
    fetched when given; every feed is synced and ranks either way."""
    feed_store.sync_feeds(store, feeds, now=clock.now())
    configured = list(feeds)
    wanted = None
    if feed_names is not None:
        wanted = list(dict.fromkeys(feed_names))
        names = {f.name for f in configured}
        for name in wanted:
            if name not in names:
                listed = ", ".join(f.name for f in configured) or "none"
                raise ConfigError(f"unknown feed {name!r} (configured feeds: {listed})")
    known = feed_store.list_feeds(store, names=[f.name for f in configured])
    # Ownership of an article two feeds carry follows config order, not storing order
    # (which is network timing): every configured feed, even one not fetched now, ranks.
    position = {f.name: i for i, f in enumerate(configured)}
    rank = {s.id: position[s.name] for s in known if s.name in position}
    states = {
        s.name: s
        for s in known
        if s.in_config
        and s.enabled
        and s.disabled_reason is None
        and (not wanted or s.name in wanted)
    }
    order = [f.name for f in configured if f.name in states]
    by_name = {f.name: f for f in configured}
    own_session = session is None
    http = session or make_session(website=organisation.website, pool_size=config.concurrency)
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
    unchanged: list[tuple[FeedState, FetchResult]] = []
    sanitizer = Sanitizer()
    body_hashes = _body_hashes(store, order)

    # Each feed builds an element tree and a few objects per entry and drops them when
    # it is stored, creating no cycles: the cyclic collector would only walk the live
    # trees again and again (a tenth of the run). It runs as usual once collect is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for req, result in fetch_all(
            requests_,
            session=http,
            timeout=config.timeout,
            max_bytes=config.max_bytes,
            concurrency=config.concurrency,
        ):
            state = states[req.name]
            if isinstance(result, FeedError):
                outcome = failed(config, store, state, result, clock=clock)
            elif is_unchanged(result, body_hashes.get(req.name)):
                unchanged.append((state, result))  # recorded together below
                outcome = FeedOutcome(req.name, "not_modified", moved_to=moved_url(state, result))
            else:
                feed = by_name[req.name]
                outcome = store_feed(
                    config,
                    store,
                    state,
                    result,
                    kind=feed.kind,
                    # the feed did not say: [[feeds]] language, else the organisation's
                    language=feed.language or organisation.language,
                    rank=rank,
                    previous_body=body_hashes.get(req.name),
                    clock=clock,
                    sanitizer=sanitizer,
                )
            outcomes[req.name] = outcome
            if progress is not None:
                progress(outcome, len(outcomes), len(order))
        _record_unchanged(config, store, unchanged, outcomes, clock=clock)
    finally:
        if collecting:
            gc.enable()
        if own_session:
            http.close()
    return CollectReport(feeds=[outcomes[name] for name in order])  # report: config order


def _record_unchanged(
    config: Collect,
    store: Store,
    fetched: list[tuple[FeedState, FetchResult]],
    outcomes: dict[str, FeedOutcome],
    *,
    clock: Clock,
) -> None:
    """One transaction for all unchanged feeds; should it fail, one per feed, so that a
    feed that cannot be recorded is that feed's failure only (as in ``store_feed``)."""
    if not fetched:
        return
    try:
        record_unchanged(store, fetched, clock=clock)
        return
    except Exception:
        log.exception("recording the unchanged feeds together failed; one by one now")
    for state, result in fetched:
        try:
            record_unchanged(store, [(state, result)], clock=clock)
        except Exception as exc:
            log.exception("storing a feed failed", extra={"feed": state.name})
            error = FeedError(f"cannot store: {exc}", feed=state.name)
            outcomes[state.name] = failed(config, store, state, error, clock=clock)


def configured_feeds(settings: Settings) -> list[feed_store.ConfiguredFeed]:
    """The ``[[feeds]]`` in configuration order, paths resolved against the config's folder."""
    return [
        feed_store.ConfiguredFeed(
            name=f.name,
            url=_resolve_url(settings, f.url),
            kind=f.kind,
            enabled=f.enabled,
            language=f.language,
        )
        for f in settings.feeds
    ]


def sync_configured_feeds(
    settings: Settings, store: Store, *, clock: Clock
) -> list[feed_store.ConfiguredFeed]:
    """Bring table ``feeds`` in line with ``[[feeds]]`` (paths resolved); return them."""
    configured = configured_feeds(settings)
    feed_store.sync_feeds(store, configured, now=clock.now())
    return configured


def _body_hashes(store: Store, names: Sequence[str]) -> dict[str, str]:
    return feed_store.body_hashes(store, names)


def _resolve_url(settings: Settings, url: str) -> str:
    """http(s) and file URLs stay; a plain path is resolved against the config's folder."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https", "file") or (len(scheme) > 1 and "://" in url):
        return url
    return str(settings.path(url).resolve())


__all__ = [
    "CollectReport",
    "FeedOutcome",
    "collect",
    "collect_feeds",
    "configured_feeds",
    "sync_configured_feeds",
]
