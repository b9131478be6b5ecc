"""Writing and reading the audit log; the rule that personal data stays out of it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pipeline.access import Action, Actor
from pipeline.clock import Clock
from pipeline.store import Store, Unit
from pipeline.store import audit as store_audit
from pipeline.store.audit import AuditEntry

log = logging.getLogger(__name__)

# What was acted on: (kind, id), kind one of mailing | subscriber | account | list | segment.
Target = tuple[str, int | str]

# Actions the role table does not gate but the log records.
PAUSE = "pause"
RESUME = "resume"
LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGOUT = "logout"

_SCRUBBED = "[erased]"


def record(
    store: Store,
    actor: Actor,
    action: Action | str,
    *,
    target: Target | None = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
    clock: Clock,
    conn: Unit | None = None,
) -> int:
    """Write one entry for ``actor`` doing ``action`` (to ``target``); its id.

    ``conn``: write inside that unit of work, so the entry and the change it describes
    are committed together.
    """
    kind, ident = target if target is not None else ("", "")
    return store_audit.insert_entry(
        store,
        at=clock.now(),
        actor_email=actor.email.strip().lower(),
        actor_role=str(actor.role),
        channel=actor.channel,
        address=actor.address or "",
        action=str(action),
        target_kind=kind,
        target_id=str(ident),
        summary=summary,
        details=dict(details or {}),
        conn=conn,
    )


def entries(
    store: Store,
    *,
    mailing: int | None = None,
    subscriber: int | None = None,
    account: str | None = None,
    user: str | None = None,
    since: datetime | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Entries, oldest first. ``mailing``/``subscriber``/``account``: about that target
    (several: about any of them); ``user``: done by that e-mail address; ``since``: at or
    after that instant; ``after``: with a higher id than that entry."""
    targets: list[tuple[str, str]] = []
    if mailing is not None:
        targets.append(("mailing", str(mailing)))
    if subscriber is not None:
        targets.append(("subscriber", str(subscriber)))
    if account is not None:
        targets.append(("account", account.strip().lower()))
    return store_audit.select_entries(
        store, targets=targets, actor_email=user, since=since, after=after, limit=limit
    )


def as_json(entry: AuditEntry) -> dict[str, Any]:
    """One entry as the CLI's ``--json`` and the API write it."""
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": {"email": entry.actor_email, "role": entry.actor_role},
        "channel": entry.channel,
        "address": entry.address,
        "action": entry.action,
        "target": (
            {"kind": entry.target_kind, "id": entry.target_id} if entry.target_kind else None
        ),
        "summary": entry.summary,
        "details": entry.details,
    }


def subscriber_ref(subscriber_id: int) -> str:
    """How an entry names a subscriber: by id, never by address."""
    return f"subscriber #{subscriber_id}"


def scrub_subscriber(store: Store, subscriber_id: int | None, addresses: Iterable[str]) -> int:
    """Remove ``addresses`` (the erased person's) from every entry; the number changed.
    ``subscriber_id`` (None: the address was no subscriber) names whom for the log line.

    The entries stay (who erased whom, and when, is itself on record); only the
    personal data goes.
    """
    needles = sorted({a.strip().lower() for a in addresses if a.strip()}, key=len, reverse=True)
    if not needles:
        return 0
    pattern = re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)
    changed = 0
    for entry in store_audit.entries_mentioning(store, needles):
        summary = pattern.sub(_SCRUBBED, entry.summary)
        details = _scrub_value(entry.details, pattern)
        if summary != entry.summary or details != entry.details:
            store_audit.rewrite_entry(
                store, entry.id, summary=summary, details=details, address=entry.address
            )
            changed += 1
    log.info("audit entries scrubbed", extra={"subscriber": subscriber_id, "entries": changed})
    return changed


def _scrub_value(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(_SCRUBBED, value)
    if isinstance(value, dict):
        return {_scrub_value(k, pattern): _scrub_value(v, pattern) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v, pattern) for v in value]
    return value
