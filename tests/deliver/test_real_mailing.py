"""A newsletter composed and rendered by the real pipeline, sent through the Maildir
transport, every file parsed; the same message scored by SpamAssassin."""

from __future__ import annotations

import mailbox
import re
import shutil
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.deliver.maildir import MaildirTransport
from pipeline.deliver.outbox import send_mailing
from pipeline.mailings.compose import compose_newsletter
from pipeline.store import Store
from tests.deliver.support import add_subscribers
from tests.support.mail_items import add_items
from tests.support.mailings import approve
from tests.support.settings import make_settings


def newsletter(settings: Settings, store: Store, clock: FakeClock) -> int:
    add_items(store, clock.now(), count=5)
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    approve(store, mailing.id, clock=clock, by="redaktion", settings=settings)
    return mailing.id


def parsed(path: Path) -> EmailMessage:
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.fixture
def demo_settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path,
        sender={"unsubscribe_mailto": "abmelden@junge-buergermeister.example"},
        organisation={"privacy_url": "https://www.junge-buergermeister.example/datenschutz"},
    )


def test_real_newsletter_to_a_maildir(
    tmp_path: Path, demo_settings: Settings, store: Store, clock: FakeClock
) -> None:
    emails = add_subscribers(store, clock, 40)
    mailing_id = newsletter(demo_settings, store, clock)
    report = send_mailing(demo_settings, store, mailing_id, clock=clock)
    assert (report.sent, report.status) == (40, "sent")
    files = sorted((tmp_path / "outbox" / "new").iterdir())
    assert len(files) == 40
    assert not list((tmp_path / "outbox" / "tmp").iterdir())
    seen = set()
    for path in files:
        msg = parsed(path)
        (to,) = msg["To"].addresses
        seen.add(to.addr_spec)
        assert to.display_name.startswith(("Jürgen", "Anna-Lena"))
        assert msg["Message-ID"].endswith("@junge-buergermeister.example>")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html = msg.get_body(("html",))
        text = msg.get_body(("plain",))
        assert html is not None and text is not None
        unsub = re.search(r"<(https://[^>]+/u/[^>]+)>", msg["List-Unsubscribe"])
        assert unsub is not None
        assert unsub.group(1) in html.get_content()
        assert "⟦" not in html.get_content() and "⟦" not in text.get_content()
        for line in path.read_bytes().split(b"\n\n", 1)[1].split(b"\n"):
            assert len(line) <= 76
    assert seen == set(emails)
    # The stdlib reads the Maildir too (what a mail client would see).
    assert len(mailbox.Maildir(tmp_path / "outbox", create=False)) == 40


@pytest.mark.spamassassin
def test_spamassassin_score_is_low(
    tmp_path: Path, demo_settings: Settings, store: Store, clock: FakeClock
) -> None:
    if shutil.which("spamassassin") is None:
        pytest.skip("spamassassin is not installed (Debian package spamassassin)")
    add_subscribers(store, clock, 1)
    mailing_id = newsletter(demo_settings, store, clock)
    transport = MaildirTransport(tmp_path / "sa", fsync=False)
    send_mailing(demo_settings, store, mailing_id, clock=clock, transport=transport)
    (path,) = (tmp_path / "sa" / "new").iterdir()
    # Network tests off (-L), no Bayes: a score from the message alone. Never sa-update.
    proc = subprocess.run(
        ["spamassassin", "-L", "-t", "-x", "--cf=use_bayes 0"],
        input=path.read_bytes().replace(b"\n", b"\r\n"),
        capture_output=True,
        timeout=120,
    )
    if b"X-Spam-Status" not in proc.stdout:
        pytest.skip(f"spamassassin did not run: {proc.stderr.decode()[-300:]}")
    status = message_from_bytes(proc.stdout, policy=policy.default)["X-Spam-Status"]
    score = float(re.search(r"score=(-?[\d.]+)", " ".join(str(status).split())).group(1))  # type: ignore[union-attr]
    print(f"\nSpamAssassin: {' '.join(str(status).split())}")
    assert score < 2.0, status
