"""The preferences page's logic: which lists a person is on, in which language.

The signed ``/p/<token>`` link proves the person holds the mailbox (it came in a mail to
it), so ticking a list there is a confirmed opt-in: it is recorded with the same
evidence as a confirmation (time, IP, page, consent version). Unticking ends the
subscription as an unsubscribe does. Lists that do not take sign-ups (members) can be
left, and rejoined only if the person was on them before.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from pipeline.audience.optin import LANGUAGES, ConfirmationTask
from pipeline.audience.suppression import lift_for_optin, unsubscribe_in
from pipeline.clock import Clock
from pipeline.config import MailingList, Settings
from pipeline.errors import AudienceError
from pipeline.store import Store
from pipeline.store import audience as q


@dataclass(frozen=True)
class ListChoice:
    name: str
    title: str
    subscribed: bool  # active (or pending)
    pending: bool


@dataclass(frozen=True)
class Preferences:
    subscriber_id: int
    email: str
    language: str
    lists: tuple[ListChoice, ...]
    # double opt-in lists ticked now: pending until the mailed link is used
    confirming: tuple[ConfirmationTask, ...] = ()


def load_preferences(settings: Settings, store: Store, subscriber_id: int) -> Preferences | None:
    """What the page shows; None when the person is no longer in the store (erased)."""
    with store.connect() as conn:
        person = q.get_subscriber(conn, subscriber_id)
        if person is None:
            return None
        status = {s.list_name: s.status for s in q.subscriptions_of(conn, subscriber_id)}
    choices = tuple(
        ListChoice(
            m.name,
            m.title_in(person.language),
            status.get(m.name) in ("active", "pending"),
            status.get(m.name) == "pending",
        )
        for m in _offered(settings, status)
    )
    return Preferences(person.id, person.email, person.language, choices)


def save_preferences(
    settings: Settings,
    store: Store,
    subscriber_id: int,
    *,
    lists: Collection[str],
    language: str,
    ip: str,
    source: str,
    clock: Clock,
) -> Preferences:
    """Apply the form: tick = subscribe (with evidence), untick = unsubscribe."""
    if language not in LANGUAGES:
        raise AudienceError(f"unknown language {language!r}")
    now = clock.now()
    tasks: list[ConfirmationTask] = []
    with store.begin() as conn:
        person = q.get_subscriber(conn, subscriber_id)
        if person is None:
            raise AudienceError("this person is no longer subscribed")
        current = {s.list_name: s for s in q.subscriptions_of(conn, subscriber_id)}
        status = {name: s.status for name, s in current.items()}
        offered = {m.name for m in _offered(settings, status)}
        unknown = set(lists) - offered
        if unknown:
            raise AudienceError(f"unknown list {sorted(unknown)[0]!r}")
        if language != person.language:
            q.update_subscriber(conn, subscriber_id, {"language": language, "updated_at": now})
        leave = [n for n in offered if n not in lists and status.get(n) in ("active", "pending")]
        if leave:
            unsubscribe_in(
                conn, subscriber_id, person.email, leave, clock=clock, detail="preferences page"
            )
        by_name = {m.name: m for m in settings.lists}
        wanted = [n for n in lists if status.get(n) != "active"]
        # A list with double opt-in asks for its confirmation, as its sign-up form does.
        confirming = [by_name[n] for n in wanted if by_name[n].double_opt_in]
        join = [n for n in wanted if not by_name[n].double_opt_in]
        for mailing_list in confirming:
            if status.get(mailing_list.name) == "pending":
                continue
            previous = current.get(mailing_list.name)
            q.upsert_subscription(
                conn,
                subscriber_id,
                mailing_list.name,
                {
                    "status": "pending",
                    "source": f"preferences:{source}"[:2000],
                    "consent_version": settings.audience.consent_version,
                    "signup_at": now,
                    "signup_ip": ip,
                    "confirm_sent_at": None,
                    "confirmed_at": None,
                    "confirm_ip": None,
                    "unsubscribed_at": None,
                    "created_at": previous.created_at if previous else now,
                    "updated_at": now,
                },
            )
            tasks.append(ConfirmationTask(person.email, subscriber_id, mailing_list, language))
        for name in join:
            previous = current.get(name)
            q.upsert_subscription(
                conn,
                subscriber_id,
                name,
                {
                    "status": "active",
                    "source": f"preferences:{source}"[:2000],
                    "consent_version": settings.audience.consent_version,
                    "signup_at": now,
                    "signup_ip": ip,
                    "confirmed_at": now,
                    "confirm_ip": ip,
                    "unsubscribed_at": None,
                    "created_at": previous.created_at if previous else now,
                    "updated_at": now,
                },
            )
        if join:
            lift_for_optin(conn, person.email)
    found = load_preferences(settings, store, subscriber_id)
    assert found is not None
    return Preferences(found.subscriber_id, found.email, found.language, found.lists, tuple(tasks))


def _offered(settings: Settings, status: dict[str, str]) -> list[MailingList]:
    # Lists taking sign-ups, plus any other list the person has (or had) a place on.
    return [m for m in settings.lists if m.double_opt_in or m.name in status]
