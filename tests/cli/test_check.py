"""``rundbrief check`` as a production gate, and ``send``, ``worker`` and ``run``
refusing a configuration it finds not ready, in the same words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.clock import SystemClock
from pipeline.config import load_settings
from pipeline.store import Store
from tests.conftest import REPO
from tests.deliver.support import SECRET, add_mailing, add_subscribers
from tests.support.cli import Run, run_cli
from tests.support.smtp import SmtpServer

# The repo's demo configuration with its store moved into the test's folder.
DEMO = (REPO / "config.toml").read_text(encoding="utf-8")


def demo_config(tmp_path: Path, *, transport: str = "maildir", extra: str = "") -> Path:
    text = DEMO.replace('url = "sqlite:///var/rundbrief.db"', f'url = "sqlite:///{tmp_path}/rb.db"')
    text = text.replace('transport = "maildir"', f'transport = "{transport}"')
    path = tmp_path / "config.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def line_of(path: Path, pattern: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if re.match(pattern, line))


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", SECRET)


def test_the_demo_config_with_its_maildir_is_ok_even_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNDBRIEF_SECRET")
    config = demo_config(tmp_path)
    run = run_cli(capsys, config, "check")
    assert run.returncode == 0, run.stderr
    assert "transport maildir keeps every message on this machine" in run.stdout
    assert run_cli(capsys, config, "check", "--strict").returncode == 0
    data = run_cli(capsys, config, "check", "--json").json()
    assert data["ok"] is True and data["reaches_people"] is False and data["findings"] == []


def test_the_demo_config_with_smtp_is_not_ready(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = demo_config(tmp_path, transport="smtp")
    run = run_cli(capsys, config, "check")
    assert run.returncode == 1
    out = run.stdout.splitlines()
    assert out[1] == (
        f"{config}: not ready to send to real people with transport smtp: 2 errors, 4 warnings"
    )
    base = line_of(config, r"base_url\s*=")
    assert out[2].startswith(f"{config}:{base}: error: web.base_url: http://127.0.0.1:8000 ")
    assert out[3].startswith("    hint: ")
    found = [re.search(r"\[([a-z-]+)\]$", line) for line in out[2:] if not line.startswith(" ")]
    assert [m.group(1) for m in found if m] == [
        "base-url-not-https",
        "base-url-not-public",
        "dkim-off",
        "no-bounce-handling",
        "imprint-not-public",
        "no-feedback-id",
    ]


def test_json_lists_the_findings_with_their_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = demo_config(tmp_path, transport="smtp")
    run = run_cli(capsys, config, "check", "--json")
    assert run.returncode == 1
    data = run.json()
    assert {k: data[k] for k in ("ok", "transport", "reaches_people", "strict")} == {
        "ok": False,
        "transport": "smtp",
        "reaches_people": True,
        "strict": False,
    }
    assert (data["errors"], data["warnings"]) == (2, 4)
    first = data["findings"][0]
    assert set(first) == {"severity", "code", "key", "message", "hint", "file", "line"}
    assert first["severity"] == "error" and first["key"] == "web.base_url"
    assert first["file"] == str(config) and first["line"] == line_of(config, r"base_url\s*=")


def ready_config(tmp_path: Path, *, smtp: SmtpServer | None = None) -> Path:
    """The demo with smtp, a public https base_url and an imprint on the web: errors
    none, warnings left (DKIM, bounces, Feedback-ID)."""
    config = demo_config(tmp_path, transport="smtp")
    text = config.read_text(encoding="utf-8")
    text = text.replace(
        'base_url = "http://127.0.0.1:8000"', 'base_url = "https://news.verband.de"'
    )
    text = text.replace(
        'imprint_url = "https://www.junge-buergermeister.example/impressum"',
        'imprint_url = "https://www.verband.de/impressum"',
    )
    if smtp is not None:
        text = text.replace(
            'host = "127.0.0.1"\nport = 25', f'host = "{smtp.host}"\nport = {smtp.port}'
        )
    config.write_text(text, encoding="utf-8")
    return config


def test_warnings_pass_unless_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = ready_config(tmp_path)
    run = run_cli(capsys, config, "check")
    assert run.returncode == 0, run.stdout
    assert f"{config}: ready to send with transport smtp (0 errors, 3 warnings)" in run.stdout
    strict = run_cli(capsys, config, "check", "--strict")
    assert strict.returncode == 1
    assert "not ready to send to real people with transport smtp: 3 errors, 0 warnings" in (
        strict.stdout
    )
    data = run_cli(capsys, config, "check", "--strict", "--json").json()
    assert data["ok"] is False and data["strict"] is True
    assert {f["severity"] for f in data["findings"]} == {"error"}


def refusal(run: Run) -> list[str]:
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    return run.stderr.removeprefix("rundbrief: error: ").splitlines()


def test_send_worker_and_run_refuse_with_checks_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], smtp_server: SmtpServer
) -> None:
    config = demo_config(tmp_path, transport="smtp")
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            'host = "127.0.0.1"\nport = 25',
            f'host = "{smtp_server.host}"\nport = {smtp_server.port}',
        ),
        encoding="utf-8",
    )
    checked = run_cli(capsys, config, "check")
    report = checked.stdout.splitlines()[1:]
    assert report[0].endswith("2 errors, 4 warnings")
    store = Store.open(load_settings(config).database_url())
    try:
        clock = SystemClock()
        mailing_id = add_mailing(store, clock)
        add_subscribers(store, clock, 3)
    finally:
        store.close()
    assert refusal(run_cli(capsys, config, "send", str(mailing_id))) == report
    assert refusal(run_cli(capsys, config, "worker", "--once")) == report
    assert refusal(run_cli(capsys, config, "run")) == report
    assert smtp_server.messages == []
    # once ready, the same mailing goes out
    config = ready_config(tmp_path, smtp=smtp_server)
    sent = run_cli(capsys, config, "send", str(mailing_id))
    assert sent.returncode == 0, sent.stderr
    assert len(smtp_server.messages) == 3
