"""The store's error boundary against real faults: a SQLite file locked by another
process, a read-only file, a PostgreSQL server stopped in the middle of the work. Each
ends in one ``StoreError`` line naming the store and what to do: the CLI exits non-zero
without a traceback, the web app answers 503 with Retry-After, the daemon runs the job
again once the store is back."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import select

from pipeline.audience import suppression
from pipeline.clock import FakeClock, SystemClock
from pipeline.config import Settings
from pipeline.errors import StoreError
from pipeline.schedule.daemon import Daemon, run_job
from pipeline.store import Store
from pipeline.store import audience as audience_db
from pipeline.store.schema import job_runs
from tests.support.dbfaults import PrivateCluster, locked, postgres_bin
from tests.support.settings import make_settings
from tests.support.web import make_app, set_editor_env

REPO = Path(__file__).resolve().parents[2]
FAST = {"storage": {"busy_timeout_seconds": 0.2}}

CONFIG = """
[organisation]
name = "Netzwerk Junge Bürgermeister*innen"
website = "https://www.junge-buergermeister.example"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "https://www.junge-buergermeister.example/impressum"

[storage]
url = "{url}"
busy_timeout_seconds = 0.2

[[lists]]
name = "members"
title = "Mitglieder-Newsletter"
reason = "Sie erhalten diese E-Mail als Mitglied."
double_opt_in = false

[[lists]]
name = "press"
title = "Presseverteiler"
reason = "Sie erhalten diese E-Mail, weil Sie sich angemeldet haben."

[sender]
from_name = "Netzwerk Junge Bürgermeister*innen"
from_address = "newsletter@junge-buergermeister.example"
"""


def write_config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(url=url), encoding="utf-8")
    return config


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "--config", str(config), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "RUNDBRIEF_SECRET": "s" * 40},
    )


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("rundbrief: error:")]
    assert len(errors) == 1 and len(lines) == 1, stderr
    return errors[0]


@pytest.fixture
def fast(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, **FAST)


@pytest.fixture
def fast_store(fast: Settings) -> Iterator[Store]:
    store = Store.open(fast.database_url(), busy_timeout=fast.storage.busy_timeout_seconds)
    yield store
    store.close()


# --- SQLite locked by another process ---------------------------------------------------


def test_a_locked_file_is_one_line_naming_the_file_and_what_to_do(
    fast_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "rundbrief.db"
    with locked(path), pytest.raises(StoreError) as caught, fast_store.begin() as conn:
        audience_db.ids_by_email(conn, ["a@example.org"])
    message = str(caught.value)
    assert "\n" not in message
    assert f"the SQLite file {path} is locked by another process" in message
    assert "wait for it or stop it" in message
    assert "busy_timeout_seconds" in message
    # Reads go on while another process writes (WAL): a status page stays readable.
    with locked(path), fast_store.connect() as conn:
        assert audience_db.ids_by_email(conn, ["a@example.org"]) == {}


def test_a_cli_command_on_a_locked_file_prints_one_line_and_fails(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'rundbrief.db'}")
    assert cli(config, "check").returncode == 0
    with locked(tmp_path / "rundbrief.db"):
        # Opening an up-to-date store only reads; the write inside the command fails.
        done = cli(config, "subscribers", "suppress", "weg@example.org")
        counted = cli(config, "subscribers", "count")
    assert done.returncode == 1, done.stderr
    line = one_error_line(done.stderr)
    assert "is locked by another process (waited 0.2 s); wait for it or stop it" in line
    assert str(tmp_path / "rundbrief.db") in line
    assert counted.returncode == 0, counted.stderr
    again = cli(config, "subscribers", "suppress", "weg@example.org")
    assert again.returncode == 0, again.stderr


def test_a_web_request_on_a_locked_file_answers_503(
    fast: Settings, fast_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_editor_env(monkeypatch, fast)
    app = make_app(fast, fast_store, FakeClock())
    client = app.test_client()
    with locked(tmp_path / "rundbrief.db"):
        page = client.post(
            "/signup",
            json={"email": "neu@example.org", "list": "press", "consent": True},
        )
        assert page.status_code == 503
        assert page.headers["Retry-After"] == "30"
        form = client.get("/signup")
        token = form.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
        html = client.post(
            "/signup",
            data={
                "email": "neu@example.org",
                "list": "press",
                "consent": "yes",
                "csrf_token": token,
            },
            headers={"Accept": "text/html"},
        )
    body = html.get_data(as_text=True)
    assert html.status_code == 503
    assert html.headers["Retry-After"] == "30"
    # in the language of the form that was posted (German here), no second language
    assert "Vorübergehend nicht erreichbar" in body and "Temporarily unavailable" not in body
    assert "Traceback" not in body and "sqlite" not in body.lower()


def test_a_daemon_job_put_off_by_a_lock_runs_again_once_it_is_released(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from pipeline.schedule.daemon import RETRY_STORE

    settings = make_settings(
        tmp_path,
        storage={"busy_timeout_seconds": 0.2},
        schedule={
            "store_retry_seconds": 0.2,
            "collect_every_minutes": 60,
            "compose_newsletter": "0 3 1 1 *",
            "send_newsletter": "0 3 1 1 *",
        },
    )
    store = Store.open(settings.database_url(), busy_timeout=0.2)
    clock = SystemClock()
    daemon = Daemon(settings, store, clock=clock)
    runs: dict[str, list[Any]] = {}
    changed = threading.Condition()

    def seen(event: JobExecutionEvent) -> None:
        with changed:
            runs.setdefault(event.job_id, []).append(event.retval)
            changed.notify_all()

    def wait_for(job_id: str, value: Any) -> None:
        with changed:
            assert changed.wait_for(lambda: value in runs.get(job_id, []), timeout=20), runs

    daemon.scheduler.add_listener(seen, EVENT_JOB_EXECUTED)
    caplog.set_level(logging.INFO)
    daemon.start()
    try:
        wait_for("collect", True)  # the first collect, at start
        with locked(tmp_path / "rundbrief.db"):
            daemon.scheduler.add_job(
                run_job,
                DateTrigger(run_date=clock.now()),
                args=("collect",),
                id="collect-now",
                jobstore=RETRY_STORE,
            )
            wait_for("collect-now", False)  # put off, not failed for good
        wait_for("retry:collect", True)  # after the release, the retry ran
    finally:
        daemon.stop()
    put_off = [r for r in caplog.records if r.getMessage().startswith("job put off")]
    assert put_off, [r.getMessage() for r in caplog.records]
    assert "is locked by another process" in put_off[0].getMessage()
    assert "\n" not in put_off[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"
    with store.connect() as conn:
        outcomes = conn.execute(
            select(job_runs.c.outcome).where(job_runs.c.job == "collect").order_by(job_runs.c.id)
        ).scalars()
        assert list(outcomes)[-1] == "ok"
    store.close()


# --- read-only SQLite -------------------------------------------------------------------


def test_a_read_only_file_is_one_line_saying_so(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "rundbrief.db"
    Store.open(f"sqlite:///{path}").close()
    # Opened read-only (as a file on a read-only mount or without write permission is:
    # the tests run as root, who may write to any file).
    readonly = Store.open(f"sqlite:///file:{path}?mode=ro&uri=true", busy_timeout=0.2)
    with pytest.raises(StoreError) as caught:
        suppression.suppress(readonly, "weg@example.org", reason="manual", clock=SystemClock())
    readonly.close()
    message = str(caught.value)
    assert "\n" not in message
    assert f"the SQLite file {path} is read-only; give this user write access" in message
    config = write_config(tmp_path, f"sqlite:///file:{path}?mode=ro&uri=true")
    done = cli(config, "subscribers", "suppress", "weg@example.org")
    assert done.returncode == 1
    assert "is read-only" in one_error_line(done.stderr)


# --- PostgreSQL stopped mid-command -------------------------------------------------------


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed")
    cluster = PrivateCluster(bindir).start()
    yield cluster
    cluster.remove()


@pytest.mark.postgres
def test_a_postgres_server_stopped_mid_command_is_one_line(
    cluster: PrivateCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = cluster.url(password="streng-geheim")
    store = Store.open(url)
    clock = SystemClock()
    suppression.suppress(store, "eins@example.org", reason="manual", clock=clock)
    # The server stops while this process holds a pooled connection to it.
    cluster.stop("fast")
    with pytest.raises(StoreError) as caught:
        suppression.suppress(store, "zwei@example.org", reason="manual", clock=clock)
    message = str(caught.value)
    assert "\n" not in message
    assert f"the database server at 127.0.0.1:{cluster.port}" in message
    assert "is not answering" in message and "check it is running" in message
    assert "streng-geheim" not in message
    # The web app answers 503 for it, and the CLI one line.
    settings = make_settings(tmp_path, storage={"url": url})
    set_editor_env(monkeypatch, settings)
    client = make_app(settings, store, FakeClock()).test_client()
    answer = client.post(
        "/signup", json={"email": "d@example.org", "list": "press", "consent": True}
    )
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    done = cli(write_config(tmp_path, url), "subscribers", "count")
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert "is not answering" in line and "streng-geheim" not in line
    # Back up: the same store object works again (the pool replaced the dead connection).
    cluster.start()
    suppression.suppress(store, "drei@example.org", reason="manual", clock=clock)
    store.close()
