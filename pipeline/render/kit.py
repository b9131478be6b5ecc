"""The press kit section of a press release: each file a link into the web app, with
its size, credit and licence; an image shown as its preview with alt text and credit.

Every link ends in a placeholder ``⟦KIT_n⟧`` (n: the file's place in the kit, by name)
that the send fills per recipient with ``?t=TOKEN``, the link personal to them that
opens the file before the Sperrfrist (``audience.kit_links``); the public copy and the
preview fill it with nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from babel.numbers import format_decimal

from pipeline.config import Settings
from pipeline.models import PressFile

_TYPE_LABELS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "application/zip": "ZIP",
}


# "Foto: Anna Berger" under the label "Bildnachweis:" would say it twice.
_CREDIT_LABEL = re.compile(r"^(?:foto|fotos|bild|bilder|photo|photos|image|credit)\s*:\s*", re.I)


def kit_url(settings: Settings, mailing_id: int, name: str, *, preview: bool = False) -> str:
    """``{web.base_url}/press/{id}/files/{name}`` (``/preview``: an image's preview).
    Names are safe (``[A-Za-z0-9._-]``), so they stand in the URL as they are."""
    tail = "/preview" if preview else ""
    return f"{settings.web.base_url}/press/{mailing_id}/files/{name}{tail}"


def kit_placeholder(index: int) -> str:
    """The per-recipient tail of the link of the kit's file number ``index``."""
    return f"⟦KIT_{index}⟧"


@dataclass(frozen=True)
class KitEntry:
    name: str
    url: str
    kind: str  # "PDF", "JPEG" …
    size: str  # "1,2 MB" in the mail's language
    credit: str
    licence: str
    alt_text: str
    preview_url: str = ""
    preview_width: int = 0
    preview_height: int = 0


def size_label(size: int, language: str) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{format_decimal(round(size / 1024), locale=language)} KB"
    return f"{format_decimal(round(size / 1024 / 1024, 1), locale=language)} MB"


def kit_entries(
    settings: Settings, mailing_id: int, files: Sequence[PressFile], language: str
) -> tuple[KitEntry, ...]:
    entries = []
    for index, file in enumerate(sorted(files, key=lambda f: f.name)):
        tail = kit_placeholder(index)
        preview = ""
        if file.preview_sha256:
            preview = kit_url(settings, mailing_id, file.name, preview=True) + tail
        entries.append(
            KitEntry(
                name=file.name,
                url=kit_url(settings, mailing_id, file.name) + tail,
                kind=_TYPE_LABELS.get(file.content_type, file.content_type.split("/")[-1].upper()),
                size=size_label(file.size, language),
                credit=_CREDIT_LABEL.sub("", file.credit),
                licence=file.licence,
                alt_text=file.alt_text,
                preview_url=preview,
                preview_width=file.preview_width or 0,
                preview_height=file.preview_height or 0,
            )
        )
    return tuple(entries)
