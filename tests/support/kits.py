"""Press kit fixtures: a small JPEG photo and a PDF made here, and a press release under
embargo with a kit, sent over SMTP to the press list (journalists from a CSV)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.access import Actor, Role
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.smtp import SmtpTransport
from pipeline.mailings import Workflow
from pipeline.models import Mailing
from pipeline.store import Store
from pipeline.subscribers import Subscribers
from tests.support.mail_items import add_item, seed_paragraphs
from tests.support.press_record import write_press_csv
from tests.support.smtp import SmtpServer

EDITOR = Actor("anna@junge-buergermeister.example", Role.EDITOR)
APPROVER = Actor("bert@junge-buergermeister.example", Role.APPROVER)
ADMIN = Actor("dora@junge-buergermeister.example", Role.ADMIN)
CREDIT = "Anna Berger / Netzwerk Junge Bürgermeister*innen"
LICENCE = "CC BY 4.0"
ALT = "Drei Bürgermeisterinnen vor dem Rathaus in Görlitz"


def photo(width: int = 1600, height: int = 1000, *, kind: str = "JPEG") -> bytes:
    """A photo with some structure (a gradient), as a camera would hand it over."""
    from PIL import Image

    across = Image.linear_gradient("L").rotate(90).resize((width, height))
    down = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (across, down, Image.radial_gradient("L").resize((width, height))))
    out = io.BytesIO()
    image.save(out, kind, quality=80)
    return out.getvalue()


def pdf(text: str | None = None) -> bytes:
    """A one-page PDF naming the release (enough for a reader to open)."""
    words = (text or seed_paragraphs()[0])[:60].encode("latin-1", "replace")
    words = words.replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 12 Tf 40 780 Td (" + words + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def press_draft(
    settings: Settings, store: Store, clock: FakeClock, *, embargo: datetime | None = None
) -> Mailing:
    item = add_item(
        store,
        title="Bürgermeister*innen fordern ein Investitionsprogramm für Kommunen",
        kind="press_release",
        published_at=clock.now() - timedelta(hours=1),
    )
    return Workflow(settings, store, clock).compose_press(item, by=EDITOR, embargo=embargo)


def import_press(settings: Settings, store: Store, clock: FakeClock, tmp_path: Path) -> None:
    Subscribers(settings, store, clock).import_csv(
        write_press_csv(tmp_path / "presse.csv"), by=ADMIN, list_name="press"
    )


def approve_and_send(
    settings: Settings, store: Store, clock: FakeClock, server: SmtpServer, mailing_id: int
) -> None:
    flow = Workflow(settings, store, clock)
    flow.approve(mailing_id, by=APPROVER)
    clock.advance(minutes=1)
    transport = SmtpTransport(
        host=server.host,
        port=server.port,
        timeout=5,
        max_message_bytes=settings.smtp.max_message_bytes,
    )
    try:
        report = flow.send_now(mailing_id, transport=transport, by=APPROVER)
    finally:
        transport.close()
    assert report.status == "sent", report
