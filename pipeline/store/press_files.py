"""The files of press kits: their rows in ``press_files`` and their bytes in a folder.

Bytes are kept under ``[press] files_dir`` by their SHA-256 (``ab/abcdef…``): the same
photo in two releases is kept once, and a name never becomes a path, so no file name
can reach outside the folder. Reading checks the checksum again: a file altered or
damaged on disk is refused (``PressFileError``), never served as if it were the one the
press officer added. A blob is removed only when no row names it any more.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, or_, select

from pipeline.errors import PressFileError
from pipeline.models import PressFile
from pipeline.store import Store
from pipeline.store.schema import deliveries, press_files

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COLUMNS = [f.name for f in fields(PressFile)]


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_path(folder: Path, sha256: str) -> Path:
    if not _SHA256.match(sha256):
        raise PressFileError(f"not a SHA-256 checksum: {sha256!r}")
    return folder / sha256[:2] / sha256


def write_blob(folder: Path, data: bytes) -> str:
    """Keep ``data`` in ``folder`` by its checksum (written whole or not at all)."""
    sha = checksum(data)
    target = blob_path(folder, sha)
    if target.exists() and _file_checksum(target) == sha:
        return sha
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise PressFileError(
            f"cannot write the press kit file into {folder}: {exc.strerror or exc}"
        ) from exc
    return sha


def read_blob(folder: Path, sha256: str, *, what: str) -> bytes:
    """The bytes kept for ``sha256``, checked; ``PressFileError`` (naming ``what``) when
    they are missing or no longer match."""
    path = blob_path(folder, sha256)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PressFileError(f"{what}: the file is missing in {folder}") from exc
    if checksum(data) != sha256:
        raise PressFileError(f"{what}: the file in {folder} does not match its checksum")
    return data


def _file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _row(values: Any) -> PressFile:
    return PressFile(**{name: values[name] for name in _COLUMNS})


def add_file(store: Store, values: dict[str, Any], *, now: datetime) -> PressFile:
    with store.begin() as conn:
        new_id = conn.execute(
            press_files.insert().values(**values, created_at=now)
        ).inserted_primary_key
        assert new_id is not None
        return _get(conn, int(new_id[0]))


def _get(conn: Connection, file_id: int) -> PressFile:
    row = conn.execute(select(press_files).where(press_files.c.id == file_id)).mappings().one()
    return _row(row)


def list_files(store: Store, mailing_id: int) -> list[PressFile]:
    """The files of a mailing, by name (the order of the mail's press kit section)."""
    with store.connect() as conn:
        rows = conn.execute(
            select(press_files)
            .where(press_files.c.mailing_id == mailing_id)
            .order_by(press_files.c.name)
        ).mappings()
        return [_row(r) for r in rows]


def names(store: Store, mailing_id: int) -> set[str]:
    with store.connect() as conn:
        return set(
            conn.execute(
                select(press_files.c.name).where(press_files.c.mailing_id == mailing_id)
            ).scalars()
        )


def find_file(store: Store, mailing_id: int, name: str) -> PressFile | None:
    with store.connect() as conn:
        row = (
            conn.execute(
                select(press_files).where(
                    press_files.c.mailing_id == mailing_id, press_files.c.name == name
                )
            )
            .mappings()
            .first()
        )
        return _row(row) if row is not None else None


def remove_file(store: Store, file: PressFile, folder: Path) -> None:
    """Delete the row, and the blobs no other row names."""
    with store.begin() as conn:
        conn.execute(press_files.delete().where(press_files.c.id == file.id))
        for sha in {file.sha256, file.preview_sha256} - {None}:
            assert sha is not None
            used = conn.execute(
                select(func.count())
                .select_from(press_files)
                .where(or_(press_files.c.sha256 == sha, press_files.c.preview_sha256 == sha))
            ).scalar_one()
            if not used:
                blob_path(folder, sha).unlink(missing_ok=True)


def delivered_to(store: Store, mailing_id: int, subscriber_id: int) -> bool:
    """Whether the mailing has a delivery to this subscriber (an erased person's row has
    lost its subscriber, so their personal links open nothing any more)."""
    with store.connect() as conn:
        return (
            conn.execute(
                select(deliveries.c.id)
                .where(
                    deliveries.c.mailing_id == mailing_id,
                    deliveries.c.subscriber_id == subscriber_id,
                )
                .limit(1)
            ).first()
            is not None
        )
