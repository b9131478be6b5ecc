"""What the accounts record in the audit log: account changes and log-ins.

One seam: every change and log-in of this package goes through ``record``: an entry in
the audit log (``pipeline.audit``, target ``("account", EMAIL)``) and a log line.
"""

from __future__ import annotations

import logging

from pipeline import audit
from pipeline.access import Actor
from pipeline.clock import Clock
from pipeline.store import Store

log = logging.getLogger("pipeline.accounts")


def record(
    store: Store,
    actor: Actor,
    action: str,
    *,
    account: str,
    summary: str = "",
    clock: Clock,
) -> None:
    """One entry: ``actor`` did ``action`` ("add", "set_role", "login", …) to ``account``."""
    audit.record(
        store,
        actor,
        action,
        target=("account", account.strip().lower()),
        summary=summary,
        clock=clock,
    )
    log.info(
        "account %s: %s",
        action,
        summary or account,
        extra={
            "actor": actor.email,
            "channel": actor.channel,
            "ip": actor.address,
            "account": account,
        },
    )
