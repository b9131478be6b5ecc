"""Who may do what: roles, the actor of an operation, and the one role × action table.

Every operation of the workflow layer (``pipeline.mailings``, the accounts, the
audience operations) is done *by* an ``Actor``: a named account acting through one
channel (web, CLI, API, daemon). The adapters build the actor (the logged-in account,
``--as EMAIL``, the bearer token's owner, the configured operator account) and the
workflow asks ``require(actor, action)`` before it acts, so the rule has one home and
no adapter can skip it.

Roles are ordered: ``editor`` < ``approver`` < ``admin``; each may do what the one
below may, and more. Rules that depend on the mailing as well as the role (the
four-eyes rule of press releases) are the approval policy's
(``pipeline.mailings.policy``), asked after this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pipeline.errors import PermissionDenied


class Role(StrEnum):
    EDITOR = "editor"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.EDITOR: 1, Role.APPROVER: 2, Role.ADMIN: 3}


class Action(StrEnum):
    """Everything an account can be allowed or refused."""

    # editor
    VIEW = "view"  # mailings, items, subscribers, statistics, the audit log
    COMPOSE = "compose"
    EDIT = "edit"  # text, items, send time, re-render
    PREVIEW = "preview"
    TEST_COPY = "test_copy"
    IMPORT = "import"  # subscribers from CSV
    UNSUBSCRIBE = "unsubscribe"  # a subscriber, by an editor
    # approver
    APPROVE = "approve"
    SCHEDULE = "schedule"
    SEND = "send"  # send now, pause, resume
    CANCEL = "cancel"
    SUPPRESS = "suppress"
    EXPORT = "export"  # a subscriber's data (DSGVO Art. 15)
    # admin
    ERASE = "erase"  # a subscriber (DSGVO Art. 17)
    MANAGE_ACCOUNTS = "manage_accounts"  # add, set role, disable, others' passwords/tokens
    MANAGE_LISTS = "manage_lists"


# The least role an action needs. One table: the web pages, the CLI, the API and the
# daemon all ask it through ``require``.
LEAST_ROLE: dict[Action, Role] = {
    Action.VIEW: Role.EDITOR,
    Action.COMPOSE: Role.EDITOR,
    Action.EDIT: Role.EDITOR,
    Action.PREVIEW: Role.EDITOR,
    Action.TEST_COPY: Role.EDITOR,
    Action.IMPORT: Role.EDITOR,
    Action.UNSUBSCRIBE: Role.EDITOR,
    Action.APPROVE: Role.APPROVER,
    Action.SCHEDULE: Role.APPROVER,
    Action.SEND: Role.APPROVER,
    Action.CANCEL: Role.APPROVER,
    Action.SUPPRESS: Role.APPROVER,
    Action.EXPORT: Role.APPROVER,
    Action.ERASE: Role.ADMIN,
    Action.MANAGE_ACCOUNTS: Role.ADMIN,
    Action.MANAGE_LISTS: Role.ADMIN,
}

Channel = str  # "web" | "cli" | "api" | "daemon"


@dataclass(frozen=True)
class Actor:
    """Who does an operation: ``email`` names the account (the audit log's "who"),
    ``channel`` and ``address`` (client IP, or "" for the CLI and the daemon) where from."""

    email: str
    role: Role
    name: str = ""
    account_id: int | None = None
    channel: Channel = "cli"
    address: str = ""

    @property
    def label(self) -> str:
        """How the actor is shown: the display name, else the address."""
        return self.name or self.email


def allowed(actor: Actor, action: Action) -> bool:
    return actor.role.rank >= LEAST_ROLE[action].rank


def require(actor: Actor, action: Action) -> None:
    """Raise ``PermissionDenied`` unless ``actor``'s role allows ``action``."""
    if not allowed(actor, action):
        needed = LEAST_ROLE[action]
        raise PermissionDenied(
            f"{actor.email} ({actor.role}) may not {action.value.replace('_', ' ')}: "
            f"that needs the role {needed} or higher",
            action=action.value,
            role=actor.role.value,
        )


def allowed_actions(role: Role) -> tuple[Action, ...]:
    """What ``role`` may do (the role × action matrix of the docs and the tests)."""
    return tuple(a for a, least in LEAST_ROLE.items() if role.rank >= least.rank)
