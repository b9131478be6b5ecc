"""Issue 13, item 4: the press kit in the mail. A "Pressematerial" section in HTML and
text: each file a link with size, credit and licence, an image as its preview with alt
text; links personal per recipient. Small files are attached as well, as long as the
whole message stays under the server's size limit (EHLO SIZE, else [smtp]
max_message_bytes); the rest stay links."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.attachments import choose, encoded_size, message_limit
from pipeline.deliver.smtp import SmtpTransport
from pipeline.store import Store
from tests.kits.conftest import part, send_kit
from tests.support.kits import ALT, CREDIT, LICENCE, pdf
from tests.support.press_record import JOURNALISTS
from tests.support.smtp import SmtpServer, loopback_smtp

JANA = JOURNALISTS[0][0]


def test_html_and_text_list_the_kit_with_size_credit_licence_and_preview(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    sent = send_kit(smtp_settings, store, clock, tmp_path, server)
    assert len(sent.messages) == len(JOURNALISTS)
    message = sent.messages[JANA]
    html, text = part(message, "html"), part(message, "plain")
    assert "Pressematerial" in html and "PRESSEMATERIAL" in text
    assert "Vor Ablauf der Sperrfrist öffnen diese Links die Dateien nur für Sie." in html
    for body, close in ((html, "</a>"), (text, "")):
        assert f"Pressemappe.pdf{close} (PDF, {len(pdf())} B)" in body
        assert f"Rathaus-Goerlitz.jpg{close} (JPEG, " in body
        assert f"Bildnachweis: {CREDIT}" in body
        assert f"Lizenz: {LICENCE}" in body
    # the image as its preview, with alt text, linked to the file
    assert f'alt="{ALT}"' in html
    preview = sent.links(JANA)["Rathaus-Goerlitz.jpg/preview"]
    assert preview.split("?")[0] in html and "?t=" in preview
    assert "⟦" not in html and "⟦" not in text
    # nothing attached by default: links only
    assert not list(message.iter_attachments())


def test_a_credit_that_starts_with_its_own_label_is_not_labelled_twice(
    settings: Settings, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.mailings import Workflow
    from tests.support.kits import EDITOR, photo, press_draft

    monkeypatch.setenv(settings.web.secret_env, "ein-langes-geheimnis-fuer-die-links")
    mailing = press_draft(settings, store, clock)
    flow = Workflow(settings, store, clock)
    flow.add_file(
        mailing.id, by=EDITOR, data=photo(300, 200), name="a.jpg", credit="Foto: Anna Berger"
    )
    text = flow.renders(flow.get(mailing.id))["de"].text
    assert "Bildnachweis: Anna Berger" in text and "Foto: Anna" not in text


def test_small_files_are_attached_and_large_ones_stay_links(
    settings_factory: object,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
) -> None:
    settings: Settings = settings_factory(  # type: ignore[operator]
        **loopback_smtp(server),
        press={"attach_below_bytes": 100_000},
    )
    big = os.urandom(150_000)
    sent = send_kit(settings, store, clock, tmp_path, server, extra={"daten.bin": big})
    message = sent.messages[JANA]
    assert message.get_content_type() == "multipart/mixed"
    attached = {a.get_filename(): a for a in message.iter_attachments()}
    # the PDF and the photo (under 100 KB) travel along; the 150 KB file is a link only
    assert set(attached) == {"Pressemappe.pdf", "Rathaus-Goerlitz.jpg"}
    assert attached["Pressemappe.pdf"].get_content() == pdf()
    assert attached["Pressemappe.pdf"].get_content_type() == "application/pdf"
    assert "daten.bin" in part(message, "html")


@pytest.fixture
def small_server() -> Iterator[SmtpServer]:
    # announces "SIZE 120000" in its EHLO: the PDF fits, the photo would not
    server = SmtpServer(data_size_limit=120_000).start()
    yield server
    server.stop()


def test_the_servers_ehlo_size_keeps_the_message_under_its_limit(
    settings_factory: object,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    small_server: SmtpServer,
) -> None:
    settings: Settings = settings_factory(  # type: ignore[operator]
        delivery={"transport": "smtp", "per_second": 1000},
        smtp={"host": small_server.host, "port": small_server.port, "security": "none"},
        press={"attach_below_bytes": 1_000_000},
    )
    sent = send_kit(settings, store, clock, tmp_path, small_server)
    raw_sizes = [len(m.data) for m in small_server.messages]
    assert max(raw_sizes) < 120_000
    attached = [a.get_filename() for a in sent.messages[JANA].iter_attachments()]
    assert attached == ["Pressemappe.pdf"]


def test_without_size_in_ehlo_the_configured_limit_counts(small_server: SmtpServer) -> None:
    transport = SmtpTransport(host=small_server.host, port=small_server.port, timeout=5)
    try:
        assert message_limit(None, transport) == 120_000  # type: ignore[arg-type]
    finally:
        transport.close()


def test_choose_takes_the_smallest_first_within_the_budget() -> None:
    from pipeline.models import PressFile

    def f(name: str, size: int) -> PressFile:
        return PressFile(0, 1, name, "application/pdf", size, "0" * 64)

    files = [f("a.pdf", 60_000), f("b.pdf", 30_000), f("c.pdf", 30_000), f("d.pdf", 500_000)]
    tiny = replace(f("setup.exe", 10), content_type="application/octet-stream")
    assert choose([tiny], below=100_000, limit=10**9, body=0) == []  # a link only
    budget = 50_000 + 32 * 1024 + 2 * (encoded_size(30_000) + 512)
    chosen = choose(files, below=100_000, limit=budget, body=50_000)
    assert [x.name for x in chosen] == ["b.pdf", "c.pdf"]
    assert choose(files, below=0, limit=10**9, body=0) == []


def test_a_test_copy_carries_the_attachments_too(
    settings_factory: object, store: Store, clock: FakeClock, server: SmtpServer
) -> None:
    from pipeline.access import Actor, Role
    from pipeline.mailings import Workflow
    from tests.support.kits import EDITOR, press_draft

    settings: Settings = settings_factory(  # type: ignore[operator]
        **loopback_smtp(server),
        press={"attach_below_bytes": 100_000},
        sender={"editors": [EDITOR.email]},
    )
    mailing = press_draft(settings, store, clock)
    flow = Workflow(settings, store, clock)
    flow.add_file(mailing.id, by=EDITOR, data=pdf(), name="Pressemappe.pdf")
    transport = SmtpTransport(host=server.host, port=server.port, timeout=5)
    try:
        result = flow.send_test_copy(
            mailing.id, EDITOR.email, by=Actor(EDITOR.email, Role.EDITOR), transport=transport
        )
    finally:
        transport.close()
    assert result.ok, result
    (received,) = server.messages
    attached = [a.get_filename() for a in received.message.iter_attachments()]
    assert attached == ["Pressemappe.pdf"]
    assert "?t=" not in part(received.message, "html")  # plain links for the editor
