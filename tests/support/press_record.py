"""A press release really sent to a small press list, for the distribution record tests.

The journalists are imported from a CSV file (outlet, beat, region as attributes), the
release is composed by an editor, approved by an approver and sent over SMTP to a loopback
server that answers with Postfix-style queue ids (the provider message ids). Bounces
and complaints then arrive the way a webhook hands them to the bounce processor.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from pipeline.access import Actor, Role
from pipeline.bounces import BounceEvent, BounceKind, BounceProcessor
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.smtp import SmtpTransport
from pipeline.mailings import Workflow
from pipeline.store import Store
from pipeline.subscribers import Subscribers
from tests.support.mail_items import add_item
from tests.support.smtp import MailSink, SmtpServer

EDITOR = Actor("anna@junge-buergermeister.example", Role.EDITOR)
APPROVER = Actor("bert@junge-buergermeister.example", Role.APPROVER)
ADMIN = Actor("dora@junge-buergermeister.example", Role.ADMIN)

# email, salutation, first name, last name, outlet, beat, region
JOURNALISTS = [
    ("j.koehler@tageszeitung-ost.example", "Frau", "Jana", "Köhler",
     "Tageszeitung Ost", "Kommunalpolitik", "Berlin"),
    ("redaktion.gruen@landesfunk.example", "Herr", "Björn", "Grün",
     "Landesfunk", "Landespolitik", "Brandenburg"),
    ("m.oezdemir@stadtanzeiger.example", "Frau", "Merve", "Özdemir",
     "Stadtanzeiger Görlitz", "Digitales", "Sachsen"),
    ("t.weiss@wirtschaftswoche-sued.example", "Herr", "Tobias", "Weiß",
     "Wirtschaftswoche Süd", "Wirtschaft", "Bayern"),
    ("l.schaefer@kulturradio.example", "", "Lea", "Schäfer",
     "Kulturradio", "", "Hessen"),
]  # fmt: skip
# A journalist whose imported columns are formulas: a spreadsheet must show them as text.
HOSTILE = (
    "a.hacker@boeswillig.example", "Herr", "=HYPERLINK(\"http://boese.example\";\"Klick\")",
    "Mustermann", "=cmd|' /C calc'!A0", "+Wirtschaft", "@Bayern",
)  # fmt: skip

BOUNCED_HARD = JOURNALISTS[1][0]
BOUNCED_SOFT = JOURNALISTS[2][0]
COMPLAINED = JOURNALISTS[3][0]
ERASED = JOURNALISTS[4][0]


def queue_id(address: str) -> str:
    """The queue id the server answers for a message to ``address``."""
    return "4Q" + hashlib.sha256(address.encode()).hexdigest()[:10].upper()


@dataclass
class QueueIdSink(MailSink):
    """Answers each accepted message as Postfix does: "250 2.0.0 Ok: queued as ID"."""

    replies: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):
            return f"250 2.0.0 Ok: queued as {queue_id(str(envelope.rcpt_tos[0]))}"
        return reply


def write_press_csv(path: Path, *, hostile: bool = False) -> Path:
    rows = [*JOURNALISTS, *([HOSTILE] if hostile else [])]
    lines = ["email,salutation,first_name,last_name,outlet,beat,region"]
    for email, salutation, first, last, outlet, beat, region in rows:
        cells = [email, salutation, first, last, outlet, beat, region]
        lines.append(",".join('"' + c.replace('"', '""') + '"' for c in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def send_release(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    *,
    hostile: bool = False,
) -> int:
    """Import the press list, compose, approve and send one release; return its id."""
    Subscribers(settings, store, clock).import_csv(
        write_press_csv(tmp_path / "presse.csv", hostile=hostile), by=ADMIN, list_name="press"
    )
    item = add_item(
        store,
        title="Bürgermeister*innen fordern ein Investitionsprogramm für Kommunen",
        kind="press_release",
        published_at=clock.now() - timedelta(hours=1),
    )
    flow = Workflow(settings, store, clock)
    mailing = flow.compose_press(item, by=EDITOR)
    flow.approve(mailing.id, by=APPROVER)
    clock.advance(minutes=2)
    transport = SmtpTransport(host=server.host, port=server.port, timeout=5)
    try:
        report = flow.send_now(mailing.id, transport=transport, by=APPROVER)
    finally:
        transport.close()
    assert report.status == "sent", report
    return mailing.id


def report_back(settings: Settings, store: Store, clock: FakeClock, mailing_id: int) -> None:
    """A hard bounce, a soft bounce and a complaint arrive (as a provider's webhook
    decodes them), then the complaining journalist's colleague asks to be erased."""
    from pipeline.store import bounces as store_bounces

    def delivery_id(address: str) -> int:
        for ref_id in range(1, 1000):
            ref = store_bounces.delivery_by_id(store, ref_id)
            if ref is not None and ref.mailing_id == mailing_id and ref.email == address:
                return ref_id
        raise AssertionError(f"no delivery to {address}")

    clock.advance(minutes=5)
    events = [
        BounceEvent(BounceKind.HARD, BOUNCED_HARD, "5.1.1", "user unknown", "t-hard",
                    delivery_id=delivery_id(BOUNCED_HARD),
                    provider_message_id=queue_id(BOUNCED_HARD), source="postmark"),
        BounceEvent(BounceKind.SOFT, BOUNCED_SOFT, "4.2.2", "mailbox full", "t-soft",
                    delivery_id=delivery_id(BOUNCED_SOFT),
                    provider_message_id=queue_id(BOUNCED_SOFT), source="postmark"),
        BounceEvent(BounceKind.COMPLAINT, COMPLAINED, None, "abuse report", "t-complaint",
                    delivery_id=delivery_id(COMPLAINED),
                    provider_message_id=queue_id(COMPLAINED), source="postmark"),
    ]  # fmt: skip
    BounceProcessor(settings, store, clock=clock).process_events(events)
    clock.advance(minutes=5)
    Subscribers(settings, store, clock).erase(ERASED, by=ADMIN)
