"""Where a test copy may go: the rule that keeps Rundbrief from becoming a relay.

A test copy is the real message, sent to an address the acting person names; through
the web app or the API that is a form field anyone with an editor's password or token can
fill in. So copies go only to people of the organisation: the actor's own address, the
``[sender] editors`` and the addresses of active accounts (colleagues). One rule for the
web, the API and the CLI alike.
"""

from __future__ import annotations

from pipeline.access import Actor
from pipeline.config import Settings
from pipeline.errors import RecipientNotAllowed
from pipeline.store import Store
from pipeline.store import accounts as store_accounts


def allowed(settings: Settings, store: Store, by: Actor) -> list[str]:
    """The addresses ``by`` may send test copies to, own address first, without duplicates."""
    candidates = [by.email, *settings.sender.editors]
    candidates += [a.email for a in store_accounts.list_accounts(store) if a.active]
    out: dict[str, str] = {}
    for address in candidates:
        if "@" in address:
            out.setdefault(address.casefold(), address)
    return list(out.values())


def check(settings: Settings, store: Store, by: Actor, to: str) -> str:
    """``to`` as spelt in the allowed list, or ``RecipientNotAllowed`` (a ``PermissionDenied``) naming the rule."""
    for address in allowed(settings, store, by):
        if address.casefold() == to.strip().casefold():
            return address
    raise RecipientNotAllowed(
        f"test copies go only to the organisation's addresses (your own, [sender] editors, "
        f"active accounts), not to {to.strip()!r}: add it to [sender] editors to allow it",
        action="test_copy",
        role=by.role.value,
    )
