"""A press release really sent to a small press list, then a follow-up of it, over SMTP
on loopback: for the follow-up tests of the workflow, the CLI, the web app and the API.

The original goes to the five journalists of ``press_record`` (one of them is refused by
the server, so that delivery fails); afterwards a new journalist joins the list, one
unsubscribes and one is suppressed. A follow-up must reach exactly the two left.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.smtp import SmtpTransport
from pipeline.mailings import Workflow
from pipeline.store import Store
from pipeline.subscribers import Subscribers
from tests.support.mail_items import add_item
from tests.support.press_record import ADMIN, APPROVER, EDITOR, JOURNALISTS, write_press_csv
from tests.support.smtp import MailSink, Received, SmtpServer

REFUSED = JOURNALISTS[0][0]  # the server refuses the original for this one: it failed
UNSUBSCRIBED = JOURNALISTS[1][0]  # unsubscribed from the press list after the original
SUPPRESSED = JOURNALISTS[2][0]  # suppressed after the original (a complaint elsewhere)
REACHED = (JOURNALISTS[3][0], JOURNALISTS[4][0])  # who a follow-up goes to
NEWCOMER = "n.neumann@abendblatt-nord.example"  # joined the list after the original

TITLE = "Bürgermeister*innen fordern ein Investitionsprogramm für Kommunen"


def refusing_sink() -> MailSink:
    """A server that refuses ``REFUSED`` for good (a policy refusal: no suppression)."""
    return MailSink(rcpt_reply=lambda a: "554 5.7.1 Rejected by policy" if a == REFUSED else None)


@dataclass
class Sent:
    """The original as it went out: its id and each recipient's Message-ID."""

    mailing_id: int
    message_ids: dict[str, str]


def transport(server: SmtpServer) -> SmtpTransport:
    return SmtpTransport(host=server.host, port=server.port, timeout=5)


def send(flow: Workflow, mailing_id: int, server: SmtpServer) -> None:
    smtp = transport(server)
    try:
        report = flow.send_now(mailing_id, transport=smtp, by=APPROVER)
    finally:
        smtp.close()
    assert report.status == "sent", report


def received_for(server: SmtpServer, mailing_id: int) -> dict[str, Received]:
    """What the server got of one mailing, by recipient (its Message-IDs name it)."""
    out = {}
    for received in server.sink.messages:
        if f"<rb.{mailing_id}." in received.message["Message-ID"]:
            out[received.rcpt_tos[0]] = received
    return out


def send_original(
    settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    *,
    embargo: datetime | None = None,
) -> Sent:
    """Import the press list, compose, approve and send the release (under ``embargo``)."""
    Subscribers(settings, store, clock).import_csv(
        write_press_csv(tmp_path / "presse.csv"), by=ADMIN, list_name="press"
    )
    item = add_item(
        store, title=TITLE, kind="press_release", published_at=clock.now() - timedelta(hours=1)
    )
    flow = Workflow(settings, store, clock)
    mailing = flow.compose_press(item, by=EDITOR, embargo=embargo)
    flow.approve(mailing.id, by=APPROVER)
    clock.advance(minutes=2)
    send(flow, mailing.id, server)
    got = received_for(server, mailing.id)
    assert REFUSED not in got and len(got) == len(JOURNALISTS) - 1
    return Sent(mailing.id, {a: r.message["Message-ID"] for a, r in got.items()})


def change_the_list(settings: Settings, store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """After the original: a newcomer joins, one journalist leaves, one is suppressed."""
    clock.advance(minutes=10)
    people = Subscribers(settings, store, clock)
    newcomer = tmp_path / "neu.csv"
    newcomer.write_text(
        "email,salutation,first_name,last_name,outlet,beat,region\n"
        f"{NEWCOMER},Frau,Nina,Neumann,Abendblatt Nord,Kommunalpolitik,Hamburg\n",
        encoding="utf-8",
    )
    people.import_csv(newcomer, by=ADMIN, list_name="press")
    people.unsubscribe(UNSUBSCRIBED, ["press"], by=ADMIN)
    people.suppress(SUPPRESSED, "complaint", by=ADMIN, detail="Beschwerde beim Anbieter")
    clock.advance(minutes=10)


def delivered_follow_up(
    flow: Workflow, follow_up_id: int, server: SmtpServer
) -> Iterator[tuple[str, Received]]:
    """Approve (the second person) and send a follow-up; what the server got of it."""
    flow.approve(follow_up_id, by=APPROVER)
    send(flow, follow_up_id, server)
    yield from received_for(server, follow_up_id).items()
