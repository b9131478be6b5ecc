"""Issue 13, item 2: follow-ups (correction, update, lift, withdrawal) of a press release go
to exactly the addresses the original was delivered to, threaded under each person's
copy, through approval like any press release; a lift moves the original's embargo, a
withdrawal hides it in the archive; the distribution record names the follow-ups."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.audit import entries as audit_entries
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ApprovalRefused, ComposeError
from pipeline.mailings import Workflow
from pipeline.models import FollowKind, MailingKind
from pipeline.store import Store
from tests.support.followups import (
    NEWCOMER,
    REACHED,
    REFUSED,
    SUPPRESSED,
    TITLE,
    UNSUBSCRIBED,
    change_the_list,
    delivered_follow_up,
    refusing_sink,
    send_original,
)
from tests.support.mail_items import add_item, seed_paragraphs
from tests.support.press_record import APPROVER, EDITOR, JOURNALISTS
from tests.support.smtp import SmtpServer, loopback_smtp

CORRECTION = (
    "Im dritten Absatz muss es richtig heißen: " + seed_paragraphs()[0][:200] + "\n\n"
    "Wir bitten, den Fehler zu entschuldigen."
)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    server = SmtpServer(refusing_sink()).start()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(settings_factory: object, server: SmtpServer) -> Settings:
    settings: Settings = settings_factory(  # type: ignore[operator]
        **loopback_smtp(server),
    )
    return settings


@pytest.fixture
def flow(smtp_settings: Settings, store: Store, clock: FakeClock) -> Workflow:
    return Workflow(smtp_settings, store, clock)


def _check_delivered_set(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    flow = Workflow(smtp_settings, store, clock)
    sent = send_original(smtp_settings, store, clock, tmp_path, server)
    change_the_list(smtp_settings, store, clock, tmp_path)
    follow_up = flow.compose_followup(sent.mailing_id, "correction", text_md=CORRECTION, by=EDITOR)
    assert (follow_up.kind, follow_up.follow_kind) == (MailingKind.PRESS, FollowKind.CORRECTION)
    assert follow_up.follows_id == sent.mailing_id
    got = dict(delivered_follow_up(flow, follow_up.id, server))
    # nobody new, nobody who left or was suppressed, nobody the original did not reach
    assert set(got) == set(REACHED)
    for gone in (NEWCOMER, UNSUBSCRIBED, SUPPRESSED, REFUSED):
        assert gone not in got
    for address, received in got.items():
        message = received.message
        original_id = sent.message_ids[address]
        assert message["In-Reply-To"] == original_id
        assert message["References"] == original_id
        assert message["Message-ID"] != original_id
        assert message["Subject"] == f"Berichtigung: {TITLE}"
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "Berichtigung zu unserer Pressemitteilung" in text
        assert "Wir bitten, den Fehler zu entschuldigen." in text
        archive = f"{smtp_settings.web.base_url}/archive/{sent.mailing_id}"
        assert archive in text and f'href="{archive}"' in html
    # the distribution record of the original names the follow-up for those it reached
    lines = {e.email: e for e in flow.distribution_record(sent.mailing_id, by=EDITOR)}
    assert {a for a, e in lines.items() if e.follow_ups == (follow_up.id,)} == set(REACHED)
    assert all(e.follow_ups == () for a, e in lines.items() if a not in REACHED)
    # the follow-up's own record: the two held back at the claim are marked suppressed
    own = {e.email: e.status for e in flow.distribution_record(follow_up.id, by=EDITOR)}
    assert own == {
        **dict.fromkeys(REACHED, "sent"),
        UNSUBSCRIBED: "suppressed",
        SUPPRESSED: "suppressed",
    }
    assert [f.id for f in flow.follow_ups(sent.mailing_id, sent_only=True)] == [follow_up.id]


def test_a_correction_reaches_exactly_the_delivered_set_threaded_per_recipient(
    smtp_settings: Settings, store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    _check_delivered_set(smtp_settings, store, clock, tmp_path, server)


def test_the_delivered_set_on_postgresql(
    smtp_settings: Settings, pg_store: Store, clock: FakeClock, tmp_path: Path, server: SmtpServer
) -> None:
    _check_delivered_set(smtp_settings, pg_store, clock, tmp_path, server)


def test_an_update_keeps_an_embargo_that_is_still_ahead(
    smtp_settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    flow: Workflow,
) -> None:
    embargo = clock.now() + timedelta(days=1)
    sent = send_original(smtp_settings, store, clock, tmp_path, server, embargo=embargo)
    update = flow.compose_followup(
        sent.mailing_id, FollowKind.UPDATE, text_md=CORRECTION, title="Neue Zahlen", by=EDITOR
    )
    assert update.embargo_at == embargo and update.subject == "Neue Zahlen"
    got = dict(delivered_follow_up(flow, update.id, server))
    subject = next(iter(got.values())).message["Subject"]
    assert subject.startswith("SPERRFRIST 20.6.2026") and "Aktualisierung: Neue Zahlen" in subject


def test_a_lift_moves_the_originals_embargo_to_its_send_instant(
    smtp_settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    flow: Workflow,
) -> None:
    embargo = datetime(2026, 6, 20, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
    sent = send_original(smtp_settings, store, clock, tmp_path, server, embargo=embargo)
    clock.advance(hours=2)
    lift = flow.compose_followup(sent.mailing_id, "lift", by=EDITOR)
    assert lift.embargo_at is None
    got = dict(delivered_follow_up(flow, lift.id, server))
    assert set(got) == {a for a, *_ in JOURNALISTS if a != REFUSED}
    message = next(iter(got.values())).message
    assert message["Subject"] == f"Sperrfrist aufgehoben: {TITLE}"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # the default text names the original and its embargo in the organisation's zone
    assert "Sperrfrist unserer Pressemitteilung" in text
    assert "20. Juni 2026, 10:00 Uhr (MESZ)" in " ".join(text.split())
    original = flow.get(sent.mailing_id)
    assert original.embargo_at == flow.get(lift.id).sent_at == clock.now()
    assert not original.under_embargo(clock.now())
    (entry,) = [e for e in audit_entries(store, mailing=sent.mailing_id) if "lifted" in e.summary]
    assert f"lifted by mailing {lift.id}" in entry.summary


def test_a_lift_after_the_embargo_is_refused(
    smtp_settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    flow: Workflow,
) -> None:
    embargo = clock.now() + timedelta(hours=1)
    sent = send_original(smtp_settings, store, clock, tmp_path, server, embargo=embargo)
    lift = flow.compose_followup(sent.mailing_id, "lift", by=EDITOR)
    clock.advance(hours=2)
    with pytest.raises(ComposeError, match="nothing to lift") as refused:
        flow.approve(lift.id, by=APPROVER)
    assert refused.value.field == "kind"
    with pytest.raises(ComposeError, match=r"ends 2026-06-19 11:00 \(Europe/Berlin\)"):
        flow.compose_followup(sent.mailing_id, "lift", by=EDITOR)
    no_embargo = send_original_again(smtp_settings, store, clock, server, flow)
    with pytest.raises(ComposeError, match="has no embargo to lift"):
        flow.compose_followup(no_embargo, "lift", by=EDITOR)


def send_original_again(
    settings: Settings, store: Store, clock: FakeClock, server: SmtpServer, flow: Workflow
) -> int:
    """A second release to the same list, without an embargo."""
    from tests.support.followups import send

    item = add_item(
        store, title="Zweite Mitteilung", kind="press_release", published_at=clock.now()
    )
    mailing = flow.compose_press(item, by=EDITOR)
    flow.approve(mailing.id, by=APPROVER)
    send(flow, mailing.id, server)
    return mailing.id


def test_refusals_name_what_is_wrong(
    smtp_settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    flow: Workflow,
) -> None:
    sent = send_original(smtp_settings, store, clock, tmp_path, server)
    with pytest.raises(ComposeError, match="needs a text") as no_text:
        flow.compose_followup(sent.mailing_id, "correction", by=EDITOR)
    assert no_text.value.field == "text"
    with pytest.raises(ComposeError, match="not one of correction, update, lift, withdraw"):
        flow.compose_followup(sent.mailing_id, "erratum", text_md=CORRECTION, by=EDITOR)
    # an original that went to nobody yet: a draft
    item = add_item(store, title="Entwurf", kind="press_release", published_at=clock.now())
    draft = flow.compose_press(item, by=EDITOR)
    with pytest.raises(ComposeError, match="was not delivered to anyone yet") as unsent:
        flow.compose_followup(draft.id, "correction", text_md=CORRECTION, by=EDITOR)
    assert unsent.value.field == "original"
    # a newsletter
    from tests.support.mail_items import add_items

    add_items(store, clock.now())
    newsletter = flow.compose_newsletter(by=EDITOR)
    assert newsletter is not None
    with pytest.raises(ComposeError, match="is a newsletter"):
        flow.compose_followup(newsletter.id, "correction", text_md=CORRECTION, by=EDITOR)
    # a follow-up of a follow-up: write it for the original
    correction = flow.compose_followup(sent.mailing_id, "correction", text_md="Text", by=EDITOR)
    with pytest.raises(
        ComposeError, match=f"itself a follow-up of press release {sent.mailing_id}"
    ):
        flow.compose_followup(correction.id, "update", text_md=CORRECTION, by=EDITOR)
    with pytest.raises(ComposeError, match="no such mailing"):
        flow.compose_followup(9999, "correction", text_md=CORRECTION, by=EDITOR)


def test_four_eyes_a_follow_up_needs_a_second_person(
    smtp_settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    flow: Workflow,
) -> None:
    sent = send_original(smtp_settings, store, clock, tmp_path, server)
    follow_up = flow.compose_followup(sent.mailing_id, "withdraw", by=APPROVER)
    with pytest.raises(ApprovalRefused):
        flow.approve(follow_up.id, by=APPROVER)
    (entry,) = [e for e in audit_entries(store, mailing=follow_up.id) if e.action == "compose"]
    assert entry.summary.startswith(f"composed withdrawal {follow_up.id} of press release")
    assert entry.details["follows"] == sent.mailing_id


def test_after_a_withdrawal_nothing_follows(
    smtp_settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    flow: Workflow,
) -> None:
    sent = send_original(smtp_settings, store, clock, tmp_path, server)
    withdrawal = flow.compose_followup(sent.mailing_id, "withdraw", by=EDITOR)
    got = dict(delivered_follow_up(flow, withdrawal.id, server))
    message = next(iter(got.values())).message
    assert message["Subject"] == f"Rückzug: {TITLE}"
    text = " ".join(message.get_body(("plain",)).get_content().split())  # type: ignore[union-attr]
    assert "Wir ziehen unsere Pressemitteilung" in text
    assert flow.withdrawal(sent.mailing_id) == flow.get(withdrawal.id)
    with pytest.raises(ComposeError, match="was withdrawn"):
        flow.compose_followup(sent.mailing_id, "correction", text_md=CORRECTION, by=EDITOR)


def test_under_embargo_a_follow_up_does_not_link_to_the_page_that_answers_404(
    smtp_settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    flow: Workflow,
) -> None:
    embargo = clock.now() + timedelta(days=1)
    sent = send_original(smtp_settings, store, clock, tmp_path, server, embargo=embargo)
    correction = flow.compose_followup(sent.mailing_id, "correction", text_md=CORRECTION, by=EDITOR)
    got = dict(delivered_follow_up(flow, correction.id, server))
    message = next(iter(got.values())).message
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "*** Berichtigung ***" in text and "Sperrfrist:" in text
    assert f"/archive/{sent.mailing_id}" not in text


def test_a_follow_ups_lists_and_segment_stay_the_originals(
    smtp_settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    flow: Workflow,
) -> None:
    sent = send_original(smtp_settings, store, clock, tmp_path, server)
    update = flow.compose_followup(sent.mailing_id, "update", text_md=CORRECTION, by=EDITOR)
    with pytest.raises(ComposeError, match="its lists cannot be changed") as lists:
        flow.edit(update.id, lists=["members"], by=EDITOR)
    assert lists.value.field == "lists"
    with pytest.raises(ComposeError, match="its segment cannot be changed"):
        flow.edit(update.id, where='region = "Bayern"', by=EDITOR)
    edited = flow.edit(update.id, subject="Neue Zahlen", lists=["press"], by=EDITOR)
    assert edited.subject == "Neue Zahlen" and edited.lists == ("press",)


def test_an_erased_person_gets_no_follow_up_row_at_all(
    smtp_settings: Settings,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    server: SmtpServer,
    flow: Workflow,
) -> None:
    from pipeline.subscribers import Subscribers
    from tests.support.press_record import ADMIN

    sent = send_original(smtp_settings, store, clock, tmp_path, server)
    erased = REACHED[0]
    Subscribers(smtp_settings, store, clock).erase(erased, by=ADMIN)
    update = flow.compose_followup(sent.mailing_id, "update", text_md=CORRECTION, by=EDITOR)
    assert flow.overview(update.id).recipients == len(JOURNALISTS) - 2  # refused, erased
    got = dict(delivered_follow_up(flow, update.id, server))
    assert erased not in got and len(got) == len(JOURNALISTS) - 2
    lines = list(flow.distribution_record(update.id, by=EDITOR))
    assert len(lines) == len(got) and all(e.status == "sent" for e in lines)
