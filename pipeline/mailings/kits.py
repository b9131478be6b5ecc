"""Press kits: the files of a press release, and who may download them when.

The rule of the download (``may_download``), in one place for the web route and the API:

- a logged-in editor (an account that may ``view``): always;
- anyone, once the release went out and its Sperrfrist (if any) has passed;
- before the Sperrfrist: only with the link personal to a recipient the release was
  delivered to (``audience.read_kit_token``: that person, that file);
- otherwise nobody, and the route answers as for an unknown file (404, reveal nothing).

Files change only while the release is editable; a change sends it back to draft (its
render, which lists the files, is dropped) like any edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.audience import read_kit_token
from pipeline.config import Settings
from pipeline.mailings import files, public
from pipeline.models import Mailing, PressFile
from pipeline.store import Store
from pipeline.store import press_files as store_files


def folder(settings: Settings) -> Path:
    """``[press] files_dir``, relative to the configuration file."""
    return settings.path(settings.press.files_dir)


def released(mailing: Mailing, now: datetime) -> bool:
    """Whether the release and its files are public: the archive's one rule
    (``public.published``), so a file is never public a second before its release."""
    return public.published(mailing, now)


@dataclass(frozen=True)
class Download:
    """A file that may be served: its row, its checked bytes and whether it is public
    (a public file may be cached; one opened by a personal link or an editor not)."""

    file: PressFile
    data: bytes
    public: bool


def new_file_values(
    settings: Settings,
    store: Store,
    mailing_id: int,
    *,
    name: str,
    data: bytes,
    credit: str,
    licence: str,
    alt_text: str,
) -> dict[str, Any]:
    """The row of a new file (its bytes, and a preview for an image, already kept)."""
    safe = files.unique_name(files.safe_name(name), store_files.names(store, mailing_id))
    kind = files.content_type(safe, data)
    where = folder(settings)
    values: dict[str, Any] = {
        "mailing_id": mailing_id,
        "name": safe,
        "content_type": kind,
        "size": len(data),
        "credit": " ".join(credit.split()),
        "licence": " ".join(licence.split()),
        "alt_text": " ".join(alt_text.split()),
    }
    if kind in files.IMAGE_TYPES:
        facts = files.image_facts(safe, data, width=settings.press.preview_width)
        values.update(
            width=facts.width,
            height=facts.height,
            preview_sha256=store_files.write_blob(where, facts.preview),
            preview_type=facts.preview_type,
            preview_width=facts.preview_width,
            preview_height=facts.preview_height,
        )
        if not values["alt_text"]:
            # Every image in a mail has alt text; the name is better than none.
            values["alt_text"] = safe.rpartition(".")[0] or safe
    values["sha256"] = store_files.write_blob(where, data)
    return values


def may_download(
    settings: Settings,
    store: Store,
    mailing: Mailing,
    name: str,
    *,
    now: datetime,
    secret: str,
    token: str,
    editor: bool,
) -> bool:
    """The rule above (``name`` is a file of ``mailing``)."""
    if editor or released(mailing, now):
        return True
    if mailing.status not in public.OUT or not token or not secret:
        return False
    subscriber = read_kit_token(secret, token, mailing.id, name)
    return subscriber is not None and store_files.delivered_to(store, mailing.id, subscriber)
