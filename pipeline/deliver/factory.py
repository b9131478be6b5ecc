"""Build the transport named in ``[delivery] transport``.

Each transport lives in its own module and exposes ``from_settings(settings)`` (a function or a
classmethod of its transport class); the
module is imported only when it is configured, so a provider's dependencies and wire
format never load for the others.
"""

from __future__ import annotations

import importlib
from typing import Any, cast

from pipeline.config import Settings
from pipeline.deliver import Transport
from pipeline.errors import ConfigError

# "module:factory": the factory is a function or a class's ``from_settings``.
MODULES = {
    "smtp": "pipeline.deliver.smtp:from_settings",
    "maildir": "pipeline.deliver.maildir:from_settings",
    # HTTP providers: one module each, with the provider's request shapes kept inside.
    "postmark": "pipeline.deliver.postmark:PostmarkTransport.from_settings",
    "mailgun": "pipeline.deliver.mailgun:MailgunTransport.from_settings",
    "sendgrid": "pipeline.deliver.sendgrid:SendgridTransport.from_settings",
    "brevo": "pipeline.deliver.brevo:BrevoTransport.from_settings",
}


def transport_from_settings(settings: Settings) -> Transport:
    """The configured transport, ready to send (connections are opened lazily)."""
    name = settings.delivery.transport
    target = MODULES.get(name)
    if target is None:
        raise ConfigError(f"{settings.source}: delivery.transport: unknown transport {name!r}")
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ConfigError(
            f"{settings.source}: delivery.transport: {name!r} is not available in this version"
        ) from exc
    factory: Any = module
    for part in attribute.split("."):
        factory = getattr(factory, part)
    return cast(Transport, factory(settings))
