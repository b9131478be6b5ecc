"""The shared log-in of before issue 12 becomes the first admin account.

If ``[web] editor_user_env`` and ``editor_password_env`` are both set and the store has
no account yet, ``adopt`` creates an admin with that password: its address is the
user name if it has an @, else ``USER@`` the sender's domain. From then on the
variables are not read for logging in; ``warning`` says so (the log, ``rundbrief check``).
"""

from __future__ import annotations

import logging

from pipeline.access import Role
from pipeline.accounts import passwords
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store import accounts as q

log = logging.getLogger("pipeline.accounts")


def _env_account(settings: Settings) -> tuple[str, str]:
    secrets = settings.secrets
    return secrets.get("web.editor_user_env"), secrets.get("web.editor_password_env")


def legacy_email(settings: Settings, user: str) -> str:
    user = user.strip()
    return user if "@" in user else f"{user}@{settings.sender.message_domain}"


def adopt(store: Store, settings: Settings, clock: Clock) -> str | None:
    """Make the environment's account the first admin (once); its address, if made."""
    user, password = _env_account(settings)
    if not (user and password) or q.count_accounts(store):
        return None
    email = legacy_email(settings, user)
    row = q.create_account(
        store,
        email=email,
        name=user if "@" not in user else "",
        role=Role.ADMIN.value,
        password_hash=passwords.hash_password(password),
        at=clock.now(),
    )
    if row is None:  # another worker was first
        return None
    log.warning(
        "the shared editor login became the admin account %s: log in with that address; "
        "%s and %s are no longer needed",
        email,
        settings.web.editor_user_env,
        settings.web.editor_password_env,
        extra={"account": email},
    )
    return email


def warning(store: Store, settings: Settings) -> str | None:
    """A finding for ``check`` when the old variables are still set next to accounts."""
    user, password = _env_account(settings)
    if not (user or password) or not q.count_accounts(store):
        return None
    return (
        f"{settings.web.editor_user_env}/{settings.web.editor_password_env} are set but no "
        "longer used: log-ins use the accounts (`rundbrief users list`); remove the variables"
    )
