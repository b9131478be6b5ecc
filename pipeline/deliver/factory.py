"""Build the transport named in ``[delivery] transport``.

``smtp`` and ``maildir`` are modules of this package; every HTTP provider comes from the
registry (``deliver.providers.PROVIDERS``). A transport's module is imported only when
it is configured, so a provider's dependencies and wire format never load for the others.
Every transport is a context manager: ``with transport_from_settings(s) as t: ...``.
"""

from __future__ import annotations

from typing import cast

from pipeline.config import Settings
from pipeline.deliver import Transport
from pipeline.deliver.providers import PROVIDERS, load
from pipeline.errors import ConfigError

# "module:factory": the factory is a function or a class's ``from_settings``.
LOCAL = {
    "smtp": "pipeline.deliver.smtp:from_settings",
    "maildir": "pipeline.deliver.maildir:from_settings",
}


def transport_from_settings(settings: Settings) -> Transport:
    """The configured transport, ready to send (connections are opened lazily)."""
    name = settings.delivery.transport
    entry = PROVIDERS.get(name)
    target = entry.transport if entry is not None else LOCAL.get(name)
    if target is None:
        raise ConfigError(f"{settings.source}: delivery.transport: unknown transport {name!r}")
    try:
        factory = load(target)
    except ModuleNotFoundError as exc:
        if exc.name is None or not target.startswith(exc.name):
            raise
        raise ConfigError(
            f"{settings.source}: delivery.transport: {name!r} is not available in this version"
        ) from exc
    return cast(Transport, factory(settings))
