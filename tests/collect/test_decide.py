"""The pure decision: identity, duplicates, edits, future dates, backfill."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pipeline.collect.decide import canonical_link, identify, plan_feed
from pipeline.collect.parse import EntryData, MediaImage
from pipeline.models import StoredItem

NOW = datetime(2026, 6, 19, 8, 0, tzinfo=UTC)
WEEK = timedelta(days=14)


def entry(**values: object) -> EntryData:
    base = EntryData(
        guid=None,
        link=None,
        title="Haushaltsklausur in Görlitz",
        content_html="<p>Die Klausur war ein Erfolg.</p>",
        summary_html="",
        author=None,
        published=NOW - timedelta(days=1),
        updated=None,
        tags=(),
        images=(),
        base_url="",
        language="de",
    )
    return replace(base, **values)  # type: ignore[arg-type]


def test_identity_prefers_guid_then_link_then_hash() -> None:
    by_guid = identify(
        entry(guid="https://x.example/?p=1", link="https://x.example/a/"), feed_name="f"
    )
    assert by_guid.identity == "https://x.example/?p=1"
    by_link = identify(entry(link="https://X.example/a/?utm_source=rss#top"), feed_name="f")
    assert by_link.identity == "https://x.example/a"
    by_hash = identify(entry(), feed_name="f")
    assert by_hash.identity.startswith("sha256:")
    assert identify(entry(), feed_name="g").identity == by_hash.identity
    assert identify(entry(title="Anders"), feed_name="f").identity != by_hash.identity


def test_local_guids_are_scoped_to_their_feed() -> None:
    a = identify(entry(guid="42"), feed_name="artikel")
    b = identify(entry(guid="42"), feed_name="presse")
    assert a.identity == "artikel#42" and b.identity == "presse#42"


def test_canonical_link_normalisation() -> None:
    assert canonical_link("HTTP://www.Example.org:80/a/b/?utm_medium=x&id=3#frag") == (
        "https://www.example.org/a/b?id=3"
    )
    assert canonical_link("mailto:x@example.org") is None
    for plain in (
        "https://www.example.org/a/b/",
        "https://www.example.org/",
        "https://x.example/a",
    ):
        assert canonical_link(plain) == canonical_link(plain.replace("https:", "HTTPS:"))


def test_new_unchanged_and_edited() -> None:
    first = identify(entry(guid="tag:x,2026:1"), feed_name="f")
    plan = plan_feed([first], [], feed_id=1, now=NOW, backfill=WEEK, new_feed=False)
    assert (plan.new, plan.updated) == (1, 0)
    stored = StoredItem(1, first.identity, first.canonical_link, 1, first.content_hash)
    same = plan_feed([first], [stored], feed_id=1, now=NOW, backfill=WEEK, new_feed=False)
    assert (same.new, same.updated, same.unchanged) == (0, 0, 1)
    edited = identify(entry(guid="tag:x,2026:1", content_html="<p>Korrigiert</p>"), feed_name="f")
    plan = plan_feed([edited], [stored], feed_id=1, now=NOW, backfill=WEEK, new_feed=False)
    assert plan.updated == 1 and plan.intents[0].item_id == 1


def test_same_link_in_another_feed_is_a_duplicate_not_an_update() -> None:
    mine = identify(entry(guid="a-1", link="https://x.example/a/"), feed_name="a")
    theirs = identify(entry(guid="b-7", link="http://x.example/a", title="Anders"), feed_name="b")
    stored = StoredItem(5, mine.identity, mine.canonical_link, 1, mine.content_hash)
    plan = plan_feed([theirs], [stored], feed_id=2, now=NOW, backfill=WEEK, new_feed=False)
    assert plan.intents == () and plan.duplicates == 1


def test_duplicate_within_one_document_counts_once() -> None:
    one = identify(entry(guid="tag:x,2026:1"), feed_name="f")
    plan = plan_feed([one, one], [], feed_id=1, now=NOW, backfill=WEEK, new_feed=False)
    assert plan.new == 1 and plan.duplicates == 1


def test_future_entry_is_stored_but_waits() -> None:
    later = identify(entry(guid="tag:x,2026:9", published=NOW + timedelta(days=2)), feed_name="f")
    plan = plan_feed([later], [], feed_id=1, now=NOW, backfill=WEEK, new_feed=False)
    assert plan.waiting == 1
    assert plan.intents[0].published == NOW + timedelta(days=2)
    assert plan.intents[0].eligible


def test_backfill_window() -> None:
    old = identify(entry(guid="tag:x,2026:old", published=NOW - timedelta(days=30)), feed_name="f")
    fresh = identify(entry(guid="tag:x,2026:new", published=NOW - timedelta(days=3)), feed_name="f")
    undated = identify(entry(guid="tag:x,2026:nodate", published=None), feed_name="f")
    plan = plan_feed([old, fresh, undated], [], feed_id=1, now=NOW, backfill=WEEK, new_feed=True)
    eligible = {i.item.identity: i.eligible for i in plan.intents}
    assert eligible == {"tag:x,2026:old": False, "tag:x,2026:new": True, "tag:x,2026:nodate": False}
    assert plan.backfilled == 2
    # on a feed we already know, an undated new entry is news
    plan = plan_feed([undated], [], feed_id=1, now=NOW, backfill=WEEK, new_feed=False)
    assert plan.intents[0].eligible and plan.intents[0].published == NOW


def test_hashes_stay_what_earlier_versions_stored() -> None:
    # Stored items carry these hashes: if they changed, every item of every feed would
    # count as edited (or new) on the first collect after an upgrade.
    image = MediaImage(
        "https://www.junge-buergermeister.example/bild.jpg", credit="©NJB/Sebastian Bolesch"
    )
    found = identify(entry(images=(image,), tags=("Gemeinschaft", "Digitales")), feed_name="f")
    assert found.identity == (
        "sha256:40162bec531969f88833b30f77dd827773ae0cbbb30a7763cc70dd0eaed2fdcd"
    )
    assert found.content_hash == (
        "6737e9eb5fdfeaf8b51c09776b2dc21338fe1b90fba33230fe1ac8223e513a3a"
    )
