"""The Sperrfrist apart from the send time (issue 13, item 1): a press release goes out
at its send time (now, or a time) and may be published from its embargo on, which is
never before the send time; past times are refused with the times in local words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline import audit
from pipeline.access import Actor, Role
from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import ComposeError
from pipeline.mailings import Workflow, WrittenRelease
from pipeline.models import MailingStatus
from pipeline.store import Store
from pipeline.store import items as store_items
from tests.support.mail_items import add_item, seed_paragraphs

ANNA = Actor("anna@junge-buergermeister.example", Role.EDITOR)
BERND = Actor("bernd@junge-buergermeister.example", Role.APPROVER)
# The fixture clock: Friday 19 June 2026, 08:00 UTC = 10:00 in Berlin (CEST).
NOON = datetime(2026, 6, 19, 10, 0, tzinfo=UTC)  # 12:00 in Berlin
TWO = datetime(2026, 6, 19, 12, 0, tzinfo=UTC)  # 14:00 in Berlin


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", "test-secret-for-signing-links-0123456789")


@pytest.fixture
def flow(settings: Settings, store: Store, clock: FakeClock) -> Workflow:
    return Workflow(settings, store, clock)


@pytest.fixture
def item(store: Store, clock: FakeClock) -> int:
    return add_item(
        store,
        title="Junge Bürgermeister*innen fordern ein Investitionsprogramm",
        kind="press_release",
        published_at=clock.now() - timedelta(hours=1),
    )


def test_send_time_and_embargo_are_kept_apart(flow: Workflow, item: int) -> None:
    mailing = flow.compose_press(item, by=ANNA, send_at=NOON, embargo=TWO)
    assert (mailing.send_at, mailing.embargo_at) == (NOON, TWO)
    again = flow.get(mailing.id)
    assert (again.send_at, again.embargo_at) == (NOON, TWO)


def test_an_embargo_alone_goes_out_on_approval_before_it(
    flow: Workflow, item: int, clock: FakeClock
) -> None:
    mailing = flow.compose_press(item, by=ANNA, embargo=TWO)
    assert mailing.send_at is None
    approved = flow.approve(mailing.id, by=BERND)
    # approved, not scheduled: it goes out now, hours before it may be published
    assert approved.status == MailingStatus.APPROVED
    flow.check_due(approved)  # no NotDueError
    assert approved.under_embargo(clock.now())
    clock.advance(hours=4)
    assert not approved.under_embargo(clock.now())


def test_a_send_time_without_an_embargo_stays_as_today(flow: Workflow, item: int) -> None:
    mailing = flow.compose_press(item, by=ANNA, send_at=NOON)
    assert mailing.embargo_at is None
    assert flow.approve(mailing.id, by=BERND).status == MailingStatus.SCHEDULED


def test_an_embargo_before_the_send_time_is_refused_in_local_time(
    flow: Workflow, item: int
) -> None:
    with pytest.raises(ComposeError) as refused:
        flow.compose_press(item, by=ANNA, send_at=TWO, embargo=NOON)
    assert refused.value.field == "embargo"
    message = str(refused.value)
    assert "2026-06-19 12:00" in message and "2026-06-19 14:00" in message
    assert "Europe/Berlin" in message and "before the send time" in message


@pytest.mark.parametrize(
    ("send_at", "embargo", "field"),
    [
        (datetime(2026, 6, 19, 7, 59, tzinfo=UTC), None, "send_at"),
        (None, datetime(2026, 6, 19, 7, 0, tzinfo=UTC), "embargo"),
        (None, datetime(2026, 6, 19, 8, 0, tzinfo=UTC), "embargo"),  # now is not ahead
        (datetime(2026, 6, 19, 12, 0), None, "send_at"),  # no zone
    ],
)
def test_past_times_are_refused_naming_the_field(
    flow: Workflow,
    item: int,
    send_at: datetime | None,
    embargo: datetime | None,
    field: str,
) -> None:
    with pytest.raises(ComposeError) as refused:
        flow.compose_press(item, by=ANNA, send_at=send_at, embargo=embargo)
    assert refused.value.field == field
    if embargo is not None and embargo.tzinfo is not None:
        assert "09:00" in str(refused.value) or "10:00" in str(refused.value)  # Berlin


def test_a_written_release_with_a_bad_time_leaves_no_item(
    flow: Workflow, store: Store, clock: FakeClock
) -> None:
    first = seed_paragraphs()[0]
    release = WrittenRelease(title="Förderfibel erschienen", text_md=first)
    with pytest.raises(ComposeError):
        flow.compose_press_text(release, by=ANNA, send_at=TWO, embargo=NOON)
    assert store_items.list_items(store, since=clock.now() - timedelta(days=30)) == []
    made = flow.compose_press_text(release, by=ANNA, send_at=NOON, embargo=TWO)
    assert (made.send_at, made.embargo_at) == (NOON, TWO)


def test_editing_one_time_is_checked_against_the_other(flow: Workflow, item: int) -> None:
    mailing = flow.compose_press(item, by=ANNA, send_at=NOON, embargo=TWO)
    with pytest.raises(ComposeError, match="before the send time"):
        flow.edit(mailing.id, by=ANNA, send_at=TWO + timedelta(minutes=1))
    with pytest.raises(ComposeError, match="before the send time"):
        flow.set_embargo(mailing.id, NOON - timedelta(minutes=1), by=ANNA)
    moved = flow.edit(mailing.id, by=ANNA, send_at=TWO)  # equal is fine: at the embargo
    assert moved.send_at == TWO
    lifted = flow.set_embargo(mailing.id, None, by=ANNA)
    assert (lifted.send_at, lifted.embargo_at) == (TWO, None)


def test_schedule_after_the_embargo_is_refused(flow: Workflow, item: int) -> None:
    mailing = flow.compose_press(item, by=ANNA, embargo=NOON)
    with pytest.raises(ComposeError, match="before the send time"):
        flow.schedule(mailing.id, TWO, by=BERND)
    assert flow.get(mailing.id).status == MailingStatus.DRAFT
    scheduled = flow.schedule(mailing.id, NOON - timedelta(hours=1), by=BERND)
    assert scheduled.status == MailingStatus.SCHEDULED


def test_an_embargo_that_passed_before_approval_is_refused(
    flow: Workflow, item: int, clock: FakeClock
) -> None:
    mailing = flow.compose_press(item, by=ANNA, embargo=NOON)
    clock.advance(hours=3)
    with pytest.raises(ComposeError, match="has passed") as refused:
        flow.approve(mailing.id, by=BERND)
    assert refused.value.field == "embargo" and "2026-06-19 12:00" in str(refused.value)


def test_a_newsletter_has_no_embargo(
    flow: Workflow, store: Store, clock: FakeClock, settings: Settings
) -> None:
    from tests.support.mail_items import add_items

    add_items(store, clock.now(), count=3)
    newsletter = flow.compose_newsletter(by=ANNA)
    assert newsletter is not None
    with pytest.raises(ComposeError, match="only a press release") as refused:
        flow.edit(newsletter.id, by=ANNA, embargo_at=TWO)
    assert refused.value.field == "embargo"


def test_the_audit_log_names_both_times_in_local_time(
    flow: Workflow, store: Store, item: int
) -> None:
    mailing = flow.compose_press(item, by=ANNA, send_at=NOON, embargo=TWO)
    flow.set_embargo(mailing.id, TWO + timedelta(hours=1), by=ANNA)
    summaries = [e.summary for e in audit.entries(store, mailing=mailing.id)]
    assert any("send time 2026-06-19 12:00, embargo 2026-06-19 14:00" in s for s in summaries)
    assert any("embargo 2026-06-19 14:00 → 2026-06-19 15:00" in s for s in summaries)
    assert not any("+00:00" in s for s in summaries)
