"""The sign-up workflow: record the sign-up, then render and record its confirmation mail.

    sign_up(settings, store, request, clock=..., secret=...)
      ├─ audience.record_signup: rate limit, address policy, pending subscription
      │    with its evidence (or nothing to mail: already active, suppressed)
      ├─ render.render_confirmation + deliver.single_message: the whole mail
      └─ deliver.enqueue: recorded in the system mail outbox; nothing is sent here

    confirm_signup(settings, store, token, ip=..., clock=..., secret=...)
      ├─ audience.confirm: the subscription becomes active (evidence kept)
      └─ welcome.queue_welcome: the list's welcome mail, recorded once per person
    resend_confirmation(settings, store, email, list_name, by=..., clock=..., secret=...)
      an admin sends the confirmation of a pending sign-up again (rate limited, audited)
    save_preferences_and_welcome(...): the preferences page; a list ticked there is a
      confirmed opt-in, so its welcome mail is recorded (once) as after a confirmation

The caller answers at once and wakes whoever drains the outbox (the web app's worker,
else the daemon's ``mail`` job within a minute). Where nothing is to be mailed the same
rendering is done and thrown away, so the answer takes about as long whether the
address was known or not.

This sits above audience, render and deliver, which is why it is not in ``audience``
(the stage that keeps subscribers must not depend on rendering or sending).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from pipeline import audit
from pipeline.access import Action, Actor, require
from pipeline.audience import (
    ConfirmationTask,
    Signup,
    SignupOutcome,
    confirm,
    confirm_url,
    preferences_url,
    record_signup,
    resend_task,
    save_preferences,
    subscriber_id,
    subscriber_record,
    unsubscribe_url,
)
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import OutgoingMessage, enqueue, single_message
from pipeline.errors import RenderError
from pipeline.render import Personalisation, render_confirmation
from pipeline.store import Store
from pipeline.welcome import Welcomes, queue_welcome

__all__ = [
    "ConfirmOutcome",
    "confirm_signup",
    "confirmation_message",
    "resend_confirmation",
    "save_preferences_and_welcome",
    "sign_up",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfirmOutcome:
    """A confirmation link used: as ``audience.Confirmed``, and the welcome mail recorded
    now (None: the list has none, it was recorded before, or the address is not mailed)."""

    email: str
    list_name: str
    already: bool
    mailable: bool
    welcome_id: int | None = None


def sign_up(
    settings: Settings, store: Store, request: Signup, *, clock: Clock, secret: str
) -> SignupOutcome:
    """Record a sign-up and its confirmation mail; ``action`` is ``queued`` when a mail
    was recorded. Raises what ``record_signup`` raises (rate limit, address, list)."""
    outcome, task = record_signup(settings, store, request, clock=clock)
    if task is None:
        # Same work as a real sign-up (the answer must not tell who is subscribed).
        decoy = ConfirmationTask(
            outcome.email,
            0,
            next(m for m in settings.lists if m.name == outcome.list_name),
            settings.organisation.language,
        )
        confirmation_message(settings, decoy, clock=clock, secret=secret)
        return outcome
    message = confirmation_message(settings, task, clock=clock, secret=secret)
    enqueue(
        store,
        kind="confirmation",
        message=message,
        clock=clock,
        subscriber_id=task.subscriber_id,
        list_name=task.mailing_list.name,
    )
    return SignupOutcome(outcome.email, outcome.list_name, "queued", task.subscriber_id)


def confirmation_message(
    settings: Settings, task: ConfirmationTask, *, clock: Clock, secret: str
) -> OutgoingMessage:
    """The confirmation mail of a recorded sign-up, complete (link signed now)."""
    mailing_list = task.mailing_list
    link = confirm_url(
        settings, secret, task.subscriber_id, mailing_list.name, issued_at=clock.now()
    )
    rendered = render_confirmation(
        settings, language=task.language, list_name=mailing_list.name, confirm_url=link
    )
    personal = Personalisation(
        salutation="",
        first_name="",
        last_name="",
        email=task.email,
        unsubscribe_url=unsubscribe_url(settings, secret, task.subscriber_id, mailing_list.name),
        preferences_url=preferences_url(settings, secret, task.subscriber_id, mailing_list.name),
    )
    # No list headers: this is the one mail a person asked for, not a mailing of the list.
    return single_message(
        settings, to=task.email, rendered=rendered, personal=personal, clock=clock
    )


def confirm_signup(
    settings: Settings, store: Store, token: str, *, ip: str, clock: Clock, secret: str
) -> ConfirmOutcome:
    """Activate the subscription a confirmation link names (``audience.confirm``, which
    raises ``TokenError``) and record the list's welcome mail once.

    The confirmation stands even when the welcome cannot be rendered (an operator's
    broken template; a missing one is refused at load): the person did everything
    right, the operator reads the log.
    """
    confirmed = confirm(settings, store, token, ip=ip, clock=clock, secret=secret)
    welcome_id = None
    # A link used again is no new subscription (the list may have got its welcome since).
    due = confirmed.mailable and not confirmed.already
    person = subscriber_id(store, confirmed.email) if due else None
    if person is not None:
        try:
            welcome_id = queue_welcome(
                settings, store, person, confirmed.list_name, clock=clock, secret=secret
            )
        except RenderError:
            log.exception("welcome mail not recorded", extra={"list": confirmed.list_name})
    return ConfirmOutcome(
        confirmed.email, confirmed.list_name, confirmed.already, confirmed.mailable, welcome_id
    )


def resend_confirmation(
    settings: Settings,
    store: Store,
    email: str,
    list_name: str,
    *,
    by: Actor,
    clock: Clock,
    secret: str,
) -> int:
    """Record the confirmation mail of a pending sign-up again, with a fresh link; its
    system mail id. An admin's operation (``MANAGE_LISTS``), in the audit log. Raises
    ``AudienceError`` (no pending sign-up, suppressed) and ``RateLimited`` (one per
    ``audience.resend_confirmation_minutes``); see ``audience.resend_task``."""
    require(by, Action.MANAGE_LISTS)
    task = resend_task(settings, store, email, list_name, now=clock.now())
    message = confirmation_message(settings, task, clock=clock, secret=secret)
    mail_id = enqueue(
        store,
        kind="confirmation",
        message=message,
        clock=clock,
        subscriber_id=task.subscriber_id,
        list_name=task.mailing_list.name,
    )
    audit.record(
        store,
        by,
        Action.MANAGE_LISTS,
        target=("subscriber", task.subscriber_id),
        summary=f"sent the confirmation of {audit.subscriber_ref(task.subscriber_id)} "
        f"on {task.mailing_list.name} again",
        details={"list": task.mailing_list.name, "system_mail": mail_id},
        clock=clock,
    )
    return mail_id


def save_preferences_and_welcome(
    settings: Settings,
    store: Store,
    person: int,
    *,
    lists: Collection[str],
    language: str,
    ip: str,
    source: str,
    clock: Clock,
    secret: str,
) -> int:
    """Apply the preferences form (``audience.save_preferences``, which raises
    ``AudienceError``), then record the welcome of each list it made active; how many
    were recorded. A broken template is logged, the saved choice stands."""
    before = _active_lists(store, person)
    saved = save_preferences(
        settings,
        store,
        person,
        lists=lists,
        language=language,
        ip=ip,
        source=source,
        clock=clock,
    )
    for task in saved.confirming:
        message = confirmation_message(settings, task, clock=clock, secret=secret)
        enqueue(
            store,
            kind="confirmation",
            message=message,
            clock=clock,
            subscriber_id=task.subscriber_id,
            list_name=task.mailing_list.name,
        )
    joined = [(person, name) for name in sorted(_active_lists(store, person) - before)]
    try:
        return len(saved.confirming) + Welcomes(settings, store, clock, secret).queue_all(joined)
    except RenderError:
        log.exception("welcome mail not recorded", extra={"subscriber": person})
        return 0


def _active_lists(store: Store, person: int) -> set[str]:
    found = subscriber_record(store, person)
    if found is None:
        return set()
    return {s.list_name for s in found.subscriptions if s.status == "active"}
