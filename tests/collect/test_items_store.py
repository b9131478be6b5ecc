"""Writing items: the driver-level bulk insert stores exactly what SQLAlchemy Core would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from pipeline.store import Store
from pipeline.store.items import insert_items, list_items
from pipeline.store.schema import items

NOW = datetime(2026, 6, 19, 8, 0, tzinfo=UTC)
BERLIN_SUMMER = timezone(timedelta(hours=2))


def _row(identity: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "identity": identity,
        "canonical_link": f"https://www.junge-buergermeister.example/{identity}",
        "feed_id": None,
        "kind": "article",
        "title": "Wärmeplanung: „Kommune 2030“ für Bürgermeister*innen",
        "link": f"https://www.junge-buergermeister.example/{identity}/",
        "summary": "Unter dem Motto „Mit starken Kommunen Zukunft gestalten“ …",
        "content_html": "<p>Fördermittel</p><figure><figcaption>©NJB/Sebastian Bolesch"
        "</figcaption></figure>",
        "image_url": "https://www.junge-buergermeister.example/bild.jpg",
        "image_alt": "Netzwerktreffen",
        "image_credit": "©NJB/Sebastian Bolesch",
        "author": "Redaktion NJB",
        "published_at": datetime(2026, 6, 17, 11, 12, 44, 250, tzinfo=BERLIN_SUMMER),
        "source_updated_at": None,
        "tags": ["Gemeinschaft", "Jahreskonferenz"],
        "language": "de",
        "content_hash": "0" * 64,
        "eligible": False,
        "first_seen_at": NOW,
        "updated_at": NOW,
    }
    return row | changes


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest) -> Store:
    name = "store" if request.param == "sqlite" else "pg_store"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


COLUMNS = ", ".join(c.name for c in items.columns if c.name not in ("id", "identity"))


def test_bulk_insert_stores_what_core_stores(any_store: Store) -> None:
    rows = [_row(f"bulk-{n}", source_updated_at=NOW - timedelta(days=n)) for n in range(3)]
    rows.append(_row("bulk-ohne-datum", published_at=None, tags=[], eligible=True))
    with any_store.begin() as conn:
        insert_items(conn, rows)
        conn.execute(items.insert(), [r | {"identity": "core-" + r["identity"]} for r in rows])
    with any_store.connect() as conn:
        stored = conn.exec_driver_sql(
            f"SELECT identity, {COLUMNS} FROM items ORDER BY identity"
        ).all()
    by_identity = {row[0]: tuple(row[1:]) for row in stored}
    assert len(by_identity) == 8
    for row in rows:
        assert by_identity[row["identity"]] == by_identity["core-" + row["identity"]]

    read = {item.identity: item for item in list_items(any_store)}
    first = read["bulk-0"]
    assert first.published_at == datetime(2026, 6, 17, 9, 12, 44, 250, tzinfo=UTC)
    assert first.updated_at == NOW
    assert first.tags == ("Gemeinschaft", "Jahreskonferenz")
    assert first.title == "Wärmeplanung: „Kommune 2030“ für Bürgermeister*innen"
    assert (first.eligible, read["bulk-ohne-datum"].eligible) == (False, True)
    assert read["bulk-ohne-datum"].published_at is None
    eligible = {i.identity for i in list_items(any_store, eligible_only=True, now=NOW)}
    assert eligible == {"bulk-ohne-datum", "core-bulk-ohne-datum"}


def test_bulk_insert_refuses_naive_instants(store: Store) -> None:
    with pytest.raises(ValueError, match="naive datetime"), store.begin() as conn:
        insert_items(conn, [_row("naiv", published_at=datetime(2026, 6, 17, 9, 0))])
    assert list_items(store) == []
