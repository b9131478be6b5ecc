"""Maildir transport: each message becomes one file in ``new/`` (the demo and dry runs).

Files are written to ``tmp/``, flushed to disk and then renamed into ``new/``, so a
reader (a mail client, ``mutt -f``) never sees half a message and a crash leaves at most
a stray file in ``tmp/``. Line ends are LF, as mail clients expect in a Maildir.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from pipeline.deliver import ClosedOnExit, OutgoingMessage, SendResult
from pipeline.errors import DeliveryError


class MaildirTransport(ClosedOnExit):
    name = "maildir"
    batch_hint = 200

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.fsync = fsync
        try:
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeliveryError(f"cannot create the Maildir {self.path}: {exc.strerror}") from exc
        self._host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def _unique(self) -> str:
        with self._lock:
            n = next(self._counter)
        now = time.time()
        return f"{int(now)}.M{int(now * 1e6) % 1_000_000}P{os.getpid()}Q{n}.{self._host}"

    def send(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        for message in batch:
            name = self._unique()
            tmp = self.path / "tmp" / name
            try:
                with open(tmp, "wb") as handle:
                    handle.write(message.data.replace(b"\r\n", b"\n"))
                    if self.fsync:
                        handle.flush()
                        os.fsync(handle.fileno())
                os.rename(tmp, self.path / "new" / name)
            except OSError as exc:
                # A full disk or a permissions problem stops the send, it is not the
                # recipient's fault.
                tmp.unlink(missing_ok=True)
                raise DeliveryError(f"cannot write to the Maildir {self.path}: {exc}") from exc
            results.append(SendResult(message.delivery_id, message.recipient, True, name))
        return results

    def close(self) -> None:
        return None
