"""The sign-up workflow: record the sign-up, then render and record its confirmation mail.

    sign_up(settings, store, request, clock=..., secret=...)
      ├─ audience.record_signup: rate limit, address policy, pending subscription
      │    with its evidence (or nothing to mail: already active, suppressed)
      ├─ render.render_confirmation + deliver.single_message: the whole mail
      └─ deliver.enqueue: recorded in the system mail outbox; nothing is sent here

The caller answers at once and wakes whoever drains the outbox (the web app's worker,
else the daemon's ``mail`` job within a minute). Where nothing is to be mailed the same
rendering is done and thrown away, so the answer takes about as long whether the
address was known or not.

This sits above audience, render and deliver, which is why it is not in ``audience``
(the stage that keeps subscribers must not depend on rendering or sending).
"""

from __future__ import annotations

from pipeline.audience import (
    ConfirmationTask,
    Signup,
    SignupOutcome,
    confirm_url,
    preferences_url,
    record_signup,
    unsubscribe_url,
)
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import OutgoingMessage, enqueue, single_message
from pipeline.render import Personalisation, render_confirmation
from pipeline.store import Store

__all__ = ["confirmation_message", "sign_up"]


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
