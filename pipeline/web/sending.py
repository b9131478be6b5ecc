"""Sending on the mailing's page: what its facts say about where it goes.

``sending_context(mailing)`` is the template context the mailing page gets from here
(``editor._mailing_page``): the lists by their configured title, never the internal name.
"""

from __future__ import annotations

from typing import Any

from pipeline.errors import ConfigError
from pipeline.mailings import Workflow, numbers
from pipeline.models import Mailing, MailingStatus
from pipeline.web.context import deps


def list_titles(mailing: Mailing) -> list[str]:
    """The lists' titles as ``[[lists]] title`` names them (the name if a list is gone)."""
    settings = deps().settings
    titles = []
    for name in mailing.lists:
        try:
            titles.append(settings.list_named(name).title or name)
        except ConfigError:
            titles.append(name)
    return titles


def sending_context(mailing: Mailing) -> dict[str, Any]:
    started = mailing.status in (MailingStatus.SENDING, MailingStatus.PAUSED, MailingStatus.SENT)
    d = deps()
    published = mailing.status == MailingStatus.SENT and (
        Workflow(d.settings, d.store, d.clock).find_published(mailing.id) is not None
    )
    # "Jetzt senden": scheduled for a moment that has come, the daemon's next look sends it
    due_now = (
        mailing.status == MailingStatus.SCHEDULED
        and mailing.send_at is not None
        and mailing.send_at <= d.clock.now()
    )
    return {
        "archived": published,
        "due_now": due_now,
        "list_titles": list_titles(mailing),
        "numbers": numbers(deps().store, mailing.id) if started else None,
    }
