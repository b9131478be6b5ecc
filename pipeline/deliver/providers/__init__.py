"""The HTTP providers, each in one place, and the one registry that names them.

    providers/
      base.py        Provider (a registry entry), ProviderSettings and their validation
      http.py        what the transports share: HttpClient, status mapping, Retry-After
      webhooks.py    what the webhooks share: WebhookCall, Refusal, Replays, basic auth
      <name>/        __init__ (its settings and entry), transport.py, webhook.py

``pipeline.config`` keeps each ``[name]`` table as read; ``provider_settings`` validates
it with the provider's own settings class (``check`` does all of them once at start),
``deliver.factory`` builds the transport and ``POST /webhooks/<name>`` the webhook from
the entry here. (The configuration stays below this package: it imports nothing here.) This module and each ``<name>/__init__`` import nothing heavy: a
provider's HTTP client, wire format and crypto load only when it is used.

Public API (``pipeline.deliver.providers`` is a public sub-package: the web app's
webhook route and the settings check use it directly): ``PROVIDERS``, ``Provider``,
``ProviderSettings``, ``provider_settings``, ``settings_of``, ``check``, ``load``,
``webhook_of`` (a provider's webhook built from the settings) and the webhook protocol
``Webhook``, ``WebhookCall``, ``Replays``, ``SecretLookup``.

Adding a provider: a package with its settings dataclass, ``PROVIDER`` entry,
``transport.py`` and ``webhook.py``, and one line below.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, TypeVar

from pipeline.config import Settings
from pipeline.deliver.providers import brevo, mailgun, postmark, sendgrid
from pipeline.deliver.providers.base import Provider, ProviderSettings
from pipeline.deliver.providers.webhooks import Replays, SecretLookup, Webhook, WebhookCall
from pipeline.errors import ConfigError

PROVIDERS: Mapping[str, Provider] = {
    p.name: p for p in (postmark.PROVIDER, mailgun.PROVIDER, sendgrid.PROVIDER, brevo.PROVIDER)
}

_BY_CLASS = {p.settings: p.name for p in PROVIDERS.values()}
S = TypeVar("S", bound=ProviderSettings)

__all__ = [
    "PROVIDERS",
    "Provider",
    "ProviderSettings",
    "Replays",
    "SecretLookup",
    "Webhook",
    "WebhookCall",
    "check",
    "load",
    "provider_settings",
    "settings_of",
    "webhook_of",
]


def provider_settings(settings: Settings, name: str) -> ProviderSettings:
    """The ``[name]`` table validated by its provider (its defaults when absent); raises
    ``ConfigError`` naming the file and the key."""
    table = settings.providers.get(name, {})
    return PROVIDERS[name].settings.parse(table, source=settings.source, section=name)


def settings_of(settings: Settings, kind: type[S]) -> S:
    """A provider's own settings, typed: ``settings_of(settings, SendgridSettings)``."""
    found = provider_settings(settings, _BY_CLASS[kind])
    assert isinstance(found, kind)
    return found


def check(settings: Settings) -> None:
    """Validate every provider's table (at start, with the rest of the configuration)."""
    for name in PROVIDERS:
        provider_settings(settings, name)


def load(target: str) -> Any:
    """The object a ``"module:attribute.attribute"`` target names, imported now."""
    module_name, _, attribute = target.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found


def webhook_of(settings: Settings, name: str) -> Webhook:
    """Provider ``name``'s webhook with its configured secrets (the web route builds one
    per call; ``rundbrief check`` asks it whether it is configured)."""

    def secret(env_name: str, key: str) -> str | None:
        try:
            return settings.secret(env_name, key=key)
        except ConfigError:
            return None

    hook: Webhook = load(PROVIDERS[name].webhook)(provider_settings(settings, name), secret)
    return hook
