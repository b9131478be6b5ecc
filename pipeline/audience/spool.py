"""A list of report lines that keeps memory flat: the first items in memory, the rest in
a temporary file (deleted when closed or collected), read back in order.

An import of 1,000,000 bad rows reports 1,000,000 lines; held as objects they would cost
hundreds of MB, written out they cost a few MB of disk.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import fields
from typing import IO, Any, Generic, TypeVar

T = TypeVar("T")

KEEP = 1000  # items kept in memory; the rest go to the file


class Spool(Generic[T]):
    """Append-only, iterable in order, sized: a list of frozen dataclasses of plain
    values (``kind``)."""

    def __init__(self, kind: type[T], keep: int = KEEP) -> None:
        self._kind = kind
        self._names = tuple(f.name for f in fields(kind))  # type: ignore[arg-type]
        self._keep = keep
        self._items: list[T] = []
        self._file: IO[str] | None = None
        self._count = 0

    def append(self, item: T) -> None:
        self._count += 1
        if len(self._items) < self._keep:
            self._items.append(item)
            return
        if self._file is None:
            # kept open for the report's life (closed by close() or when collected)
            self._file = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        values = [getattr(item, name) for name in self._names]
        self._file.write(json.dumps(values, ensure_ascii=False) + "\n")

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[T]:
        yield from self._items
        if self._file is not None:
            file = self._file
            file.flush()
            file.seek(0)
            kind: Any = self._kind
            try:
                for line in file:
                    yield kind(*json.loads(line))
            finally:
                file.seek(0, 2)  # appends go on at the end

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
