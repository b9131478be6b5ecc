"""A real ``rundbrief serve`` process: client addresses as a reverse proxy sends them, and
sessions that end at logout.

The proxy is played by the test: it connects from loopback and sends ``X-Forwarded-For``
the way nginx does (``$proxy_add_x_forwarded_for``: whatever the client sent, then the
client's real address). With ``[web] proxy_hops = 1`` only the rightmost entry counts;
with no ``proxy_hops`` every forwarded header is ignored.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import select

from pipeline.store import Store
from pipeline.store.schema import subscribers, subscriptions
from tests.support.smtp import free_port
from tests.support.web import (
    EDITOR,
    PASSWORD,
    SECRET,
    csrf_from,
    wait_until_serving,
    write_serve_config,
)


@contextmanager
def serving(tmp_path: Path, *, hops: int) -> Iterator[str]:
    """A ``rundbrief serve`` subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    config = write_serve_config(tmp_path, port, hops=hops)
    env = {
        **os.environ,
        "RUNDBRIEF_SECRET": SECRET,
        "RUNDBRIEF_EDITOR_USER": EDITOR,
        "RUNDBRIEF_EDITOR_PASSWORD": PASSWORD,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--config", str(config), "serve"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process)
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=10)


def _login(base: str, forwarded: str, password: str) -> int:
    """One browser (its own cookies) behind the proxy logs in; the status of the POST."""
    client = requests.Session()
    client.headers["X-Forwarded-For"] = forwarded
    page = client.get(f"{base}/editor/login", timeout=10)
    response = client.post(
        f"{base}/editor/login",
        data={"username": EDITOR, "password": password, "csrf_token": csrf_from(page.text)},
        allow_redirects=False,
        timeout=10,
    )
    return response.status_code


def _sign_up(base: str, forwarded: str, email: str) -> int:
    response = requests.post(
        f"{base}/signup",
        json={"email": email, "list": "press", "consent": True},
        headers={"X-Forwarded-For": forwarded},
        timeout=10,
    )
    return response.status_code


def _signup_ip(tmp_path: Path, email: str) -> str | None:
    store = Store.open(f"sqlite:///{tmp_path / 'rundbrief.db'}", migrate_schema=False)
    try:
        with store.connect() as conn:
            value = conn.execute(
                select(subscriptions.c.signup_ip)
                .join(subscribers, subscribers.c.id == subscriptions.c.subscriber_id)
                .where(subscribers.c.email == email)
            ).scalar_one()
    finally:
        store.close()
    return str(value) if value is not None else None


def test_proxy_hops_gives_each_visitor_their_own_address(tmp_path: Path) -> None:
    with serving(tmp_path, hops=1) as base:
        # A guesses five times, changing what it puts in front of the header each time:
        # only the entry the proxy added (the rightmost) is A's address.
        # (3 free tries, then a delay that doubles: wall-clock time, so until the first 429)
        codes = [_login(base, f"192.0.2.{n + 1}, 203.0.113.5", "geraten") for n in range(8)]
        assert codes[:4] == [401] * 4 and 429 in codes
        assert _login(base, "192.0.2.99, 203.0.113.5", PASSWORD) == 429
        # B, behind the same proxy, is not locked out by A.
        assert _login(base, "198.51.100.7", PASSWORD) == 303
        assert _sign_up(base, "192.0.2.50, 198.51.100.23", "lena.vogt@example.org") == 202
    assert _signup_ip(tmp_path, "lena.vogt@example.org") == "198.51.100.23"


def test_without_proxy_hops_a_forged_header_is_ignored(tmp_path: Path) -> None:
    with serving(tmp_path, hops=0) as base:
        # Every try claims another address; all come from the same peer, so they count together.
        codes = [_login(base, f"203.0.113.{n + 1}", "geraten") for n in range(8)]
        assert codes[:4] == [401] * 4 and 429 in codes
        assert _login(base, "198.51.100.7", PASSWORD) == 429
        assert _sign_up(base, "198.51.100.23", "jonas.weber@example.org") == 202
    assert _signup_ip(tmp_path, "jonas.weber@example.org") == "127.0.0.1"


def test_a_cookie_saved_before_logout_is_refused_by_serve(tmp_path: Path) -> None:
    with serving(tmp_path, hops=1) as base:
        browser = requests.Session()
        page = browser.get(f"{base}/editor/login", timeout=10)
        data = {"username": EDITOR, "password": PASSWORD, "csrf_token": csrf_from(page.text)}
        browser.post(f"{base}/editor/login", data=data, allow_redirects=False, timeout=10)
        token = csrf_from(browser.get(f"{base}/editor/", timeout=10).text)
        saved = browser.cookies.get_dict()
        replay = requests.Session()
        replay.cookies.update(saved)
        assert replay.get(f"{base}/editor/", allow_redirects=False, timeout=10).status_code == 200
        logout = browser.post(
            f"{base}/editor/logout", data={"csrf_token": token}, allow_redirects=False, timeout=10
        )
        assert logout.status_code == 303
        again = replay.get(f"{base}/editor/", allow_redirects=False, timeout=10)
        assert again.status_code == 302
        # With a live session this would reach the view (404: no such mailing).
        edit = replay.post(
            f"{base}/editor/mailings/1/content",
            data={"csrf_token": token, "subject": "Nach dem Abmelden"},
            allow_redirects=False,
            timeout=10,
        )
        assert edit.status_code == 401
