"""A press release under embargo with a press kit, really sent over SMTP on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.mailings import Workflow
from pipeline.store import Store
from tests.support.kits import (
    ALT,
    CREDIT,
    EDITOR,
    LICENCE,
    approve_and_send,
    import_press,
    pdf,
    photo,
    press_draft,
)
from tests.support.smtp import SmtpServer, loopback_smtp
from tests.support.web import set_editor_env

KIT_LINK = re.compile(
    r"https://[^\s\"<>]+/press/(\d+)/files/([A-Za-z0-9._-]+)(/preview)?(\?t=[^\s\"<>]+)?"
)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    set_editor_env(monkeypatch, settings)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(settings_factory: object, server: SmtpServer) -> Settings:
    settings: Settings = settings_factory(  # type: ignore[operator]
        **loopback_smtp(server),
    )
    return settings


@dataclass
class SentKit:
    mailing_id: int
    embargo_hours: int
    messages: dict[str, EmailMessage]  # by recipient

    def links(self, address: str) -> dict[str, str]:
        """File (or "NAME/preview") -> the path and query of its link in the HTML part."""
        html = part(self.messages[address], "html")
        found = {}
        for match in KIT_LINK.finditer(html):
            key = match.group(2) + (match.group(3) or "")
            path = f"/press/{match.group(1)}/files/{match.group(2)}{match.group(3) or ''}"
            found[key] = path + (match.group(4) or "").replace("&amp;", "&")
        return found


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None
    return str(body.get_content())


def send_kit(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    *,
    extra: dict[str, bytes] | None = None,
) -> SentKit:
    import_press(settings, store, clock, tmp_path)
    mailing = press_draft(settings, store, clock, embargo=clock.now() + timedelta(hours=24))
    flow = Workflow(settings, store, clock)
    flow.add_file(mailing.id, by=EDITOR, data=pdf(), name="Pressemappe.pdf", licence=LICENCE)
    flow.add_file(
        mailing.id, by=EDITOR, data=photo(1200, 800), name="Rathaus Görlitz.jpg",
        credit=CREDIT, licence=LICENCE, alt_text=ALT,
    )  # fmt: skip
    for name, data in (extra or {}).items():
        flow.add_file(mailing.id, by=EDITOR, data=data, name=name)
    approve_and_send(settings, store, clock, server, mailing.id)
    messages = {m.rcpt_tos[0]: m.message for m in server.messages}
    return SentKit(mailing.id, 24, messages)
