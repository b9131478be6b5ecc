"""Which press kit files travel in the mail as attachments, not only as links.

A file is attached when it is a PDF or a photo (``ATTACHABLE``), smaller than
``[press] attach_below_bytes``, and the whole
message stays under the transport's limit: the server's EHLO SIZE or ``[smtp]
max_message_bytes`` for SMTP, the documented limit of each HTTP provider. The smallest
files go first, so one large file never pushes out several small ones. The rest stay
links (they are links in every copy anyway). A file whose bytes are missing or altered
in the folder is not attached; its link answers for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from pipeline.config import Settings
from pipeline.deliver import Attachment
from pipeline.errors import PressFileError
from pipeline.models import PressFile, RenderedMailing
from pipeline.store import press_files

log = logging.getLogger(__name__)

# Headers and MIME part heads of a copy, generously.
HEAD_ROOM = 32 * 1024
# Only what a press kit is made of and every provider takes as an attachment (Brevo's
# list of allowed extensions is the narrowest: pdf, gif, jpg, png, tif among others;
# Postmark refuses executable types): any other file stays a link, so one odd file never
# makes a provider refuse the whole message.
ATTACHABLE = frozenset({"application/pdf", "image/jpeg", "image/png", "image/gif", "image/tiff"})


def message_limit(settings: Settings, transport: Any) -> int:
    """The largest message ``transport`` takes (bytes); the configured SMTP limit for a
    transport without one of its own (maildir) or none known yet (None)."""
    probe = getattr(transport, "message_limit", None)
    if callable(probe):
        return int(probe())
    fixed = getattr(transport, "max_message_bytes", None)
    return int(fixed) if isinstance(fixed, int) else settings.smtp.max_message_bytes


def encoded_size(size: int) -> int:
    """Bytes of ``size`` bytes in base64 lines of 76 characters with CRLF."""
    chars = (size + 2) // 3 * 4
    return chars + (chars + 75) // 76 * 2


def body_size(rendered: Iterable[RenderedMailing]) -> int:
    # Quoted-printable grows UTF-8 text by up to a third (umlauts, long lines).
    return max((len(r.html.encode()) + len(r.text.encode())) * 4 // 3 for r in rendered)


def choose(files: Sequence[PressFile], *, below: int, limit: int, body: int) -> list[PressFile]:
    """The files to attach (pure): each under ``below``, all within ``limit``."""
    if below <= 0:
        return []
    budget = limit - body - HEAD_ROOM
    chosen: list[PressFile] = []
    for file in sorted(files, key=lambda f: (f.size, f.name)):
        if file.size >= below or file.content_type not in ATTACHABLE:
            continue
        cost = encoded_size(file.size) + 512
        if cost > budget:
            continue
        budget -= cost
        chosen.append(file)
    return sorted(chosen, key=lambda f: f.name)


def attachments_for(
    settings: Settings,
    files: Sequence[PressFile],
    rendered: Iterable[RenderedMailing],
    transport: Any,
) -> tuple[Attachment, ...]:
    """The attachments of every copy of a mailing, read and checked once per send."""
    below = settings.press.attach_below_bytes
    if below <= 0 or not files:
        return ()
    chosen = choose(
        files,
        below=below,
        limit=message_limit(settings, transport),
        body=body_size(list(rendered)),
    )
    folder = settings.path(settings.press.files_dir)
    out = []
    for file in chosen:
        try:
            data = press_files.read_blob(folder, file.sha256, what=file.name)
        except PressFileError as exc:
            log.warning("press kit file not attached: %s", exc, extra={"mailing": file.mailing_id})
            continue
        out.append(Attachment(file.name, file.content_type, data))
    return tuple(out)
