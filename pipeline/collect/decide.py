"""Deciding what a parsed feed means for the store. Pure: no I/O, no clock of its own.

Identity of an entry, in order: its guid/id (scoped to the feed unless it is globally
unique, i.e. a URL, ``tag:`` or ``urn:``), else its canonical link, else a hash of
title and content. Then, for each entry:

- an item with the same identity, or the same canonical link, exists
    - and belongs to this feed: content hash changed → **update**, else unchanged
    - and belongs to a feed later in config order (or to none): this feed **takes it
      over** (an update: its feed, kind and content become this feed's), so the owner is
      the earliest configured feed carrying it, whatever order the feeds are stored in
    - and belongs to a feed earlier in config order (or one no longer configured): a
      **duplicate** (one article in two feeds stays one item; only its owner changes it,
      and ownership only moves forward in config order, so it never flips back and forth)
- else **new**; it is *eligible* for mailings unless it was already older than the
  backfill window when first seen (a newly added feed must not flood the next
  newsletter), or it has no date at all and its feed is new.
- an entry dated in the future is stored but *waits*: ``list_items(eligible_only=True)``
  only returns it once its date has come.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pipeline.collect.parse import EntryData
from pipeline.models import StoredItem

MAX_IDENTITY = 500
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_")
_TRACKING_KEYS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "yclid", "ref", "_hsenc"})


@dataclass(frozen=True)
class Identified:
    """A parsed entry with what identifies it and a hash of what it says."""

    entry: EntryData
    identity: str
    canonical_link: str | None
    content_hash: str


@dataclass(frozen=True)
class ItemIntent:
    action: Literal["new", "update"]
    item: Identified
    item_id: int | None = None
    eligible: bool = True
    published: datetime | None = None


@dataclass(frozen=True)
class Plan:
    intents: tuple[ItemIntent, ...]
    unchanged: int = 0
    duplicates: int = 0
    waiting: int = 0  # stored, dated in the future
    backfilled: int = 0  # stored as seen, not eligible

    @property
    def new(self) -> int:
        return sum(1 for i in self.intents if i.action == "new")

    @property
    def updated(self) -> int:
        return sum(1 for i in self.intents if i.action == "update")


def identify(entry: EntryData, *, feed_name: str) -> Identified:
    canonical = canonical_link(entry.link) if entry.link else None
    if entry.guid:
        guid = entry.guid.strip()
        identity = guid if _globally_unique(guid) else f"{feed_name}#{guid}"
    elif canonical:
        identity = canonical
    else:
        identity = "sha256:" + _sha256(entry.title, entry.content_html or entry.summary_html)
    if len(identity) > MAX_IDENTITY:
        identity = "sha256:" + _sha256(identity)
    return Identified(
        entry=entry, identity=identity, canonical_link=canonical, content_hash=content_hash(entry)
    )


def content_hash(entry: EntryData) -> str:
    """Changes whenever anything an item shows changes (an edit)."""
    images = [f"{i.url}|{i.alt or ''}|{i.credit or ''}" for i in entry.images]
    return _sha256(
        entry.title,
        entry.link or "",
        entry.content_html,
        entry.summary_html,
        entry.author or "",
        entry.published.isoformat() if entry.published else "",
        entry.updated.isoformat() if entry.updated else "",
        "\x1e".join(entry.tags),
        "\x1e".join(images),
        entry.base_url,
        entry.language,
    )


def canonical_link(url: str) -> str | None:
    """A link reduced to what identifies the page: https, lower-case host, no default
    port, no fragment, no tracking parameters, no trailing slash."""
    url = url.strip()
    rest = url[8:]
    if (
        url.startswith("https://")
        and "/" in rest
        and rest.islower()
        and not any(c in rest for c in "?#:@%")
    ):  # the usual case, without urllib's cost: only the trailing slash to drop
        host, _, path = rest.partition("/")
        path = ("/" + path).rstrip("/") or "/"
        return f"https://{host}{path}"
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PREFIXES) and k.lower() not in _TRACKING_KEYS
    ]
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return urlunsplit(("https", netloc, path, urlencode(query), ""))


def plan_feed(
    entries: Sequence[Identified],
    stored: Iterable[StoredItem],
    *,
    feed_id: int,
    now: datetime,
    backfill: timedelta,
    new_feed: bool,
    rank: Mapping[int, int] | None = None,
) -> Plan:
    """``rank``: each configured feed's id → its position in config order (0 first)."""
    ranks = rank or {}
    mine = ranks.get(feed_id)
    by_identity: dict[str, StoredItem] = {}
    by_link: dict[str, StoredItem] = {}
    for item in stored:
        by_identity[item.identity] = item
        if item.canonical_link:
            by_link.setdefault(item.canonical_link, item)
    intents: list[ItemIntent] = []
    seen: set[str] = set()
    unchanged = duplicates = waiting = backfilled = 0
    horizon = now - backfill
    for entry in entries:
        keys = {entry.identity, *([entry.canonical_link] if entry.canonical_link else [])}
        if keys & seen:
            duplicates += 1  # the same entry twice in one document: the first one counts
            continue
        seen |= keys
        match = by_identity.get(entry.identity) or (
            by_link.get(entry.canonical_link) if entry.canonical_link else None
        )
        published = entry.entry.published or entry.entry.updated
        if match is not None:
            if match.feed_id not in (feed_id, None) and not _outranks(mine, ranks, match.feed_id):
                duplicates += 1
            elif match.content_hash == entry.content_hash and match.feed_id == feed_id:
                unchanged += 1
            else:
                intents.append(
                    ItemIntent("update", entry, item_id=match.id, published=published or now)
                )
                waiting += published is not None and published > now
            continue
        eligible = published >= horizon if published is not None else not new_feed
        backfilled += not eligible
        waiting += published is not None and published > now
        intents.append(ItemIntent("new", entry, eligible=eligible, published=published or now))
    return Plan(
        intents=tuple(intents),
        unchanged=unchanged,
        duplicates=duplicates,
        waiting=waiting,
        backfilled=backfilled,
    )


def _outranks(mine: int | None, ranks: Mapping[int, int], owner: int) -> bool:
    """Whether a feed at position ``mine`` comes before the item's current owner."""
    theirs = ranks.get(owner)
    return mine is not None and theirs is not None and mine < theirs


def _globally_unique(guid: str) -> bool:
    lowered = guid.lower()
    return "://" in lowered or lowered.startswith(("tag:", "urn:"))


def _sha256(*parts: str) -> str:
    # each part followed by a unit separator, hashed as one string
    joined = "\x1f".join(parts) + "\x1f"
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()
