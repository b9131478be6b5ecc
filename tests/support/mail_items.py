"""German items for compose and render tests, written straight into the ``items`` table.

The text is the seed article (umlauts, ``Bürgermeister*innen``, „German quotes“,
© credits), cut into paragraphs; each item gets its own title, date and image.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from pipeline.store import Store
from pipeline.store.schema import items

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed-article.txt"

TITLES = [
    "Netzwerktreffen der jungen Bürgermeister - Digitales Bürgernetz",
    "Kommunen als das Rückgrat unseres Staates",
    "Starkes kommunales Engagement in Hofstetten",
    "Auf dem Weg zur „Kommune 2030“",
    "Partnerschaft mit Deutsche Glasfaser",
    "Wärmeplanung: Was Gemeinden jetzt tun müssen",
    "Fördermittel ohne Fachkräfte? Ein Werkstattbericht",
    "Jahreskonferenz 2023: „Mit starken Kommunen Zukunft gestalten“",
    "Digitale Orte: Der Wettbewerb startet",
    "Flüchtlingsbetreuung in kleinen Gemeinden",
    "Vorbilder für junge Bürgermeister*innen",
    "Über das Netzwerk junge Bürgermeister*innen in Deutschland e.V.",
    "Glasfaserausbau: Innovative Verlegemethoden",
    "Bürger*innen beteiligen: Erfahrungen aus Brandenburg",
]


def seed_paragraphs() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    return [p.strip() for p in text.split("\n\n") if len(p.strip()) > 120]


def seed_html() -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in seed_paragraphs())


def add_item(
    store: Store,
    *,
    title: str,
    kind: str = "article",
    published_at: datetime,
    summary: str | None = None,
    content_html: str | None = None,
    link: str | None = None,
    image_url: str | None = "https://www.junge-buergermeister.example/bilder/treffen.jpg",
    image_alt: str | None = "Junge Bürgermeister*innen beim Netzwerktreffen in Berlin",
    image_credit: str | None = "©NJB/Sebastian Bolesch",
    eligible: bool = True,
    author: str | None = None,
) -> int:
    paragraphs = seed_paragraphs()
    slug = hashlib.sha256(title.encode()).hexdigest()[:10]
    row: dict[str, Any] = {
        "identity": f"urn:test:{slug}:{published_at.isoformat()}",
        "canonical_link": link or f"https://www.junge-buergermeister.example/artikel/{slug}",
        "feed_id": None,
        "kind": kind,
        "title": title,
        "link": link or f"https://www.junge-buergermeister.example/artikel/{slug}",
        "summary": summary if summary is not None else paragraphs[0][:300],
        "content_html": content_html if content_html is not None else seed_html(),
        "image_url": image_url,
        "image_alt": image_alt,
        "image_credit": image_credit,
        "author": author,
        "published_at": published_at,
        "source_updated_at": None,
        "tags": ["Gemeinschaft"],
        "language": "de",
        "content_hash": slug,
        "eligible": eligible,
        "first_seen_at": published_at,
        "updated_at": published_at,
    }
    with store.begin() as conn:
        return int(conn.execute(insert(items).values(**row)).inserted_primary_key[0])


def add_items(
    store: Store, now: datetime, count: int = 6, kinds: tuple[str, ...] = ("article",)
) -> list[int]:
    """``count`` items, one a day back from ``now`` (newest first), cycling ``kinds``."""
    ids = []
    for n in range(count):
        ids.append(
            add_item(
                store,
                title=TITLES[n % len(TITLES)] + ("" if n < len(TITLES) else f" ({n})"),
                kind=kinds[n % len(kinds)],
                published_at=(now - timedelta(days=n, hours=1)).astimezone(UTC),
            )
        )
    return ids
