"""What a press kit file is made of before it is stored: a safe name, its type and, for
an image, its size and a preview for the mail (pure: bytes in, values out).

Names come from people and their file systems: ``../../etc/passwd``, ``Übersicht
2026.pdf``, ``.htaccess`` or nothing at all. A safe name keeps only the last part of a
path, spells umlauts out (ä → ae), keeps ``A-Z a-z 0-9 . _ -`` and turns everything else
into ``-``; it never starts with a dot. An empty result is refused.

The type is read from the bytes where they tell (PDF, JPEG, PNG, GIF, WebP), else from
the name. An image must open with Pillow, else it is refused as broken: a photo that no
program can show must not reach journalists. Its preview is at most ``width`` pixels
wide: JPEG, or PNG where the image has transparency.
"""

from __future__ import annotations

import io
import mimetypes
import re
import unicodedata
import warnings
from dataclasses import dataclass

from pipeline.errors import PressFileError

MAX_NAME = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SPELLED = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
# The photos that get a preview (and must open); any other type (an SVG logo, a video)
# is kept as a file to download.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/tiff"})
# Larger than any camera's photo; a "photo" beyond it is a decompression bomb.
MAX_PIXELS = 120_000_000


def safe_name(raw: str) -> str:
    """The name a file is known by in its URL; ``PressFileError`` when nothing is left."""
    last = re.split(r"[\\/]", raw.strip())[-1]
    spelled = unicodedata.normalize("NFKD", last.translate(_SPELLED))
    ascii_only = "".join(c for c in spelled if not unicodedata.combining(c))
    name = _UNSAFE.sub("-", ascii_only)
    name = re.sub(r"-*\.-*", ".", re.sub(r"-{2,}", "-", name)).strip("-.")
    if len(name) > MAX_NAME:
        _stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        name = name[: MAX_NAME - len(keep) - 1].rstrip("-.") + ("." + keep if keep else "")
    if not name or set(name) <= {"."}:
        raise PressFileError(
            f"file name {raw!r}: nothing is left of it that can stand in a link; "
            "give the file a name with letters or digits",
            field="name",
        )
    return name


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2.ext``, ``name-3.ext`` … if the mailing has it already."""
    if name not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    number = 2
    while True:
        candidate = f"{stem}-{number}" + (f".{ext}" if ext else "")
        if candidate not in taken:
            return candidate
        number += 1


def content_type(name: str, data: bytes) -> str:
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    guessed, _ = mimetypes.guess_type(name, strict=False)
    # A name that says "image" but bytes that do not: checked (and refused) as an image.
    return guessed or "application/octet-stream"


@dataclass(frozen=True)
class ImageFacts:
    width: int
    height: int
    preview: bytes
    preview_type: str
    preview_width: int
    preview_height: int


def image_facts(name: str, data: bytes, *, width: int) -> ImageFacts:
    """Size and preview of an image; ``PressFileError`` for one that does not open."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()  # checks the file's structure; the image must be opened again
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise PressFileError(
                        f"image {name}: {image.width} × {image.height} pixels is more "
                        "than a photo has",
                        field="file",
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
                return _preview(upright, width)
    except PressFileError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise PressFileError(
            f"image {name}: the file is broken or not an image ({exc})", field="file"
        ) from exc


def _preview(image: object, width: int) -> ImageFacts:
    from PIL import Image

    assert isinstance(image, Image.Image)
    full_w, full_h = image.size
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    small = image.copy()
    if full_w > width:
        small = small.resize(
            (width, max(1, round(full_h * width / full_w))), Image.Resampling.LANCZOS
        )
    out = io.BytesIO()
    if transparent:
        small.convert("RGBA").save(out, "PNG", optimize=True)
        kind = "image/png"
    else:
        small.convert("RGB").save(out, "JPEG", quality=85, optimize=True, progressive=True)
        kind = "image/jpeg"
    return ImageFacts(full_w, full_h, out.getvalue(), kind, small.width, small.height)
