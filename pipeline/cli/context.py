"""What every command shares: the settings, the store and the clock, opened lazily."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from pipeline.clock import Clock, SystemClock

if TYPE_CHECKING:
    from pipeline.access import Actor
    from pipeline.config import Settings
    from pipeline.store import Store


@dataclass
class AppContext:
    config_path: str | None = None
    as_email: str | None = None  # the global --as EMAIL
    clock: Clock = field(default_factory=SystemClock)
    _settings: Settings | None = None
    _store: Store | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            # Imported when used: --help and --version load no configuration library.
            from pipeline.config import load_settings
            from pipeline.deliver.providers import check as check_providers

            settings = load_settings(self.config_path)
            check_providers(settings)  # each provider's table, by its own rules
            self._settings = settings
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            from pipeline.store import Store

            settings = self.settings
            self._store = Store.open(
                settings.database_url(), busy_timeout=settings.storage.busy_timeout_seconds
            )
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def app_context(ctx: typer.Context) -> AppContext:
    """The shared context of a command (set by the global callback)."""
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # a command invoked without the callback
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj


# Who acts when nobody said so and no account exists yet: the shell that installed
# Rundbrief, so that `rundbrief users add` can make the first admin.
BOOTSTRAP = "cli@localhost"


def actor(ctx: typer.Context | AppContext) -> Actor:
    """Who this command acts as: ``--as EMAIL`` (or ``RUNDBRIEF_AS``) with that
    account's role; else the ``[accounts] operator``; else, while the store has no
    account at all, the local shell as admin (to add the first one)."""
    from pipeline.access import Actor, Role
    from pipeline.accounts import Accounts
    from pipeline.errors import AccountError

    state = ctx if isinstance(ctx, AppContext) else app_context(ctx)
    accounts = Accounts(state.store, state.settings, state.clock)
    email = (state.as_email or "").strip() or state.settings.accounts.operator.strip()
    if email:
        return accounts.actor_for(email, channel="cli")
    if accounts.count() == 0:
        return Actor(BOOTSTRAP, Role.ADMIN, "Local shell", None, "cli", "")
    raise AccountError("say who you are: rundbrief --as EMAIL … (or set RUNDBRIEF_AS)")


def viewer(ctx: typer.Context | AppContext) -> Actor:
    """Who looks (for the looks that take an actor, such as ``mailing log``): the named
    account as ``actor`` finds it, else the local shell with the least role, which
    ``view`` needs. Looking changes nothing and the shell can read the store anyway, so
    it needs no ``--as``, like ``mailing show``."""
    from pipeline.access import Actor, Role

    state = ctx if isinstance(ctx, AppContext) else app_context(ctx)
    if (state.as_email or "").strip() or state.settings.accounts.operator.strip():
        return actor(state)
    return Actor(BOOTSTRAP, Role.EDITOR, "Local shell", None, "cli", "")
