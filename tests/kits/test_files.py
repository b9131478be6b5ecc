"""Issue 13, item 4: the files of a press kit, through the workflow: kept by checksum in
``[press] files_dir`` (relative to the configuration file), names made safe, an image's
preview for the mail, a broken image refused, changes only while the release is
editable, each change audited and sending the release back to draft."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipeline import audit
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import PressFileError, TransitionError
from pipeline.mailings import Workflow
from pipeline.mailings.files import safe_name
from pipeline.models import MailingStatus
from pipeline.store import Store
from pipeline.store import press_files as store_files
from tests.support.kits import ALT, APPROVER, CREDIT, EDITOR, LICENCE, pdf, photo, press_draft
from tests.support.mail_items import add_items


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")


@pytest.fixture
def flow(settings: Settings, store: Store, clock: FakeClock) -> Workflow:
    return Workflow(settings, store, clock)


def test_a_file_is_kept_by_its_checksum_in_the_configured_folder(
    flow: Workflow, settings: Settings, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    mailing = press_draft(settings, store, clock)
    data = pdf()
    added = flow.add_file(
        mailing.id, by=EDITOR, data=data, name="Pressemappe 2026.pdf", licence=LICENCE
    )
    assert (added.name, added.content_type, added.size) == (
        "Pressemappe-2026.pdf",
        "application/pdf",
        len(data),
    )
    assert added.sha256 == hashlib.sha256(data).hexdigest()
    # var/press-files next to the configuration file, by checksum
    kept = tmp_path / "var" / "press-files" / added.sha256[:2] / added.sha256
    assert kept.read_bytes() == data
    assert [f.name for f in flow.files(mailing.id)] == ["Pressemappe-2026.pdf"]
    entry = audit.entries(store, mailing=mailing.id)[-1]
    assert (entry.action, entry.actor_email) == ("edit", EDITOR.email)
    assert "added Pressemappe-2026.pdf" in entry.summary
    assert entry.details["sha256"] == added.sha256


def test_the_same_name_twice_gets_a_number_and_removing_keeps_shared_bytes(
    flow: Workflow, settings: Settings, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    mailing = press_draft(settings, store, clock)
    data = pdf()
    first = flow.add_file(mailing.id, by=EDITOR, data=data, name="mappe.pdf")
    second = flow.add_file(mailing.id, by=EDITOR, data=data, name="mappe.pdf")
    assert (first.name, second.name) == ("mappe.pdf", "mappe-2.pdf")
    kept = tmp_path / "var" / "press-files" / first.sha256[:2] / first.sha256
    flow.remove_file(mailing.id, "mappe.pdf", by=EDITOR)
    assert kept.exists()  # still the bytes of mappe-2.pdf
    flow.remove_file(mailing.id, "mappe-2.pdf", by=EDITOR)
    assert not kept.exists()
    assert flow.files(mailing.id) == []
    with pytest.raises(PressFileError, match=r"no file 'mappe\.pdf'"):
        flow.remove_file(mailing.id, "mappe.pdf", by=EDITOR)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("Übersicht Straßenbau (final).pdf", "Uebersicht-Strassenbau-final.pdf"),
        ("café-señor.jpg", "cafe-senor.jpg"),
        (".htaccess", "htaccess"),
        ("a/b/<script>alert(1)</script>.pdf", "script.pdf"),
        ("Рекорд.pdf", "pdf"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_hostile_names_become_safe_names(raw: str, safe: str) -> None:
    assert safe_name(raw) == safe


@pytest.mark.parametrize("raw", ["", "   ", "../", "...", "ßß/..", "日本語"])
def test_a_name_with_nothing_left_is_refused_naming_it(raw: str) -> None:
    with pytest.raises(PressFileError, match="nothing is left") as caught:
        safe_name(raw)
    assert caught.value.field == "name"


def test_an_image_gets_its_size_and_a_preview_for_the_mail(
    flow: Workflow, settings: Settings, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    mailing = press_draft(settings, store, clock)
    added = flow.add_file(
        mailing.id, by=EDITOR, data=photo(1600, 1000), name="rathaus.jpg",
        credit=CREDIT, licence=LICENCE, alt_text=ALT,
    )  # fmt: skip
    assert (added.content_type, added.width, added.height) == ("image/jpeg", 1600, 1000)
    assert (added.preview_width, added.preview_height) == (600, 375)
    assert (added.credit, added.licence, added.alt_text) == (CREDIT, LICENCE, ALT)
    from PIL import Image

    kept = (
        tmp_path / "var" / "press-files" / str(added.preview_sha256)[:2] / str(added.preview_sha256)
    )
    with Image.open(kept) as preview:
        assert (preview.format, preview.size) == ("JPEG", (600, 375))
    # a small PNG with transparency keeps its size and stays a PNG
    small = photo(300, 200, kind="PNG")
    png = flow.add_file(mailing.id, by=EDITOR, data=small, name="logo.png")
    assert (png.preview_width, png.preview_height, png.preview_type) == (300, 200, "image/jpeg")
    assert png.alt_text == "logo"  # an image always has alt text in the mail


@pytest.mark.parametrize(
    "data",
    [b"\xff\xd8\xff\xe0 this is not really a jpeg", photo()[:400], b"GIF89a" + b"\0" * 10],
)
def test_a_broken_image_is_refused_and_leaves_nothing(
    flow: Workflow, settings: Settings, store: Store, clock: FakeClock, data: bytes
) -> None:
    mailing = press_draft(settings, store, clock)
    with pytest.raises(PressFileError, match="broken or not an image") as caught:
        flow.add_file(mailing.id, by=EDITOR, data=data, name="foto.jpg")
    assert caught.value.field == "file"
    assert flow.files(mailing.id) == []


def test_an_empty_file_is_refused(
    flow: Workflow, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    with pytest.raises(PressFileError, match="empty"):
        flow.add_file(mailing.id, by=EDITOR, data=b"", name="leer.pdf")


def test_a_change_of_the_kit_needs_a_new_approval(
    flow: Workflow, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    flow.approve(mailing.id, by=APPROVER)
    assert flow.get(mailing.id).status == MailingStatus.APPROVED
    flow.add_file(mailing.id, by=EDITOR, data=pdf(), name="mappe.pdf")
    again = flow.get(mailing.id)
    assert again.status == MailingStatus.DRAFT and again.last_edited_by == EDITOR.email
    # the new render lists the file
    assert "mappe.pdf" in flow.renders(again)["de"].html


def test_files_change_only_while_the_release_is_editable_and_only_of_a_press_release(
    flow: Workflow, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    flow.cancel(mailing.id, by=APPROVER)
    with pytest.raises(TransitionError, match="can no longer be edited"):
        flow.add_file(mailing.id, by=EDITOR, data=pdf(), name="mappe.pdf")
    add_items(store, clock.now(), 2)
    newsletter = flow.compose_newsletter(by=EDITOR)
    assert newsletter is not None
    with pytest.raises(PressFileError, match="newsletter"):
        flow.add_file(newsletter.id, by=EDITOR, data=pdf(), name="mappe.pdf")


def test_a_tampered_file_is_refused_when_read(
    flow: Workflow, settings: Settings, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    mailing = press_draft(settings, store, clock)
    added = flow.add_file(mailing.id, by=EDITOR, data=pdf(), name="mappe.pdf")
    kept = tmp_path / "var" / "press-files" / added.sha256[:2] / added.sha256
    kept.write_bytes(kept.read_bytes().replace(b"Helvetica", b"Helvetico"))
    with pytest.raises(PressFileError, match="does not match its checksum"):
        flow.download(mailing.id, "mappe.pdf", by=EDITOR)
    kept.unlink()
    with pytest.raises(PressFileError, match="missing"):
        store_files.read_blob(tmp_path / "var" / "press-files", added.sha256, what="mappe.pdf")


def test_the_kit_on_postgresql(
    settings: Settings, pg_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    flow = Workflow(settings, pg_store, clock)
    mailing = press_draft(settings, pg_store, clock)
    first = flow.add_file(mailing.id, by=EDITOR, data=pdf(), name="mappe.pdf")
    second = flow.add_file(mailing.id, by=EDITOR, data=photo(800, 600), name="foto.jpg")
    assert [f.name for f in flow.files(mailing.id)] == ["foto.jpg", "mappe.pdf"]
    assert second.width == 800 and first.size == len(pdf())
    found = flow.download(mailing.id, "mappe.pdf", by=EDITOR)
    assert found is not None and found.data == pdf()
    flow.remove_file(mailing.id, "foto.jpg", by=EDITOR)
    assert [f.name for f in flow.files(mailing.id)] == ["mappe.pdf"]


def test_a_tiff_gets_a_preview_and_an_svg_is_a_plain_file(
    flow: Workflow, settings: Settings, store: Store, clock: FakeClock
) -> None:
    mailing = press_draft(settings, store, clock)
    tiff = flow.add_file(mailing.id, by=EDITOR, data=photo(900, 600, kind="TIFF"), name="scan.tif")
    assert (tiff.content_type, tiff.preview_type, tiff.preview_width) == (
        "image/tiff",
        "image/jpeg",
        600,
    )
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    logo = flow.add_file(mailing.id, by=EDITOR, data=svg, name="logo.svg")
    assert (logo.content_type, logo.preview_sha256, logo.width) == ("image/svg+xml", None, None)
