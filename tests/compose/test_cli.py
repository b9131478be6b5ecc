"""The compose, edit, approve, cancel and preview commands as an editor runs them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.store import Store
from tests.support.cli import Run, run_cli
from tests.support.mail_items import add_items
from tests.support.settings import write_config

CONFIG = """
[organisation]
name = "Netzwerk Junge Bürgermeister*innen"
website = "https://www.junge-buergermeister.example"
postal_address = "Marienstraße 6, 10117 Berlin"
imprint_url = "https://www.junge-buergermeister.example/impressum"

[storage]
url = "sqlite:///var/test.db"

[sender]
from_name = "Netzwerk Junge Bürgermeister*innen"
from_address = "newsletter@junge-buergermeister.example"

[web]
base_url = "https://rundbrief.junge-buergermeister.example"
secret_env = "RUNDBRIEF_TEST_SECRET"

[[lists]]
name = "members"
title = "Mitglieder-Newsletter"
reason = "Sie erhalten diese E-Mail als Mitglied."
salutation = "informal"

[[lists]]
name = "press"
title = "Presseverteiler"
reason = "Sie sind im Presseverteiler."
salutation = "formal"
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNDBRIEF_TEST_SECRET", "ein-langes-geheimnis-fuer-die-links")
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path, CONFIG)
    store = Store.open(load_settings(path).database_url())
    add_items(store, datetime.now(UTC), 5, kinds=("article", "event_report"))
    store.close()
    return path


@pytest.fixture
def rb(config: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def invoke(*args: str) -> Run:
        return run_cli(capsys, config, *args)

    return invoke


def test_compose_twice_then_show_and_list(rb: Callable[..., Run]) -> None:
    first = rb("compose", "newsletter", "--json")
    assert first.returncode == 0, first.stderr
    data = first.json()
    assert data["mailing"] == 1 and data["items"] == 5
    assert str(data["subject"]).startswith("Netzwerk Junge Bürgermeister*innen · Newsletter KW ")
    again = rb("compose", "newsletter")
    assert again.returncode == 0
    assert (
        "No newsletter made: this period" in again.stdout
        and "already has newsletter 1" in again.stdout
    )
    assert rb("compose", "newsletter", "--json").json()["mailing"] is None

    listed = rb("mailings", "--json").json()["mailings"]
    assert isinstance(listed, list) and [m["status"] for m in listed] == ["draft"]
    shown = rb("mailing", "show", "1", "--json").json()
    items = shown["items"]
    assert isinstance(items, list) and len(items) == 5
    assert shown["renders"] == {"de": None}
    human = rb("mailing", "show", "1")
    assert "Mailing 1 · newsletter · draft" in human.stdout and "not rendered yet" in human.stdout


def test_edit_approve_edit_again_and_cancel(rb: Callable[..., Run], tmp_path: Path) -> None:
    assert rb("compose", "newsletter").returncode == 0
    before = rb("mailing", "show", "1", "--json").json()["items"]
    assert isinstance(before, list)
    ids = [i["id"] for i in before]
    intro = tmp_path / "intro.md"
    intro.write_text("Liebe Mitglieder,\n\ndiese Woche **viel Neues** aus den Rathäusern.\n")
    edited = rb(
        "edit", "1", "--intro-file", str(intro), "--drop", str(ids[1]),
        "--move", str(ids[4]), "--to", "1", "--subject", "Sommerausgabe", "--json",
    )  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    data = edited.json()
    assert data["items"] == [ids[4], ids[0], ids[2], ids[3]]
    assert data["subject"] == "Sommerausgabe" and "viel Neues" in str(data["intro_md"])

    # no account yet: the local shell approves (and the log says so)
    approved = rb("approve", "1")
    assert approved.returncode == 0 and "approved by cli@localhost" in approved.stdout
    assert rb("mailing", "show", "1", "--json").json()["renders"] != {"de": None}
    again = rb("edit", "1", "--subject", "Sommerausgabe 2")
    assert "is a draft again" in again.stdout
    assert rb("mailing", "show", "1", "--json").json()["status"] == "draft"
    assert rb("cancel", "1").returncode == 0
    refused = rb("edit", "1", "--subject", "zu spät")
    assert refused.returncode == 1
    assert (
        refused.stderr.strip()
        == "rundbrief: error: mailing 1 is cancelled; it can no longer be edited"
    )


def test_errors_are_one_line(rb: Callable[..., Run]) -> None:
    missing = rb("approve", "99")
    assert (
        missing.returncode == 1
        and missing.stderr == "rundbrief: error: mailing 99: no such mailing\n"
    )
    assert rb("compose", "newsletter").returncode == 0
    bad = rb("edit", "1", "--move", "1")
    assert bad.stderr.strip() == "rundbrief: error: --move ITEM and --to POSITION go together"
    bad = rb("compose", "press", "1", "--embargo", "morgen früh")
    assert "expected a date and time such as 2026-06-25T10:00" in bad.stderr
    nothing = rb("edit", "1")
    assert "nothing to change" in nothing.stderr and nothing.returncode == 1


def test_press_with_embargo_and_preview_files(rb: Callable[..., Run], tmp_path: Path) -> None:
    made = rb("compose", "press", "2", "--embargo", "2099-06-25T10:00", "--json")
    assert made.returncode == 0, made.stderr
    mailing = made.json()["mailing"]
    assert made.json()["items"] == 1
    shown = rb("mailing", "show", str(mailing), "--json").json()
    # in the organisation's zone, not UTC: 10:00 in Berlin, summer
    assert shown["embargo"] == "2099-06-25T10:00:00+02:00" and shown["send_at"] is None
    out = tmp_path / "vorschau"
    preview = rb("preview", str(mailing), "--out", str(out), "--json")
    assert preview.returncode == 0, preview.stderr
    data = preview.json()
    assert data["sample"] is True and data["language"] == "de"
    html = (out / "preview.html").read_text("utf-8")
    assert "Sperrfrist: Donnerstag, 25. Juni 2099, 10:00 Uhr (MESZ)" in html
    assert "Sehr geehrte Frau Dr. Mustermann," in html
    eml = (out / "preview.eml").read_bytes()
    assert b"List-Unsubscribe: <https://rundbrief.junge-buergermeister.example/u/" in eml
    assert (out / "preview.txt").read_text("utf-8").count("Sehr geehrte Frau Dr. Mustermann,") == 1
    human = rb("preview", str(mailing), "--out", str(out))
    assert "preview.eml" in human.stdout and "rundbrief serve" in human.stdout


def test_press_with_send_time_and_embargo_in_local_time(rb: Callable[..., Run]) -> None:
    made = rb(
        "compose", "press", "2", "--send-at", "2099-06-25 08:00", "--embargo", "2099-06-25T10:00"
    )
    assert made.returncode == 0, made.stderr
    assert "sent at 2099-06-25 08:00" in made.stdout
    assert "embargo (Sperrfrist) 2099-06-25 10:00" in made.stdout
    shown = rb("mailing", "show", "1")
    assert "Send at:   2099-06-25 08:00" in shown.stdout
    assert "Embargo:   2099-06-25 10:00" in shown.stdout
    data = rb("mailing", "show", "1", "--json").json()
    assert (data["send_at"], data["embargo"]) == (
        "2099-06-25T08:00:00+02:00",
        "2099-06-25T10:00:00+02:00",
    )
    before = rb("edit", "1", "--embargo", "2099-06-25T07:30")
    assert before.returncode == 1
    assert before.stderr.startswith("rundbrief: error: the embargo 2099-06-25 07:30 is before")
    assert "2099-06-25 08:00 (Europe/Berlin)" in before.stderr and "+00:00" not in before.stderr
    moved = rb("edit", "1", "--send-at", "now", "--embargo", "2099-06-26T09:00")
    assert moved.returncode == 0, moved.stderr
    data = rb("mailing", "show", "1", "--json").json()
    assert (data["send_at"], data["embargo"]) == (None, "2099-06-26T09:00:00+02:00")
    assert "embargo" in rb("mailings").stdout
    past = rb("compose", "press", "3", "--send-at", "2020-01-01T10:00")
    assert past.returncode == 1 and "the send time 2020-01-01 10:00" in past.stderr
    assert "is in the past" in past.stderr


def test_press_written_from_a_text_file(rb: Callable[..., Run], tmp_path: Path) -> None:
    text = tmp_path / "mitteilung.md"
    text.write_text("Die Kommunen brauchen **jetzt** Planungssicherheit.\n", encoding="utf-8")
    made = rb(
        "compose",
        "press",
        "--title",
        "Bürgermeister*innen fordern Investitionen",
        "--text-file",
        str(text),
        "--json",
    )
    assert made.returncode == 0, made.stderr
    assert made.json()["subject"] == "Bürgermeister*innen fordern Investitionen"
    for args, message in (
        (("compose", "press"), "give an item id, or --title and --text-file"),
        (("compose", "press", "2", "--title", "T"), "give an item id, or --title"),
        (("compose", "press", "--title", "T"), "needs --title and --text-file"),
        (("compose", "press", "--title", "T", "--text-file", "fehlt.md"), "fehlt.md: no such file"),
        (
            ("compose", "press", "--title", "T", "--text-file", str(text), "--image-url", "x"),
            "image_url 'x' is not an https address",
        ),
    ):
        refused = rb(*args)
        assert refused.returncode == 1, args
        assert message in refused.stderr, (args, refused.stderr)


def test_preview_without_the_secret_names_the_variable(
    rb: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert rb("compose", "newsletter").returncode == 0
    monkeypatch.delenv("RUNDBRIEF_TEST_SECRET")
    failed = rb("preview", "1")
    assert failed.returncode == 2
    assert "web.secret_env names the environment variable RUNDBRIEF_TEST_SECRET" in failed.stderr
