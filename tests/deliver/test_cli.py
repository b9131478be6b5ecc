"""``rundbrief send``, ``worker`` and the delivery part of ``mailing show``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.clock import FakeClock
from pipeline.store import Store
from pipeline.store.bounces import NewBounceEvent, record_event
from pipeline.store.schema import deliveries
from tests.deliver.support import add_mailing, add_subscribers, write_config
from tests.support.cli import Run, run_cli


@pytest.fixture
def rundbrief(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Callable[..., Run]:
    config = write_config(tmp_path)

    def invoke(*args: str) -> Run:
        return run_cli(capsys, config, *args)

    return invoke


def outbox_files(tmp_path: Path) -> list[Path]:
    new = tmp_path / "outbox" / "new"
    return sorted(new.iterdir()) if new.exists() else []


def test_send_json_dry_run_test_copy_and_show(
    rundbrief: Callable[..., Run], tmp_path: Path, store: Store, clock: FakeClock
) -> None:
    add_subscribers(store, clock, 12)
    mailing_id = add_mailing(store, clock)

    run = rundbrief("send", str(mailing_id), "--dry-run", "--json")
    assert run.returncode == 0, run.stderr
    dry = json.loads(run.stdout)
    assert (dry["sent"], dry["built"], dry["dry_run"]) == (0, 12, True)
    assert outbox_files(tmp_path) == []

    run = rundbrief("send", str(mailing_id), "--test-to", "redaktion@junge-buergermeister.example")
    assert run.returncode == 0, run.stderr
    assert "Test copy" in run.stdout
    (copy,) = outbox_files(tmp_path)
    assert b"X-Rundbrief-Test: yes" in copy.read_bytes()
    copy.unlink()

    run = rundbrief("send", str(mailing_id), "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert {k: report[k] for k in ("mailing", "sent", "failed", "suppressed", "skipped")} == {
        "mailing": mailing_id,
        "sent": 12,
        "failed": 0,
        "suppressed": 0,
        "skipped": 0,
    }
    assert isinstance(report["seconds"], float)
    assert len(outbox_files(tmp_path)) == 12

    run = rundbrief("mailing", "show", str(mailing_id), "--json")
    assert run.returncode == 0, run.stderr
    shown = json.loads(run.stdout)
    assert shown["deliveries"]["sent"] == 12 and shown["top_errors"] == []
    run = rundbrief("mailing", "show", str(mailing_id))
    assert "Deliveries: sent 12" in run.stdout
    assert "Reported:" not in run.stdout

    # A bounce reported later for one of the deliveries shows up next to the counts.
    with store.connect() as conn:
        delivery_id = conn.execute(
            select(deliveries.c.id).where(deliveries.c.mailing_id == mailing_id).limit(1)
        ).scalar_one()
    record_event(
        store,
        NewBounceEvent(
            delivery_id=delivery_id,
            email_hash="0" * 64,
            kind="hard",
            status_code="5.1.1",
            detail="550 5.1.1 user unknown",
            source="test",
            source_id="dsn-1",
            received_at=clock.now(),
        ),
    )
    run = rundbrief("mailing", "show", str(mailing_id), "--json")
    assert json.loads(run.stdout)["bounces"] == {"hard": 1}
    assert "Reported:   hard 1" in rundbrief("mailing", "show", str(mailing_id)).stdout

    run = rundbrief("send", str(mailing_id))
    assert run.returncode == 1
    assert run.stderr.strip().startswith("rundbrief: error: mailing")
    assert "already sent" in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_human_summary_and_worker(
    rundbrief: Callable[..., Run], tmp_path: Path, store: Store, clock: FakeClock
) -> None:
    add_subscribers(store, clock, 5)
    mailing_id = add_mailing(store, clock)
    run = rundbrief("send", str(mailing_id))
    assert run.returncode == 0, run.stderr
    assert f"Mailing {mailing_id}: sent 5, failed 0" in run.stdout
    assert "Status: sent" in run.stdout
    run = rundbrief("worker", "--once")
    assert run.returncode == 0, run.stderr
    assert "worker stopped; 0 messages sent" in run.stdout


def test_unknown_mailing_is_one_line(rundbrief: Callable[..., Run]) -> None:
    run = rundbrief("send", "999")
    assert run.returncode == 1
    assert run.stderr.strip() == "rundbrief: error: unknown mailing 999"


def test_mailing_show_counts_possible_duplicates(
    rundbrief: Callable[..., Run], store: Store, clock: FakeClock
) -> None:
    """A delivery sent again after an unanswered attempt is shown as a possible duplicate."""
    from sqlalchemy import update

    add_subscribers(store, clock, 3)
    mailing_id = add_mailing(store, clock)
    assert rundbrief("send", str(mailing_id)).returncode == 0
    show = json.loads(rundbrief("mailing", "show", str(mailing_id), "--json").stdout)
    assert show["possible_duplicates"] == 0
    with store.begin() as conn:
        first = conn.execute(select(deliveries.c.id).limit(1)).scalar_one()
        conn.execute(
            update(deliveries).where(deliveries.c.id == first).values(possible_duplicate=True)
        )
    show = json.loads(rundbrief("mailing", "show", str(mailing_id), "--json").stdout)
    assert show["possible_duplicates"] == 1
    assert "Possible duplicates: 1" in rundbrief("mailing", "show", str(mailing_id)).stdout
