"""Audience fixtures: the signing secret, CSV writing, a live web app on loopback."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.store import Store

SECRET = "test-secret-for-signing-links-0123456789"


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RUNDBRIEF_SECRET", SECRET)
    return SECRET


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str, name: str = "list.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


class LiveServer:
    """A werkzeug server for a Flask app on 127.0.0.1 in a thread."""

    def __init__(self, app: Flask) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
        self._server.server_close()


@pytest.fixture
def live_app() -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(settings: Settings, store: Store, clock: FakeClock, **kwargs: Any) -> LiveServer:
        from pipeline.web import create_app

        server = LiveServer(create_app(settings, store, clock=clock, **kwargs)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
