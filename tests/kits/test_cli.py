"""Issue 13, item 4 on the command line: ``rundbrief press files add|list|remove``; the
files land in ``[press] files_dir`` relative to the configuration file; bad input is one
line naming what was wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.clock import SystemClock
from pipeline.config import load_settings
from pipeline.store import Store
from tests.compose.test_cli import CONFIG
from tests.support.cli import Run, run_cli
from tests.support.kits import ALT, CREDIT, LICENCE, pdf, photo, press_draft
from tests.support.settings import write_config


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    monkeypatch.setenv("RUNDBRIEF_TEST_SECRET", "ein-langes-geheimnis-fuer-die-links")
    monkeypatch.delenv("RUNDBRIEF_AS", raising=False)
    # run from elsewhere: the folder is the configuration's, not the working directory's
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    site = tmp_path / "site"
    site.mkdir()
    config = write_config(
        site,
        CONFIG.replace("sqlite:///var/test.db", f"sqlite:///{site / 'rundbrief.db'}")
        + '\n[press]\nfiles_dir = "pressematerial"\n',
    )
    settings = load_settings(config)
    store = Store.open(settings.database_url())
    mailing = press_draft(settings, store, SystemClock())  # type: ignore[arg-type]
    store.close()
    return config, mailing.id


@pytest.fixture
def rb(site: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def invoke(*args: str) -> Run:
        return run_cli(capsys, site[0], *args)

    return invoke


def test_add_list_and_remove(
    rb: Callable[..., Run], site: tuple[Path, int], tmp_path: Path
) -> None:
    config, mailing_id = site
    photo_file = tmp_path / "Rathaus Görlitz.jpg"
    photo_file.write_bytes(photo(1200, 800))
    added = rb(
        "press", "files", "add", str(mailing_id), str(photo_file),
        "--credit", CREDIT, "--licence", LICENCE, "--alt", ALT, "--json",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    data = added.json()
    assert data["name"] == "Rathaus-Goerlitz.jpg"
    assert (data["width"], data["height"], data["preview"]["width"]) == (1200, 800, 600)
    assert (config.parent / "pressematerial" / data["sha256"][:2] / data["sha256"]).exists()

    pdf_file = tmp_path / "mappe.pdf"
    pdf_file.write_bytes(pdf())
    plain = rb("press", "files", "add", str(mailing_id), str(pdf_file), "--name", "../Mappe.pdf")
    assert plain.returncode == 0, plain.stderr
    assert "added Mappe.pdf (application/pdf" in plain.stdout
    assert "approve it again" in plain.stdout

    listed = rb("press", "files", "list", str(mailing_id))
    assert listed.returncode == 0
    assert "Mappe.pdf" in listed.stdout and "Rathaus-Goerlitz.jpg" in listed.stdout
    assert "1200 × 800" in listed.stdout
    as_json = rb("press", "files", "list", str(mailing_id), "--json").json()
    assert [f["name"] for f in as_json["files"]] == ["Mappe.pdf", "Rathaus-Goerlitz.jpg"]

    removed = rb("press", "files", "remove", str(mailing_id), "Mappe.pdf")
    assert removed.returncode == 0 and "removed Mappe.pdf" in removed.stdout
    again = rb("press", "files", "remove", str(mailing_id), "Mappe.pdf")
    assert again.returncode != 0
    assert "has no file 'Mappe.pdf'" in again.stderr and "Traceback" not in again.stderr


def test_bad_input_is_one_line(
    rb: Callable[..., Run], site: tuple[Path, int], tmp_path: Path
) -> None:
    _, mailing_id = site
    broken = tmp_path / "kaputt.jpg"
    broken.write_bytes(b"\xff\xd8\xff not a photo")
    result = rb("press", "files", "add", str(mailing_id), str(broken))
    assert result.returncode != 0
    assert "image kaputt.jpg: the file is broken or not an image" in result.stderr
    missing = rb("press", "files", "add", str(mailing_id), str(tmp_path / "fehlt.pdf"))
    assert missing.returncode != 0 and "cannot read" in missing.stderr
    unknown = rb("press", "files", "list", "999")
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
