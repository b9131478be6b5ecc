"""The audit log: who did what, when, from where, to which mailing, subscriber or account.

Public API:

- ``record(store, actor, action, *, target=(kind, id), summary="", details=None, clock)``
  writes one entry and returns its id. ``action`` is an ``access.Action`` value where
  there is one ("compose", "edit", "approve", …) or one of the names below for things
  the table does not gate ("pause", "resume", "login", …). ``target`` names what was
  acted on: ("mailing", 12), ("subscriber", 40), ("account", "anna@example.org"),
  ("list", "presse"), ("segment", "bayern_politik").
- ``entries(store, *, mailing=, subscriber=, user=, since=, after=, limit=)``: entries, oldest
  first (filters combine; ``user`` is the actor's e-mail address).
- ``scrub_subscriber(store, subscriber_id, addresses)``: erasure (DSGVO Art. 17) keeps
  the entries but removes the person's addresses from their summaries and details.
- ``as_json(entry)``: the entry as the CLI's ``--json`` and the API write it.
- ``AuditEntry``: the frozen entry.

Entries about a subscriber name them by id only (ids are never reused): never put the
address into a summary; ``subscriber_ref`` is the label to use instead.
"""

from __future__ import annotations

from pipeline.audit.log import (
    LOGIN,
    LOGIN_FAILED,
    LOGOUT,
    PAUSE,
    RESUME,
    Target,
    as_json,
    entries,
    record,
    scrub_subscriber,
    subscriber_ref,
)
from pipeline.store.audit import AuditEntry

__all__ = [
    "LOGIN",
    "LOGIN_FAILED",
    "LOGOUT",
    "PAUSE",
    "RESUME",
    "AuditEntry",
    "Target",
    "as_json",
    "entries",
    "record",
    "scrub_subscriber",
    "subscriber_ref",
]
