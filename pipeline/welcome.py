"""The welcome mail of a list, recorded once per person and list.

    queue_welcome(settings, store, subscriber_id, list_name, clock=..., secret=...)
      ├─ nothing when the list names no welcome template, or the person is not active
      │    on it, or the address is suppressed
      ├─ render.render_welcome + deliver.MessageBuilder (once per list and language:
      │    ``Welcomes`` keeps them): the whole mail, with the list's unsubscribe headers
      └─ deliver.enqueue_once: recorded in the system mail outbox under the key
           ``welcome:SUBSCRIBER:LIST``; a second call (a second confirmation, the same
           import again, another process) finds the key taken and records nothing

Called after a double opt-in confirmation (``pipeline.signup``) and after an import
flagged as new (``pipeline.subscribers``); both sit above this module and beside each
other, which is why it is a module of its own. Nothing is sent here: whoever drains the
outbox does (the web app's worker, the daemon's ``mail`` job, ``rundbrief mail drain``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.audience import (
    is_receiving,
    preferences_url,
    subscriber_record,
    unsubscribe_url,
)
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import MessageBuilder, enqueue_once
from pipeline.models import Recipient, RenderedMailing
from pipeline.render import Personalisation, render_welcome, salutation_for
from pipeline.store import Store

__all__ = ["Welcomes", "once_key", "queue_welcome"]

log = logging.getLogger(__name__)


def once_key(subscriber_id: int, list_name: str) -> str:
    """The key under which a person's welcome to a list may exist once."""
    return f"welcome:{subscriber_id}:{list_name}"


@dataclass
class Welcomes:
    """Records welcome mails, rendering each list's mail once per language (an import
    welcomes thousands with a few renders)."""

    settings: Settings
    store: Store
    clock: Clock
    secret: str
    _rendered: dict[tuple[str, str], RenderedMailing] = field(default_factory=dict)
    # the parts common to all recipients, once per list and language (as a send does)
    _builders: dict[tuple[str, str], MessageBuilder] = field(default_factory=dict)

    def check(self, list_names: Iterable[str]) -> None:
        """Render the welcome of each list that names one, in each language, before an
        import commits: a missing or broken template stops it there (``RenderError``),
        not after the people were subscribed."""
        for name in list_names:
            if self.settings.list_named(name).welcome:
                for language in ("de", "en"):
                    self._render(name, language)

    def _render(self, list_name: str, language: str) -> RenderedMailing:
        key = (list_name, language)
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._rendered[key] = render_welcome(
                self.settings, language=language, list_name=list_name
            )
        return rendered

    def _builder(self, list_name: str, language: str) -> MessageBuilder:
        key = (list_name, language)
        builder = self._builders.get(key)
        if builder is None:
            # Made by the system, not written to this person (as ``single_message``);
            # the list's name gives it List-Unsubscribe with one click.
            builder = self._builders[key] = MessageBuilder(
                self.settings,
                self._render(list_name, language),
                list_name=list_name,
                secret=self.secret,
                clock=self.clock,
                wants_parts=True,
                auto_submitted=True,
            )
        return builder

    def queue(self, subscriber_id: int, list_name: str) -> int | None:
        """Record the welcome of ``subscriber_id`` to ``list_name``: the system mail id,
        or None when none is due (no template, not active, recorded before). Raises
        ``RenderError`` naming the list when its template is missing or broken."""
        mailing_list = self.settings.list_named(list_name)
        if not mailing_list.welcome:
            return None
        found = subscriber_record(self.store, subscriber_id)
        if found is None:
            return None
        person = found.subscriber
        if not is_receiving(self.store, person.email, list_name):
            return None  # pending, unsubscribed, or an operator's suppression stands
        language = person.language if person.language in ("de", "en") else ""
        language = language or self.settings.organisation.language
        builder = self._builder(list_name, language)
        recipient = Recipient(
            subscriber_id=person.id,
            email=person.email,
            list_name=list_name,
            first_name=person.first_name,
            last_name=person.last_name,
            salutation=person.salutation,
            title=person.title,
            language=language,
        )
        personal = Personalisation(
            salutation=salutation_for(self.settings, recipient, language=language),
            first_name=person.first_name,
            last_name=person.last_name,
            email=person.email,
            unsubscribe_url=unsubscribe_url(self.settings, self.secret, person.id, list_name),
            preferences_url=preferences_url(self.settings, self.secret, person.id, list_name),
        )
        name = " ".join(p for p in (person.first_name, person.last_name) if p)
        message = builder.build_personal(person.email, name, personal, delivery_id=None)
        mail_id = enqueue_once(
            self.store,
            once_key=once_key(person.id, list_name),
            kind="welcome",
            message=message,
            clock=self.clock,
            subscriber_id=person.id,
            list_name=list_name,
        )
        if mail_id is not None:
            log.info("welcome mail recorded", extra={"list": list_name, "subscriber": person.id})
        return mail_id

    def queue_all(self, joined: Iterable[tuple[int, str]]) -> int:
        """Record the welcomes of ``(subscriber id, list)`` pairs; how many were new."""
        return sum(1 for sid, name in joined if self.queue(sid, name) is not None)


def queue_welcome(
    settings: Settings,
    store: Store,
    subscriber_id: int,
    list_name: str,
    *,
    clock: Clock,
    secret: str,
) -> int | None:
    """Record one person's welcome to a list (see ``Welcomes.queue``)."""
    return Welcomes(settings, store, clock, secret).queue(subscriber_id, list_name)
