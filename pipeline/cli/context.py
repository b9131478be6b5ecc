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
    clock: Clock = field(default_factory=SystemClock)
    acting_as: str | None = None  # the global --as EMAIL
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


def actor(state: AppContext) -> Actor:
    """Who this command acts as: ``--as EMAIL`` (else the login name), through the CLI.

    The one place the CLI builds its actor. Until accounts exist every CLI user is an
    admin (whoever runs the command can read the store anyway); the accounts replace
    this with the account's real role.
    """
    from pipeline.access import Actor, Role

    email = (state.acting_as or "").strip() or _login()
    return Actor(email=email, role=Role.ADMIN, channel="cli")


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"
